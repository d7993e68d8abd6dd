// TableKindsTests.swift: every table kind the tool edits, fixed by apply and
// read back by the real postmap (postmap -q KEY TYPE:...), with every byte
// the fix does not need to change left as it was.

import Foundation
import PostfixTestSupport
import Testing

struct TableKindsTests {
    let directory: TestDirectory
    let config: String

    init() throws {
        directory = try TestDirectory()
        config = directory.file("postfix")
    }

    static let source = Array(
        """
        # policy, with a comment
        gmail.test\tverify
        Secure.Test secure match=nexthop
          ciphers=high
        dane.test dane-only
        named.test verify servername=nexthop

        """.utf8)

    /// The source after the fix: exactly two insertions.
    static let fixed = Array(
        """
        # policy, with a comment
        gmail.test\tverify servername=hostname
        Secure.Test secure match=nexthop
          ciphers=high servername=hostname
        dane.test dane-only
        named.test verify servername=nexthop

        """.utf8)

    func query(_ key: String, _ map: String) throws -> ToolResult {
        try ExternalTool.postmap(["-q", key, map], configDirectory: config)
    }

    @Test(arguments: ["hash", "btree", "lmdb", "cdb", "texthash"])
    func postmapSourcesAreFixedAndRebuilt(type: String) throws {
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = \(type):$config_directory/policy\n")
        try directory.write("postfix/policy", Self.source)
        if type != "texthash" {
            #expect(try ExternalTool.postmap(["\(type):\(config)/policy"], configDirectory: config).status == 0)
        }
        let result = try FixerBinary.run(["-c", config, "apply"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(try readBytes(config + "/policy") == Self.fixed)
        #expect(try query("gmail.test", "\(type):\(config)/policy").outputText == "verify servername=hostname\n")
        #expect(try query("secure.test", "\(type):\(config)/policy").outputText == "secure match=nexthop  ciphers=high servername=hostname\n")
        #expect(try query("dane.test", "\(type):\(config)/policy").outputText == "dane-only\n")
        // Tables read only at start-up need a reload; indexed ones do not.
        // The hint names the instance: -c is kept.
        #expect(result.outputText.contains("run `postfix -c \(config) reload`") == (type == "texthash"), "\(result.outputText)")
        let again = try FixerBinary.run(["-c", config, "check"])
        #expect(again.status == 0, "\(again.outputText)")

        // A value edited by hand without postmap: the index is stale.
        guard type != "texthash" else { return }
        try directory.write("postfix/policy", Self.fixed.map { $0 } + Array("extra.test may\n".utf8))
        try directory.write(
            "postfix/policy",
            String(decoding: try readBytes(config + "/policy"), as: UTF8.self)
                .replacingOccurrences(of: "dane-only", with: "dane"))
        let stale = try FixerBinary.run(["-c", config, "check"])
        #expect(stale.status == 1)
        #expect(stale.outputText.contains("the index differs from its source"), "\(stale.outputText)")
        #expect(try FixerBinary.run(["-c", config, "apply"]).status == 0)
        #expect(try query("dane.test", "\(type):\(config)/policy").outputText == "dane\n")
    }

    /// Matching is case-insensitive unless a rule's flags say otherwise.
    @Test(arguments: ["regexp", "pcre"])
    func patternTablesGetTheAttributeOnTheResult(type: String) throws {
        let rules = Array(
            """
            # first match wins
            /^(.*\\.)?gmail\\.test$/\tverify
            if /\\.example$/
            !/^skip\\./ secure
              match=nexthop
            endif
            /^mx\\.dane\\.test$/ dane-only

            """.utf8)
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = \(type):$config_directory/rules\n")
        try directory.write("postfix/rules", rules)
        let result = try FixerBinary.run(["-c", config, "apply"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.outputText.contains("postfix reload"))
        #expect(try query("www.gmail.test", "\(type):\(config)/rules").outputText == "verify servername=hostname\n")
        #expect(try query("a.example", "\(type):\(config)/rules").outputText == "secure  match=nexthop servername=hostname\n")
        #expect(try query("MX.dane.test", "\(type):\(config)/rules").outputText == "dane-only\n")
        let after = String(decoding: try readBytes(config + "/rules"), as: UTF8.self)
        #expect(after.replacingOccurrences(of: " servername=hostname", with: "") == String(decoding: rules, as: UTF8.self))
    }

    @Test func inlineTablesInMainCfGetTheLongFormWhereNeeded() throws {
        let mainCf = """
            compatibility_level = 3.6
            smtp_tls_policy_maps = inline:{ gmail.test=verify,
                { [smtp.example.com]:587 = secure match=nexthop }, may.test=may }

            """
        try directory.write("postfix/main.cf", mainCf)
        let result = try FixerBinary.run(["-c", config, "apply"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.outputText.contains("postfix reload"))
        let map = try ExternalTool.postconf(["-xh", "smtp_tls_policy_maps"], configDirectory: config).outputText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try query("gmail.test", map).outputText == "verify servername=hostname\n")
        #expect(try query("[smtp.example.com]:587", map).outputText == "secure match=nexthop servername=hostname\n")
        #expect(try query("may.test", map).outputText == "may\n")
        let after = String(decoding: try readBytes(config + "/main.cf"), as: UTF8.self)
        #expect(
            after
                == mainCf
                .replacingOccurrences(of: "gmail.test=verify", with: "{ gmail.test = verify servername=hostname }")
                .replacingOccurrences(of: "match=nexthop }", with: "match=nexthop servername=hostname }"))
    }

    @Test func laterDuplicatesAndKeysShadowedByAnEarlierMapAreNotEdited() throws {
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = hash:$config_directory/first, hash:$config_directory/second\n")
        try directory.write("postfix/first", "a.test dane-only\nb.test verify\nB.TEST secure\n")
        try directory.write("postfix/second", "a.test verify\nc.test verify\n")
        for table in ["first", "second"] {
            #expect(try ExternalTool.postmap(["hash:\(config)/\(table)"], configDirectory: config).status == 0)
        }
        let check = try FixerBinary.run(["-c", config, "check"])
        #expect(check.outputText.contains("first, line 3: note: B.TEST: never used: first, line 2 has the same key and wins"))
        #expect(check.outputText.contains("second, line 1: note: a.test: never used: an earlier table in the same map list has the same key"))
        #expect(try FixerBinary.run(["-c", config, "apply"]).status == 0)
        #expect(try readBytes(config + "/first") == Array("a.test dane-only\nb.test verify servername=hostname\nB.TEST secure\n".utf8))
        #expect(try readBytes(config + "/second") == Array("a.test verify\nc.test verify servername=hostname\n".utf8))
    }

    @Test func fingerprintEntriesAreAtRiskAndFixedOnlyWhenAsked() throws {
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = hash:$config_directory/policy\n")
        try directory.write("postfix/policy", "pinned.test fingerprint match=AA:BB\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        let check = try FixerBinary.run(["-c", config, "check"])
        #expect(check.status == 0)
        #expect(check.outputText.contains("pinned.test: fingerprint without servername"))
        #expect(try FixerBinary.run(["-c", config, "apply", "--include-fingerprint"]).status == 0)
        #expect(try query("pinned.test", "hash:\(config)/policy").outputText == "fingerprint match=AA:BB servername=hostname\n")
    }

    @Test func perSiteMustEntriesNeedAGlobalServername() throws {
        try directory.write("postfix/main.cf", "smtp_tls_per_site = hash:$config_directory/per_site\n")
        try directory.write("postfix/per_site", "gmail.test MUST\nother.test MAY\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/per_site"], configDirectory: config).status == 0)
        try expectUnchanged(config) {
            let check = try FixerBinary.run(["-c", config, "check"])
            #expect(check.status == 1)
            #expect(check.outputText.contains("per_site, line 1: gmail.test: MUST (= verify) without SNI"))
            #expect(try FixerBinary.run(["-c", config, "apply"]).status == 0)
        }
        #expect(try FixerBinary.run(["-c", config, "apply", "--global-servername"]).status == 0)
        #expect(try ExternalTool.postconf(["-h", "smtp_tls_servername"], configDirectory: config).outputText == "hostname\n")
        #expect(try FixerBinary.run(["-c", config, "check"]).status == 0)
    }

    /// Postfix 3.11 with non_bdb_migration_level = enable-redirect reads a
    /// hash: table as $default_database_type: the index to rebuild is that.
    @Test func hashRedirectedBy311IsRebuiltAsTheDefaultType() throws {
        try directory.write(
            "postfix/main.cf",
            """
            non_bdb_migration_level = enable-redirect
            default_database_type = lmdb
            smtp_tls_policy_maps = hash:$config_directory/policy

            """)
        try directory.write("postfix/policy", Self.source)
        #expect(try ExternalTool.postmap(["lmdb:\(config)/policy"], configDirectory: config).status == 0)
        let result = try FixerBinary.run(["-c", config, "--postfix-version", "3.11.0", "apply"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(try query("gmail.test", "lmdb:\(config)/policy").outputText == "verify servername=hostname\n")
        #expect(!FileManager.default.fileExists(atPath: config + "/policy.db"))
        #expect(result.outputText.contains("rebuilt policy.lmdb (lmdb: index, source changed)"), "\(result.outputText)")
        // Before 3.11 the setting means nothing and hash: is Berkeley DB.
        try directory.write("postfix/policy", Self.source)
        #expect(try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "apply"]).status == 0)
        #expect(try query("gmail.test", "hash:\(config)/policy").outputText == "verify servername=hostname\n")
    }
}
