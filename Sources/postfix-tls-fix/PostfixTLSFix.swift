// PostfixTLSFix.swift: the command's entry point. The subcommands are thin:
// all logic is in the TLSPolicyFix library.

import ArgumentParser
import FileSafety
import TLSPolicyFix

#if canImport(Glibc)
import Glibc
#endif

@main
struct PostfixTLSFix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postfix-tls-fix",
        abstract: "Add SNI (servername=hostname) where Postfix verifies TLS certificates without it.",
        discussion: """
            Postfix sends no SNI unless told to (DANE aside). A server that picks its \
            certificate by SNI gives such a client a default certificate, and delivery \
            at the verify and secure levels then fails certificate verification. This \
            tool finds every verify/secure policy without servername in main.cf and the \
            tables named by smtp_tls_policy_maps and lmtp_tls_policy_maps, adds \
            servername=hostname there, and rebuilds the indexes.

            Exit status: check and diff exit 0 when nothing needs fixing, 1 when fixes \
            are pending, 2 on errors. apply exits 0 on success (also when there \
            was nothing to do), 2 on errors, with every file as it was, and 3 when it \
            stopped after replacing some files, which it names. probe \
            exits 0 when the destination verifies without SNI, 1 when it needs SNI, 2 \
            otherwise.

            With --format json, check, diff, apply and probe print one JSON document \
            (schemaVersion 1, described in the project's docs/json-schema.md) on \
            standard output; messages still go to standard error.
            """,
        version: ToolVersion.current,
        subcommands: [CheckCommand.self, DiffCommand.self, ApplyCommand.self, ProbeCommand.self]
    )

    /// Options given before the subcommand (`postfix-tls-fix -c DIR check`).
    @OptionGroup var options: GlobalOptions

    /// Process-wide state is set here, not in the libraries: writing to a
    /// closed pipe (`| head`, a program that exited) is an error to report,
    /// not a signal that ends the tool mid-write; and the soft limit on
    /// open files is raised to the hard one (see OpenFileLimit).
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        OpenFileLimit.raiseToHardLimit()
        main(nil)
    }
}
