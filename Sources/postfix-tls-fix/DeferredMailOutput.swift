// DeferredMailOutput.swift: the deferred mail waiting for the fixes, for
// check, diff and apply: --maillog, reading the evidence (a problem reading
// it is a warning; the fix stands without it), and its lines of text.

import ArgumentParser
import PostfixTools
import TLSPolicyFix

/// Options of the commands that show the mail waiting for the fixes.
struct EvidenceOptions: ParsableArguments {
    @Option(
        name: .customLong("maillog"),
        help: ArgumentHelp(
            "Also read recent certificate failures from this mail log (e.g. /var/log/mail.log, or maillog_file), for mail no longer queued.",
            valueName: "FILE"))
    var mailLog: String?
}

extension Command {
    /// The deferred mail waiting for `findings`' fixes: the queue when that
    /// Postfix runs, and --maillog. Problems become warnings.
    static func deferredMail(
        _ location: ConfigurationLocation, configuration: @autoclosure () -> Configuration?, findings: @autoclosure () -> [Finding],
        fixOptions: FixOptions, mailLog: String?, output: Output
    ) -> DeferredMail? {
        let (mail, problems) = Evidence.gather(
            location: location, configuration: configuration, findings: findings, options: fixOptions, mailLog: mailLog)
        for problem in problems { output.error("warning: \(problem)") }
        return mail
    }

    /// What check and diff suggest when queued messages wait: apply's retry.
    static func retryHint(_ mail: DeferredMail?, _ options: GlobalOptions) -> String? {
        guard let mail, !mail.queuedIDs.isEmpty else { return nil }
        return "`\(applyCommand(options, allowing: [])) --retry-deferred` delivers them after the fix"
    }

    /// The command that schedules the waiting queued messages; nil for none.
    static func retryCommand(_ mail: DeferredMail?, directory: String) -> String? {
        guard let mail, !mail.queuedIDs.isEmpty else { return nil }
        return PostQueue.scheduleCommand(queueIDs: mail.queuedIDs, configDirectory: directory)
    }
}

extension Output {
    /// One line per finding with mail waiting for it, then the summary and
    /// what to do next. Nothing at all when no mail waits, so the output of
    /// every other run stays as it was.
    func deferredMail(_ mail: DeferredMail?, next: String?) {
        guard let mail, let summary = mail.summary else { return }
        for waiting in mail.waiting {
            line("\(waiting.finding.location): \(waiting.finding.subject.map { "\($0): " } ?? "")\(waiting.sentence)")
        }
        line(summary + (next.map { "; \($0)" } ?? ""))
    }
}
