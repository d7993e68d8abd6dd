// ManyTablesTests.swift: apply holds a lock and the old file of every
// target open across its commit, and every directory it resolved: a
// configuration of a few hundred tables needs more descriptors than the
// usual soft limit of 1024 (or a service manager's lower one). The tool
// raises its soft limit to the hard one, as the limit's owner allows.

import Foundation
import PostfixTestSupport
import Testing

@Suite struct ManyTablesTests {
    @Test func threeHundredTablesUnderALowSoftLimitAreFixed() throws {
        let directory = try TestDirectory("ptf-many")
        let config = directory.file("postfix")
        let names = (0..<300).map { "t\($0)" }
        try directory.write(
            "postfix/main.cf",
            "compatibility_level = 3.6\nsmtp_tls_policy_maps = " + names.map { "hash:$config_directory/maps/\($0)" }.joined(separator: ", ")
                + "\n")
        for name in names {
            let source = try directory.write("postfix/maps/" + name, "\(name).example verify\n")
            backdate(source)
        }
        #expect(try ExternalTool.run("/usr/sbin/postmap", ["-c", config] + names.map { "hash:\(config)/maps/\($0)" }).status == 0)
        let result = try ExternalTool.run(
            "/usr/bin/prlimit", ["--nofile=256:4096", FixerBinary.path, "-c", config, "--postfix-version", "3.7.11", "apply"])
        #expect(result.status == 0, "\(String((result.outputText + result.errors).suffix(600)))")
        let check = try ExternalTool.run(
            "/usr/bin/prlimit", ["--nofile=256:4096", FixerBinary.path, "-c", config, "--postfix-version", "3.7.11", "check"])
        #expect(check.status == 0, "\(check.outputText)\(check.errors)")
    }
}
