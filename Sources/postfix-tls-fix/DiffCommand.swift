// DiffCommand.swift: `diff` shows exactly what apply would write, as a
// unified diff, and the indexes it would rebuild; writes nothing.

import ArgumentParser
import TLSPolicyFix

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show, as a unified diff, what apply would change (a dry run).",
        discussion: "Exit status: 0 nothing to change (nothing printed), 1 a difference printed, 2 errors.")

    @ParentCommand var root: PostfixTLSFix
    @OptionGroup var ownOptions: GlobalOptions
    var options: GlobalOptions { ownOptions.merged(with: root.options) }
    @OptionGroup var evidence: EvidenceOptions

    func run() throws {
        try Command.forEachInstance(options, command: "diff", run)
    }

    /// One configuration; returns the exit status.
    func run(_ options: GlobalOptions) throws -> Int32 {
        let output = Output(options)
        let fixOptions = options.fixOptions()
        let preview = try Command.preview(options, fixOptions, command: "diff", output: output)
        let mail = Command.deferredMail(
            options.location, configuration: preview.configuration, findings: preview.inspection.findings, fixOptions: fixOptions,
            mailLog: evidence.mailLog, output: output)
        if options.json {
            var report = JSONReport(
                command: "diff", location: options.location, postfixVersion: fixOptions.postfixVersion,
                preview: preview, includeDiffs: true)
            report.deferredMail = mail.map { DeferredMailRecord($0, retryCommand: Command.retryCommand($0, directory: options.location.directory)) }
            output.json(report.encoded())
            return preview.diffExitStatus
        }
        output.findings(preview.inspection.findings { $0 >= .manual }, split: true)
        output.plan(preview.plan, rebuildVerb: "would rebuild")
        if preview.plan.reloadNeeded {
            output.line(
                "then: \(Command.reloadCommand(options)) (Postfix reads main.cf, master.cf and tables without an index only when it starts or reloads)"
            )
        }
        output.deferredMail(mail, next: Command.retryHint(mail, options))
        return preview.diffExitStatus
    }
}
