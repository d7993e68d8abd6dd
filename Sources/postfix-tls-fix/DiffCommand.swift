// DiffCommand.swift: `diff` shows exactly what apply would write, as a
// unified diff, and the indexes it would rebuild; writes nothing.

import ArgumentParser
import TLSPolicyFix

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show, as a unified diff, what apply would change (a dry run).",
        discussion: "Exit status: 0 nothing to change, 1 changes pending, 2 or more errors.")

    @ParentCommand var root: PostfixTLSFix
    @OptionGroup var ownOptions: GlobalOptions
    var options: GlobalOptions { ownOptions.merged(with: root.options) }

    func run() throws {
        let inspection = try Command.inspect(options)
        for finding in inspection.findings where finding.severity >= .manual {
            Output.error(finding.line)
        }
        Output.plan(inspection.plan, rebuildVerb: "would rebuild")
        if inspection.plan.reloadNeeded {
            Output.line("then: postfix reload (main.cf changes take effect only after a reload)")
        }
        throw ExitCode(inspection.exitStatus)
    }
}
