// ProbeCommand.swift: `probe DESTINATION` asks the server, through
// Postfix's own posttls-finger, which certificate it presents without SNI
// and with servername=hostname, and says whether the destination needs SNI.

import ArgumentParser
import PostfixTools
import TLSPolicyFix
import TerminalOutput

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show the certificate a destination presents with and without SNI, and whether it needs SNI.",
        discussion: """
            Runs posttls-finger(1) twice, without SNI (what Postfix sends by default) and \
            with -s hostname (what servername=hostname sends), at the verify level, \
            trusting what main.cf's smtp_tls_CAfile and smtp_tls_CApath trust. \
            Exit status: 0 verifies without SNI, 1 needs SNI (verifies only with it), \
            2 fails either way or no TLS session could be made. With --all, every verify and \
            secure destination of the configuration, a few at a time (--parallel), exiting \
            with the worst status.
            """)

    enum Level: String, ExpressibleByArgument, CaseIterable {
        case verify, secure
    }

    @ParentCommand var root: PostfixTLSFix
    /// Only the options that mean something to probe; those given before
    /// the subcommand's name still count.
    @OptionGroup var ownOptions: ConfigurationOptions
    var options: GlobalOptions {
        var merged = root.options
        merged.configuration = ownOptions.merged(with: root.options.configuration)
        return merged
    }

    @Argument(
        help: ArgumentHelp(
            "As in a policy table or for smtp(8): a domain (MX lookup), [host], [host]:port or host:port.",
            valueName: "destination"))
    var destination: String?

    @Flag(help: "Probe every verify and secure destination of the configuration (policy entries, relayhost) and summarise by verdict.")
    var all = false

    @Option(help: ArgumentHelp("With --all: how many destinations to probe at once.", valueName: "N"))
    var parallel: Int = 4

    @Option(help: ArgumentHelp("The TLS level to verify at.", valueName: "verify|secure"))
    var level: Level = .verify

    @Option(help: ArgumentHelp("Trust this CA file instead of main.cf's smtp_tls_CAfile.", valueName: "FILE"), completion: .file())
    var caFile: String?

    @Option(help: ArgumentHelp("Trust this CA directory instead of main.cf's smtp_tls_CApath.", valueName: "DIR"), completion: .directory)
    var caPath: String?

    @Option(help: ArgumentHelp("The posttls-finger to run (default: Postfix's, in /usr/sbin).", valueName: "PATH"), completion: .file())
    var posttlsFinger: String?

    @Option(help: ArgumentHelp("Connection and SMTP command timeout in seconds.", valueName: "SECONDS"))
    var timeout: Int = 30

    func validate() throws {
        if all == (destination != nil) {
            throw ValidationError(all ? "give a destination or --all, not both" : "give a destination to probe, or --all")
        }
        if parallel < 1 { throw ValidationError("--parallel: at least 1") }
    }

    func run() throws {
        let options = self.options
        let output = Output(options)
        let configuration: Configuration
        do {
            configuration = try Configuration.load(options.location, readMasterCf: false, defaults: options.fixOptions().parameterDefaults)
        } catch {
            output.error(error.description)
            throw ExitCode(2)
        }
        guard let executable = posttlsFinger ?? PostTLSFingerRun.findExecutable() else {
            output.error("posttls-finger not found (it comes with Postfix); give its path with --posttls-finger")
            throw ExitCode(2)
        }
        guard let destination else { throw ExitCode(runAll(configuration, executable: executable, options: options, output: output)) }
        let run = PostTLSFingerRun(
            configuration: configuration, executable: executable, destination: destination, level: level.rawValue,
            caFile: caFile, caPath: caPath, timeout: timeout)
        let (caFile, caPath) = (run.caFile, run.caPath)
        let servername = (options.servername ?? .hostname).rawValue
        let probe: SNIProbe
        do {
            probe = SNIProbe(
                destination: destination, level: level.rawValue, servername: servername,
                withoutSNI: try run.handshake(sni: nil), withSNI: try run.handshake(sni: servername))
        } catch {
            output.error("cannot run \(executable): \(error)")
            throw ExitCode(2)
        }
        let verdict = probe.verdict
        if options.json {
            output.json(SNIProbeReport(probe).encoded())
            throw ExitCode(verdict.exitStatus)
        }
        if caFile == nil && caPath == nil {
            output.line("note: main.cf sets neither smtp_tls_CAfile nor smtp_tls_CApath, so smtp(8) trusts no CA here; give --ca-file or --ca-path")
        }
        let trust = [caFile.map { "CA file \($0)" }, caPath.map { "CA path \($0)" }].compactMap { $0 }.joined(separator: ", ")
        output.line("\(executable) \(destination), level \(level.rawValue)\(trust.isEmpty ? "" : ", trusting \(trust)"):")
        output.line("  without SNI: \(SNIProbe.describe(probe.withoutSNI))")
        output.line("  with SNI (-s \(servername)): \(SNIProbe.describe(probe.withSNI))")
        if verdict == .notNeeded {
            output.line(output.colorOut ? TerminalStyle.green.paint(probe.conclusion) : probe.conclusion)
        } else if options.quiet {
            output.error(probe.conclusion, verdict == .needed ? .warning : .error)
        } else {
            output.line(output.colorOut ? TerminalStyle.of(verdict == .needed ? .fixable : .error).paint(probe.conclusion) : probe.conclusion)
        }
        throw ExitCode(verdict.exitStatus)
    }
}
