// RuleTests.swift: the rule on configurations held in memory (main.cf and
// master.cf texts, tables as bytes): what it finds, in which words, and the
// exact bytes the plan writes. No files, no binary; the black-box tests of
// the command line and the differential tests against postconf and postmap
// stay where they are.

import PostconfModel
import Testing

@testable import TLSPolicyFix

struct RuleTests {
    static let missing = "without servername (Postfix sends no SNI); fix: append servername=hostname"

    /// Loads, inspects and plans an in-memory configuration in /etc/postfix.
    static func preview(
        _ mainCf: String, masterCf: String? = nil, files: [String: String] = [:],
        options: FixOptions = FixOptions(postfixVersion: PostfixVersion(3, 7))
    ) throws -> Preview {
        let configuration = try Configuration.inMemory(mainCf: mainCf, masterCf: masterCf, files: files)
        return try Pipeline.preview(configuration, options: options, for: .preview)
    }

    /// The new bytes of `path` after the plan, as text.
    static func written(_ preview: Preview, _ path: String) -> String? {
        preview.plan.changes.first { $0.path == path }.map { String(decoding: $0.newBytes, as: UTF8.self) }
    }

    struct MainCfCase: Sendable, CustomStringConvertible {
        var name: String
        var mainCf: String
        /// main.cf after the plan; nil when it stays as it is.
        var fixed: String?
        var description: String { name }
    }

    static let mainCfCases: [MainCfCase] = [
        MainCfCase(
            name: "verify, appended", mainCf: "smtp_tls_security_level = verify\n",
            fixed: "smtp_tls_security_level = verify\nsmtp_tls_servername = hostname\n"),
        MainCfCase(
            name: "no final newline", mainCf: "smtp_tls_security_level = secure",
            fixed: "smtp_tls_security_level = secure\nsmtp_tls_servername = hostname\n"),
        MainCfCase(
            name: "empty setting filled in place", mainCf: "smtp_tls_servername =\nsmtp_tls_security_level = verify\n",
            fixed: "smtp_tls_servername = hostname\nsmtp_tls_security_level = verify\n"),
        MainCfCase(
            name: "CRLF kept", mainCf: "smtp_tls_security_level = verify\r\n",
            fixed: "smtp_tls_security_level = verify\r\nsmtp_tls_servername = hostname\r\n"),
        MainCfCase(
            name: "level through a parameter", mainCf: "l = secure\nsmtp_tls_security_level = $l\n",
            fixed: "l = secure\nsmtp_tls_security_level = $l\nsmtp_tls_servername = hostname\n"),
        MainCfCase(name: "later definition wins", mainCf: "smtp_tls_security_level = verify\nsmtp_tls_security_level = may\n", fixed: nil),
        MainCfCase(
            name: "obsolete enforce_tls", mainCf: "smtp_enforce_tls = yes\n",
            fixed: "smtp_enforce_tls = yes\nsmtp_tls_servername = hostname\n"),
        MainCfCase(name: "enforce_tls without peername is encrypt", mainCf: "smtp_enforce_tls = yes\nsmtp_tls_enforce_peername = no\n", fixed: nil),
        MainCfCase(name: "servername already set", mainCf: "smtp_tls_security_level = verify\nsmtp_tls_servername = nexthop\n", fixed: nil),
        MainCfCase(name: "dane sends SNI itself", mainCf: "smtp_tls_security_level = dane\n", fixed: nil),
        MainCfCase(
            name: "lmtp does not inherit smtp", mainCf: "smtp_tls_servername = hostname\nlmtp_tls_security_level = verify\n",
            fixed: "smtp_tls_servername = hostname\nlmtp_tls_security_level = verify\nlmtp_tls_servername = hostname\n"),
    ]

    @Test(arguments: mainCfCases)
    func mainCfLevels(testCase: MainCfCase) throws {
        let preview = try Self.preview(testCase.mainCf)
        #expect(Self.written(preview, "/etc/postfix/main.cf") == testCase.fixed)
        #expect(preview.plan.reloadNeeded == (testCase.fixed != nil))
        #expect(preview.exitStatus == (testCase.fixed == nil ? 0 : 1))
    }

    @Test func aServiceOverrideOfAnEmptyServernameIsReportedNotOverridden() throws {
        let preview = try Self.preview(
            "smtp_tls_servername = hostname\n",
            masterCf: "relay unix - - y - - smtp -o smtp_tls_security_level=verify -o smtp_tls_servername=\n")
        #expect(
            preview.inspection.findings.map(\.line) == [
                "master.cf, line 1: relay/unix: verify with an empty -o smtp_tls_servername; fix: set -o smtp_tls_servername=hostname on this service by hand"
            ])
        #expect(preview.plan.isEmpty)
        #expect(preview.exitStatus == 1)
    }

    @Test func aServiceWithItsOwnLevelGetsAnOverrideInItsStyle() throws {
        let preview = try Self.preview(
            "\n", masterCf: "smtp unix - - y - - smtp\nrelay unix - - y - - smtp\n  -o smtp_tls_security_level=secure\n")
        #expect(
            Self.written(preview, "/etc/postfix/master.cf")
                == "smtp unix - - y - - smtp\nrelay unix - - y - - smtp\n  -o smtp_tls_security_level=secure\n  -o smtp_tls_servername=hostname\n")
    }

    @Test func mainCfServernameCoversServicesWithoutTheirOwn() throws {
        let preview = try Self.preview("smtp_tls_servername = hostname\n", masterCf: "relay unix - - y - - smtp -o smtp_tls_security_level=verify\n")
        #expect(preview.inspection.findings.isEmpty)
        #expect(preview.exitStatus == 0)
    }

    @Test func aBadMasterCfEntryIsALoadErrorNamingTheLine() {
        #expect {
            _ = try Self.preview("\n", masterCf: "smtp unix - - y - - smtp\nrelay unix - - y - - smtp -o\n")
        } throws: { error in
            "\(error)" == "/etc/postfix/master.cf, line 2: \"-o\" without a value in service relay/unix"
        }
    }

    /// Compact findings of a source's entries appear where they were found
    /// (between the notes and errors of the same table), including a
    /// continued entry, a key too long for the compact form (64 KiB or
    /// more), and a quoted key that goes on after a line break.
    @Test func entryFindingsInFileOrder() throws {
        let longKey = String(repeating: "k", count: 70_000) + ".example"
        let preview = try Self.preview(
            "smtp_tls_policy_maps = hash:/etc/postfix/policy\n",
            files: [
                "/etc/postfix/policy": "a.example verify\n# c\nb.example secure\n# inside\n\tmatch=nexthop\nA.Example verify\n"
                    + "bad.example verify foo=bar\n\(longKey) verify\nc.example dane-only\nd.example secure\n\"quoted\n  key\" verify\n",
                "/etc/postfix/policy.db": "",
            ])
        #expect(
            preview.inspection.findings.map(\.line) == [
                "policy, line 1: a.example: verify \(Self.missing)",
                "policy, line 3: b.example: secure \(Self.missing)",
                "policy, line 6: note: A.Example: never used: policy, line 1 has the same key and wins",
                "policy, line 7: error: bad.example: invalid attribute name: \"foo\"; smtp(8) defers mail for this destination; fix: correct the entry by hand",
                "policy, line 8: \(longKey.prefix(200))...: verify \(Self.missing)",
                "policy, line 10: d.example: secure \(Self.missing)",
                "policy, line 11: \"quoted  key\": verify \(Self.missing)",
            ])
        #expect(preview.exitStatus == 2)
    }

    @Test func brokenEntriesRefuseTheApplyPlan() throws {
        let configuration = try Configuration.inMemory(
            mainCf: "smtp_tls_policy_maps = texthash:/etc/postfix/policy\n",
            files: [
                "/etc/postfix/policy": """
                good.example verify
                hash.example verify servername=hostname # fixed by tool
                twice.example verify servername=hostname servername=nexthop
                level.example verified
                name.example verify sni=hostname

                """
            ])
        let options = FixOptions(postfixVersion: PostfixVersion(3, 7))
        let errors = try Pipeline.preview(configuration, options: options, for: .preview).inspection.findings { $0 == .error }.map(\.line)
        #expect(
            errors == [
                "policy, line 2: error: hash.example: malformed attribute/value pair \"#\": missing '=' after attribute name; malformed attribute/value pair \"fixed\": missing '=' after attribute name; malformed attribute/value pair \"by\": missing '=' after attribute name; malformed attribute/value pair \"tool\": missing '=' after attribute name; smtp(8) defers mail for this destination; fix: correct the entry by hand",
                "policy, line 3: error: twice.example: attribute \"servername\" is specified multiple times; smtp(8) defers mail for this destination; fix: correct the entry by hand",
                "policy, line 4: error: level.example: invalid security level \"verified\"; smtp(8) defers mail for this destination; fix: correct the entry by hand",
                "policy, line 5: error: name.example: invalid attribute name: \"sni\"; smtp(8) defers mail for this destination; fix: correct the entry by hand",
            ])
        #expect {
            _ = try Pipeline.preview(configuration, options: options, for: .apply)
        } throws: { error in
            "\(error)" == "4 errors above must be fixed by hand first; nothing written"
        }
    }

    @Test func theVersionIsCheckedOnceForEveryCommand() throws {
        let configuration = try Configuration.inMemory(mainCf: "smtp_tls_security_level = verify\n")
        #expect(throws: (any Error).self) {
            try Pipeline.preview(configuration, options: FixOptions(postfixVersion: PostfixVersion(3, 3)), for: .preview)
        }
        // check and diff can show a plan for an unknown version; apply cannot.
        #expect(try !Pipeline.preview(configuration, options: FixOptions(), for: .preview).plan.isEmpty)
        #expect {
            _ = try Pipeline.preview(configuration, options: FixOptions(), for: .apply)
        } throws: { error in
            "\(error)".hasPrefix("cannot learn the Postfix version")
        }
    }

    /// Each table kind: the edits land where smtp(8) reads the value, and
    /// only tables read at start-up ask for a reload.
    @Test(arguments: [
        ("texthash", "a.example verify\nb.example may\n", "a.example verify servername=hostname\nb.example may\n", true),
        ("hash", "a.example verify\n  match=nexthop\r\n", "a.example verify\n  match=nexthop servername=hostname\r\n", false),
        ("regexp", "/^a\\./ secure\n", "/^a\\./ secure servername=hostname\n", true),
    ])
    func tableKinds(type: String, source: String, fixed: String, reload: Bool) throws {
        let preview = try Self.preview(
            "smtp_tls_policy_maps = \(type):/etc/postfix/policy\n",
            files: ["/etc/postfix/policy": source, "/etc/postfix/policy.db": ""])
        #expect(Self.written(preview, "/etc/postfix/policy") == fixed)
        #expect(preview.plan.reloadNeeded == reload)
        #expect(preview.plan.rebuilds.map(\.reason) == (type == "hash" ? [.sourceChanged] : []))
    }

    @Test func inlineTablesGetTheLongFormInPlace() throws {
        let preview = try Self.preview("smtp_tls_policy_maps = inline:{ a.example=verify, { b.example = secure } }\n")
        #expect(
            Self.written(preview, "/etc/postfix/main.cf")
                == "smtp_tls_policy_maps = inline:{ { a.example = verify servername=hostname }, { b.example = secure servername=hostname } }\n")
    }

    /// A key an earlier table of the same list has is never selected from
    /// the later one, so it is not edited there.
    @Test func keysShadowedByAnEarlierTableAreNotes() throws {
        let preview = try Self.preview(
            "smtp_tls_policy_maps = texthash:/etc/postfix/first, texthash:/etc/postfix/second\n",
            files: ["/etc/postfix/first": "a.example may\n", "/etc/postfix/second": "A.example verify\nb.example verify\n"])
        #expect(Self.written(preview, "/etc/postfix/second") == "A.example verify\nb.example verify servername=hostname\n")
        #expect(
            preview.inspection.findings.map(\.line).first
                == "second, line 1: note: A.example: never used: an earlier table in the same map list has the same key")
    }

    @Test func aMissingIndexIsRebuiltAndFingerprintEntriesAreNotes() throws {
        let preview = try Self.preview(
            "smtp_tls_policy_maps = hash:/etc/postfix/policy\n",
            files: ["/etc/postfix/policy": "pin.example fingerprint match=AA:BB\n"])
        #expect(preview.inspection.findings.map(\.rule) == [.fingerprintAtRisk, .missingIndex])
        #expect(preview.plan.changes.isEmpty)
        #expect(preview.plan.rebuilds.map(\.reason) == [.missing])
        let included = try Self.preview(
            "smtp_tls_policy_maps = hash:/etc/postfix/policy\n",
            files: ["/etc/postfix/policy": "pin.example fingerprint match=AA:BB\n", "/etc/postfix/policy.db": ""],
            options: FixOptions(postfixVersion: PostfixVersion(3, 7), includeFingerprint: true))
        #expect(Self.written(included, "/etc/postfix/policy") == "pin.example fingerprint match=AA:BB servername=hostname\n")
    }
}

/// Fidelity: how smtp(8) reads a policy value, from smtp_tls_policy.c.
struct PolicyFidelityTests {
    /// tls_policy_lookup_one(): below level may every token after the
    /// level is only warned about ("ignoring attribute ... with TLS
    /// disabled"), malformed or not; smtp(8) delivers.
    @Test func levelNoneIgnoresItsAttributes() throws {
        let preview = try RuleTests.preview(
            "smtp_tls_policy_maps = texthash:/etc/postfix/policy\n",
            files: ["/etc/postfix/policy": "broken.example none # ticket 1234\nother.example none servername=hostname servername=x\n"])
        #expect(preview.inspection.findings.isEmpty, "\(preview.inspection.findings.map(\.line))")
        #expect(preview.exitStatus == 0)
        // At may and above the same tokens are errors.
        let may = try RuleTests.preview(
            "smtp_tls_policy_maps = texthash:/etc/postfix/policy\n", files: ["/etc/postfix/policy": "broken.example may # ticket\n"])
        #expect(may.inspection.findings.map(\.rule) == [.brokenEntry])
    }
}

/// static:VALUE answers VALUE for every destination (dict_static.c).
struct StaticTableTests {
    @Test func staticMayCanNeverVerifyAndNeedsNothing() throws {
        let preview = try RuleTests.preview("smtp_tls_policy_maps = static:may\n")
        #expect(preview.inspection.findings.isEmpty, "\(preview.inspection.findings.map(\.line))")
        #expect(preview.exitStatus == 0)
    }

    @Test(arguments: [
        ("smtp_tls_policy_maps = static:verify\n", "smtp_tls_policy_maps = static:{ verify servername=hostname }\n"),
        ("smtp_tls_policy_maps = static:{ secure match=nexthop }\n", "smtp_tls_policy_maps = static:{ secure match=nexthop servername=hostname }\n"),
    ])
    func staticVerifyGetsServernameInPlace(mainCf: String, fixed: String) throws {
        let preview = try RuleTests.preview(mainCf)
        #expect(RuleTests.written(preview, "/etc/postfix/main.cf") == fixed)
        #expect(preview.plan.reloadNeeded)
    }
}

/// dict_thash.c: a texthash table with a duplicate key (folded as smtp(8)
/// looks it up) is opened as unavailable ("duplicate entry"), and smtp(8)
/// defers every delivery through it ("client TLS configuration problem").
struct TexthashDuplicateTests {
    @Test func aDuplicateKeyBreaksATexthashTable() throws {
        let preview = try RuleTests.preview(
            "smtp_tls_policy_maps = texthash:/etc/postfix/policy\n",
            files: ["/etc/postfix/policy": "a.example verify\nb.example may\nA.Example secure\n"])
        let errors = preview.inspection.findings { $0 == .error }.map(\.line)
        #expect(
            errors == [
                "policy, line 3: error: A.Example: duplicate entry (policy, line 1 has the same key): smtp(8) opens this texthash table as unavailable and defers every delivery through it; fix: remove one of the two lines"
            ], "\(preview.inspection.findings.map(\.line))")
        #expect(preview.exitStatus == 2)
        // hash: keeps the first of duplicates: a note there.
        let hash = try RuleTests.preview(
            "smtp_tls_policy_maps = hash:/etc/postfix/policy\n",
            files: ["/etc/postfix/policy": "a.example verify servername=hostname\nA.example secure\n", "/etc/postfix/policy.db": ""])
        #expect(hash.inspection.findings.map(\.rule) == [.duplicateKey])
        #expect(hash.exitStatus == 0)
    }
}
