// ProbeAllCommand.swift: `probe --all`: every verify/secure destination of
// the configuration, probed as `probe` probes one, a few at a time, with a
// summary by verdict. Progress goes to standard error on a terminal.

import ArgumentParser
import FoundationEssentials
import Glibc
import PostfixTools
import TLSPolicyFix
import TerminalOutput

extension ProbeCommand {
    /// Probes every destination; returns the exit status (the worst verdict's).
    func runAll(_ configuration: Configuration, executable: String, options: GlobalOptions, output: Output) -> Int32 {
        let collected = ProbeTargets.collect(configuration, options: options.fixOptions())
        let servername = (options.servername ?? .hostname).rawValue
        let (caFile, caPath, timeout) = (self.caFile, self.caPath, self.timeout)
        let handshake: ProbeAll.Handshake = { target, sni throws(PostfixToolError) in
            try PostTLSFingerRun(
                configuration: configuration, executable: executable, destination: target.destination,
                level: target.level.rawValue, caFile: caFile, caPath: caPath, timeout: timeout
            ).handshake(sni: sni)
        }
        let showProgress = !options.quiet && isatty(2) == 1
        let results = ProbeAll.run(collected.targets, parallel: parallel, servername: servername, handshake: handshake) { done, total, result in
            guard showProgress else { return }
            Output.write(Array("postfix-tls-fix: probed \(done)/\(total): \(result.target.destination): \(result.verdict.rawValue)\n".utf8), to: 2)
        }
        if options.json {
            output.json(ProbeAllReport(configDirectory: configuration.directory, results: results, skipped: collected.skipped).encoded())
            return ProbeAll.exitStatus(results)
        }
        summarize(results, skipped: collected.skipped, output: output)
        return ProbeAll.exitStatus(results)
    }

    /// The results grouped by verdict, each with where it is configured.
    func summarize(_ results: [ProbeAllResult], skipped: [SkippedTarget], output: Output) {
        let groups: [(SNIVerdict, String)] = [
            (.needed, "needs SNI (the fix helps)"), (.notNeeded, "verifies without SNI"),
            (.doesNotHelp, "fails with and without SNI (the fix is not enough)"), (.unknown, "unreachable (nothing could be said)"),
        ]
        for (verdict, title) in groups {
            let members = results.filter { $0.verdict == verdict }
            guard !members.isEmpty else { continue }
            output.line("\(title): \(members.count)")
            for result in members {
                let why = result.probe.map { verdict == .needed || verdict == .notNeeded ? "" : ": " + $0.conclusion } ?? ": \(result.error ?? "")"
                output.line("  \(result.target.destination) (\(result.target.level.rawValue), \(result.target.location): \(result.target.key))\(why)")
            }
        }
        for skip in skipped {
            output.line("not probed: \(skip.location): \(skip.key): \(skip.reason)")
        }
        if results.isEmpty && skipped.isEmpty { output.line("no verify or secure destination to probe") }
    }
}
