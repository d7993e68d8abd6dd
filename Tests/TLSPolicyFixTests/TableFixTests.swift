// TableFixTests.swift: apply on hash: tables with awkward bytes (CRLF, no
// final newline, continuations with comments, non-UTF-8), broken entries,
// stale and missing indexes, the version gate and main.cf levels, each
// checked with the real postmap and postconf.

import Foundation
import PostfixTestSupport
import Testing

struct TableFixTests {
    let directory: TestDirectory
    let config: String

    init() throws {
        directory = try TestDirectory()
        config = directory.file("postfix")
    }

    /// A configuration whose smtp_tls_policy_maps names `tables` (hash:).
    func makeConfig(mainCf extra: String = "", tables: [String: [UInt8]]) throws {
        var mainCf = "compatibility_level = 3.6\n"
        if !tables.isEmpty {
            mainCf += "smtp_tls_policy_maps = " + tables.keys.sorted().map { "hash:$config_directory/\($0)" }.joined(separator: ", ") + "\n"
        }
        try directory.write("postfix/main.cf", mainCf + extra)
        for (name, bytes) in tables {
            try directory.write("postfix/\(name)", bytes)
            let build = try ExternalTool.postmap(["hash:\(config)/\(name)"], configDirectory: config)
            #expect(build.status == 0)
        }
    }

    func query(_ key: String, _ table: String) throws -> String {
        try ExternalTool.postmap(["-q", key, "hash:\(config)/\(table)"], configDirectory: config).outputText
    }

    func apply(_ extra: [String] = []) throws -> ToolResult {
        try FixerBinary.run(["-c", config] + extra + ["apply"])
    }

    @Test func awkwardBytesStayAndOnlyTheInsertionsAreNew() throws {
        let original =
            Array(
                "# CRLF, tabs, a continuation with a comment inside, non-UTF-8 in a comment\r\n".utf8)
            + Array("crlf.example\tverify\r\n".utf8)
            + Array("multi.example secure\n# caf".utf8) + [0xE9] + Array("\n\tmatch=nexthop   \n".utf8)
            + Array("done.example verify servername=nexthop\n".utf8)
            + Array("Upper.Example VERIFY".utf8)
        try makeConfig(tables: ["policy": original])
        let result = try apply()
        #expect(result.status == 0, "\(result.errors)")

        let expected =
            Array(
                "# CRLF, tabs, a continuation with a comment inside, non-UTF-8 in a comment\r\n".utf8)
            + Array("crlf.example\tverify servername=hostname\r\n".utf8)
            + Array("multi.example secure\n# caf".utf8) + [0xE9] + Array("\n\tmatch=nexthop servername=hostname   \n".utf8)
            + Array("done.example verify servername=nexthop\n".utf8)
            + Array("Upper.Example VERIFY servername=hostname".utf8)
        #expect(try readBytes(config + "/policy") == expected)
        #expect(try query("crlf.example", "policy") == "verify servername=hostname\n")
        #expect(try query("multi.example", "policy") == "secure\tmatch=nexthop servername=hostname\n")
        #expect(try query("upper.example", "policy") == "VERIFY servername=hostname\n")
        #expect(try query("done.example", "policy") == "verify servername=nexthop\n")
    }

    @Test func brokenEntriesAreErrorsAndNothingIsWritten() throws {
        try makeConfig(tables: [
            "policy": Array(
                """
                good.example verify
                hash.example verify servername=hostname # fixed by tool
                twice.example verify servername=hostname servername=nexthop
                level.example verified
                name.example verify sni=hostname

                """.utf8)
        ])
        try expectUnchanged(config) {
            let check = try FixerBinary.run(["-c", config, "check"])
            #expect(check.status == 2)
            #expect(check.outputText.contains("policy, line 2: error: hash.example: malformed attribute/value pair \"#\""))
            #expect(check.outputText.contains("policy, line 3: error: twice.example: attribute \"servername\" is specified multiple times"))
            #expect(check.outputText.contains("policy, line 4: error: level.example: invalid security level \"verified\""))
            #expect(check.outputText.contains("policy, line 5: error: name.example: invalid attribute name: \"sni\""))
            #expect(check.outputText.contains("policy, line 1: good.example: verify without servername"))
            let result = try apply()
            #expect(result.status == 2)
            #expect(result.errors.contains("4 errors above must be fixed by hand first; nothing written"))
        }
    }

    @Test func staleAndMissingIndexesAreReportedAndRebuilt() throws {
        try makeConfig(tables: ["policy": Array("a.example verify servername=hostname\n".utf8)])
        #expect(try FixerBinary.run(["-c", config, "check"]).status == 0)

        // Edited by hand without postmap: the index is stale.
        try directory.write("postfix/policy", "a.example verify servername=hostname\nb.example encrypt\n")
        let stale = try FixerBinary.run(["-c", config, "check"])
        #expect(stale.status == 1)
        #expect(stale.outputText.contains("policy.db: hash:\(config)/policy: the index differs from its source"))
        let diff = try FixerBinary.run(["-c", config, "diff"])
        #expect(diff.outputText == "would rebuild policy.db (hash: index, index differs from source)\n")
        #expect(try apply().status == 0)
        #expect(try query("b.example", "policy") == "encrypt\n")
        #expect(try FixerBinary.run(["-c", config, "check"]).status == 0)

        try FileManager.default.removeItem(atPath: config + "/policy.db")
        let missing = try FixerBinary.run(["-c", config, "check"])
        #expect(missing.status == 1)
        #expect(missing.outputText.contains("the index is missing"))
        #expect(try apply().status == 0)
        #expect(try query("a.example", "policy") == "verify servername=hostname\n")
    }

    @Test(arguments: ["3.3.0", "3.3.20"])
    func postfixBefore34IsRefused(version: String) throws {
        try makeConfig(tables: ["policy": Array("a.example verify\n".utf8)])
        try expectUnchanged(config) {
            let result = try apply(["--postfix-version", version])
            #expect(result.status == 2)
            #expect(result.errors.contains("Postfix \(version) cannot send SNI: servername needs Postfix 3.4.0 or later; nothing written"))
        }
    }

    @Test(arguments: ["3.4", "3.7.11"])
    func postfix34AndLaterIsAccepted(version: String) throws {
        try makeConfig(tables: ["policy": Array("a.example verify\n".utf8)])
        #expect(try apply(["--postfix-version", version]).status == 0)
        #expect(try query("a.example", "policy") == "verify servername=hostname\n")
    }

    @Test func mainCfVerifyLevelGetsAGlobalServername() throws {
        try makeConfig(mainCf: "relayhost = [relay.example]:587\nsmtp_tls_security_level = verify", tables: [:])
        let result = try apply()
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.outputText.contains("postfix reload"))
        let main = try readBytes(config + "/main.cf")
        #expect(String(decoding: main, as: UTF8.self).hasSuffix("smtp_tls_security_level = verify\nsmtp_tls_servername = hostname\n"))
        let value = try ExternalTool.postconf(["-h", "smtp_tls_servername"], configDirectory: config)
        #expect(value.outputText == "hostname\n")
        let level = try ExternalTool.postconf(["-h", "relayhost"], configDirectory: config)
        #expect(level.outputText == "[relay.example]:587\n")
    }

    @Test func unsupportedTableTypesAreNamed() throws {
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = hash:$config_directory/p, mysql:$config_directory/p.cf\n")
        try directory.write("postfix/p", "a.example may\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/p"], configDirectory: config).status == 0)
        let check = try FixerBinary.run(["-c", config, "check"])
        #expect(check.status == 1)
        #expect(
            check.outputText.contains(
                "main.cf, line 1: mysql:\(config)/p.cf: mysql: tables live outside the configuration files and are not edited by this tool; fix: add servername=hostname to its verify and secure entries by hand"
            ))
    }
}
