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

    @Flag(
        help: ArgumentHelp(
            "Count the findings per file instead of listing each one (for large tables); what needs a person is still listed."))
    var summary = false

    func run() throws {
        try Command.forEachInstance(options, command: "check", run)
    }

    /// One configuration; returns the exit status.
    func run(_ options: GlobalOptions) throws -> Int32 {
        let output = Output(options)
        let fixOptions = options.fixOptions()
        let preview = try Command.preview(options, fixOptions, command: "check", output: output)
        let findings = preview.inspection.findings
        let mail = Command.deferredMail(
            options.location, configuration: preview.configuration, findings: findings, fixOptions: fixOptions,
            mailLog: evidence.mailLog, output: output)
        if options.json {
            var report = JSONReport(
                command: "check", location: options.location, postfixVersion: fixOptions.postfixVersion,
                preview: preview, includeDiffs: false)
            if summary { report.keepOnlyFindings(atLeast: .manual) }
            report.deferredMail = mail.map { DeferredMailRecord($0, retryCommand: Command.retryCommand($0, directory: options.location.directory)) }
            output.json(report.encoded())
            return preview.exitStatus
        }
        output.findings(summary ? findings.filter { $0.severity >= .manual } : findings, split: false)
        let files = FileFindingCounts.of(findings)
        if summary || files.count > 1 { output.fileCounts(files) }
        output.deferredMail(mail, next: Command.retryHint(mail, options))
        output.line(Self.summary(findings, preview: preview, options: options))
        return preview.exitStatus
    }

    /// The last line: every kind counted, then what to do. apply is
    /// suggested with every option that changes what it writes, and only
    /// as it would run: after the errors are corrected, with --allow-path
    /// for files outside the configuration directory.
    static func summary(_ findings: [Finding], preview: Preview, options: GlobalOptions) -> String {
        func count(_ severity: Finding.Severity) -> Int { findings.filter { $0.severity == severity }.count }
        let (fixable, errors, manual, notes) = (count(.fixable), count(.error), count(.manual), count(.note))
        let noteCount = "\(notes) note\(notes == 1 ? "" : "s")"
        if preview.exitStatus == 0 { return notes == 0 ? "nothing to fix" : "nothing to fix; \(noteCount)" }
        var counts: [String] = []
        if fixable > 0 { counts.append("\(fixable) fix\(fixable == 1 ? "" : "es") pending") }
        if errors > 0 { counts.append("\(errors) error\(errors == 1 ? "" : "s")") }
        if manual > 0 { counts.append("\(manual) to fix by hand") }
        if notes > 0 { counts.append(noteCount) }
        let summary = counts.joined(separator: ", ")
        guard !preview.plan.isEmpty else { return summary }
        let outside = preview.targetsOutsideConfigurationDirectory
        let apply = Command.applyCommand(options, allowing: outside)
        if errors > 0 { return summary + "; apply refuses while errors stand: correct them by hand, then run `\(apply)`" }
        if !outside.isEmpty {
            return summary
                + ": apply writes \(outside.joined(separator: ", ")), outside \(preview.configuration.directory): review it, then run `\(apply)`"
        }
        return summary + ": run `\(apply)`"
    }
}
