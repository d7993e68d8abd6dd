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
        let inspection = try Command.inspect(options)
        Output.findings(inspection.findings, split: false)
        let fixable = inspection.findings.filter { $0.severity == .fixable }.count
        if inspection.exitStatus == 0 {
            Output.line("nothing to fix")
        } else if fixable > 0 {
            Output.line("\(fixable) fix\(fixable == 1 ? "" : "es") pending: run `postfix-tls-fix\(Command.directoryArgument(options)) apply`")
        }
        throw ExitCode(inspection.exitStatus)
    }
}
