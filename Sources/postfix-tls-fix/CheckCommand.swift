// CheckCommand.swift: `check` lists what needs fixing; writes nothing.

import ArgumentParser
import TLSPolicyFix

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "List every verify/secure policy without SNI, and stale or missing indexes.",
        discussion: "Exit status: 0 nothing to fix, 1 fixes pending, 2 or more errors.")

    @ParentCommand var root: PostfixTLSFix
    @OptionGroup var ownOptions: GlobalOptions
    var options: GlobalOptions { ownOptions.merged(with: root.options) }
    @OptionGroup var evidence: EvidenceOptions

    func run() throws {
        try Command.forEachInstance(options, command: "check", run)
    }

    /// One configuration; returns the exit status.
    func run(_ options: GlobalOptions) throws -> Int32 {
        let output = Output(options)
        let fixOptions = options.fixOptions()
        let preview = try Command.preview(options, fixOptions, command: "check", output: output)
        let mail = Command.deferredMail(preview.configuration, findings: preview.inspection.findings, fixOptions: fixOptions,
                                        mailLog: evidence.mailLog, output: output)
        if options.json {
            var report = JSONReport(
                command: "check", location: options.location, postfixVersion: fixOptions.postfixVersion,
                preview: preview, includeDiffs: false)
            report.deferredMail = mail.map { DeferredMailRecord($0, retryCommand: Command.retryCommand($0, directory: options.location.directory)) }
            output.json(report.encoded())
            return preview.exitStatus
        }
        let findings = preview.inspection.findings
        output.findings(findings, split: false)
        output.deferredMail(mail, next: Command.retryHint(mail, options))
        let fixable = findings.filter { $0.severity == .fixable }.count
        if preview.exitStatus == 0 {
            output.line("nothing to fix")
        } else if fixable > 0 {
            output.line("\(fixable) fix\(fixable == 1 ? "" : "es") pending: run `postfix-tls-fix\(Command.locationArguments(options)) apply`")
        }
        return preview.exitStatus
    }
}
