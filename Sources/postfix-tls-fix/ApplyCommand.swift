// ApplyCommand.swift: `apply` writes the fix atomically and rebuilds the
// indexes, then shows the diff of what it wrote.

import ArgumentParser
import TLSPolicyFix

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Add servername where it is missing and rebuild the indexes.",
        discussion: """
            Every file is written to a temporary file beside it, synced and renamed into \
            place; new indexes are read back before they replace the old ones. On any \
            error nothing is replaced. Exit status: 0 success (also when there was \
            nothing to do), 2 or more errors.
            """)

    @ParentCommand var root: PostfixTLSFix
    @OptionGroup var ownOptions: GlobalOptions
    var options: GlobalOptions { ownOptions.merged(with: root.options) }

    func run() throws {
        let report: ApplyReport
        do {
            report = try Fixer.apply(directory: options.directory, options: options.fixOptions())
        } catch {
            if case .refusedBecauseOfErrors(let findings) = error {
                Output.findings(findings, split: true)
            }
            Output.error(error.description)
            throw ExitCode(2)
        }
        let inspection = report.inspection
        Output.findings(inspection.findings.filter { $0.severity == .manual || $0.severity == .note }, split: true)
        if inspection.plan.isEmpty {
            Output.line("nothing to do")
            return
        }
        Output.plan(inspection.plan, rebuildVerb: "rebuilt")
        if report.reloadNeeded {
            Output.line("run `postfix reload` so that running Postfix daemons read the new main.cf")
        }
    }
}
