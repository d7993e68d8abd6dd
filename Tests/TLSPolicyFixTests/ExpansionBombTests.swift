// ExpansionBombTests.swift: a main.cf whose parameters double at each step
// ("e40 = $e39 $e39") must not take the tool's memory and time: check and
// apply stop with an error naming main.cf's line, under a memory limit
// (prlimit --as) and a time limit (timeout), where the old tool grew past
// 4 GB and was still running after a minute.

import Foundation
import PostfixTestSupport
import Testing

struct ExpansionBombTests {
    @Test(arguments: ["check", "apply"])
    func anExpansionBombIsAnErrorNamingTheLine(_ command: String) throws {
        let directory = try TestDirectory("ptf-bomb")
        var mainCf = "compatibility_level = 3.6\ne0 = x\n"
        for level in 1...40 { mainCf += "e\(level) = $e\(level - 1) $e\(level - 1)\n" }
        mainCf += "smtp_tls_security_level = $e40\n"
        try directory.write("postfix/main.cf", mainCf)
        let config = directory.file("postfix")
        try expectUnchanged(config) {
            let result = try ExternalTool.run(
                "/usr/bin/prlimit",
                [
                    "--as=\(2 << 30)", "/usr/bin/timeout", "-k", "2", "30", FixerBinary.path, "-c", config, "--postfix-version", "3.7.11", command,
                ])
            let output = result.outputText + result.errors
            #expect(result.status == 2, "exit \(result.status): \(output.prefix(500))")
            #expect(output.contains("main.cf, line 43: "), "\(output.prefix(500))")
            #expect(output.contains("smtp_tls_security_level: the expansion is longer than this tool expands"), "\(output.prefix(500))")
            #expect(output.utf8.count < 64 << 10)
        }
    }

    /// The same chain used where the tool reads it only through a master.cf
    /// service's -o override, or through a main.cf parameter other than the
    /// TLS ones: the expansion was bounded but came back empty, and the
    /// service (or the parameter) was judged as if it set nothing, exit 1.
    @Test(arguments: [
        ("master.cf", "  -o smtp_tls_security_level=$e40\n", "master.cf, line 1: ", "relay/unix: smtp_tls_security_level"),
        ("main.cf", "smtputf8_enable = $e40\n", "main.cf, line 43: ", "smtputf8_enable"),
    ])
    func anExpansionBombOutsideMainCfsTLSParametersIsAnErrorNamingTheLine(_ file: String, _ line: String, _ place: String, _ subject: String)
        throws
    {
        let directory = try TestDirectory("ptf-bomb")
        var mainCf = "compatibility_level = 3.6\ne0 = x\n"
        for level in 1...40 { mainCf += "e\(level) = $e\(level - 1) $e\(level - 1)\n" }
        var masterCf = "relay     unix  -       -       y       -       -       smtp\n"
        if file == "main.cf" { mainCf += line } else { masterCf += line }
        try directory.write("postfix/main.cf", mainCf + "smtp_tls_security_level = verify\nsmtp_tls_servername = hostname\n")
        try directory.write("postfix/master.cf", masterCf)
        let config = directory.file("postfix")
        try expectUnchanged(config) {
            let result = try ExternalTool.run(
                "/usr/bin/prlimit",
                ["--as=\(2 << 30)", "/usr/bin/timeout", "-k", "2", "30", FixerBinary.path, "-c", config, "--postfix-version", "3.7.11", "check"])
            let output = result.outputText + result.errors
            #expect(result.status == 2, "exit \(result.status): \(output.prefix(500))")
            #expect(output.contains(place + "error: " + subject + ": the expansion is longer than this tool expands"), "\(output.prefix(500))")
        }
    }

    /// The bound is per value, so its cost is paid per value the rule
    /// reads: main.cf's chain read by a hundred services (each an
    /// expander of its own) took minutes.
    @Test func aHundredServicesReadingTheChainFinishWithinTheTimeBound() throws {
        let directory = try TestDirectory("ptf-bomb")
        var mainCf = "compatibility_level = 3.6\ne0 = x\n"
        for level in 1...40 { mainCf += "e\(level) = $e\(level - 1) $e\(level - 1)\n" }
        try directory.write("postfix/main.cf", mainCf + "smtp_tls_security_level = $e40\n")
        var masterCf = ""
        for service in 1...100 { masterCf += "relay\(service) unix  -       -       y       -       -       smtp\n  -o smtp_tls_servername=$e40\n" }
        try directory.write("postfix/master.cf", masterCf)
        let config = directory.file("postfix")
        let started = Date()
        let result = try ExternalTool.run(
            "/usr/bin/timeout", ["-k", "2", "60", FixerBinary.path, "-c", config, "--postfix-version", "3.7.11", "check"])
        let output = result.outputText + result.errors
        #expect(Date().timeIntervalSince(started) < 30, "\(Date().timeIntervalSince(started)) s")
        #expect(result.status == 2, "exit \(result.status): \(output.prefix(500))")
        #expect(output.contains("master.cf, line 199: error: relay100/unix: smtp_tls_servername: the expansion is longer"), "\(output.suffix(800))")
    }
}
