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

    func run() throws {
        try Command.forEachInstance(options, command: "check", run)
    }

    /// One configuration; returns the exit status.
    func run(_ options: GlobalOptions) throws -> Int32 {
        let output = Output(options)
        let fixOptions = options.fixOptions()
        let preview = try Command.preview(options, fixOptions, command: "check", output: output)
        if options.json {
            output.json(JSONReport(
                command: "check", location: options.location, postfixVersion: fixOptions.postfixVersion,
                preview: preview, includeDiffs: false
            ).encoded())
            return preview.exitStatus
        }
        let findings = preview.inspection.findings
        output.findings(findings, split: false)
        let fixable = findings.filter { $0.severity == .fixable }.count
        if preview.exitStatus == 0 {
            output.line("nothing to fix")
        } else if fixable > 0 {
            output.line("\(fixable) fix\(fixable == 1 ? "" : "es") pending: run `postfix-tls-fix\(Command.locationArguments(options)) apply`")
        }
        return preview.exitStatus
    }
}
