// FidelityRuleTests.swift: the rule where it used to disagree with Postfix
// (postfix-semantics.md section 8): per-level attribute checks as
// smtp_tls_policy.c makes them, a service that empties main.cf's
// servername, keywords in the wrong case. In-memory where the rule alone
// decides; judged by the real postconf where Postfix's reading of the files
// is the question.

import PostconfModel
import PostfixTestSupport
import Testing

@testable import TLSPolicyFix

struct FidelityRuleTests {
    /// smtp(8) only logs "ignoring attribute ... with TLS disabled" for a
    /// `none` entry's later tokens and sends: not an error, and it must not
    /// block the fixes of the other entries.
    @Test func noneIgnoresItsAttributes() throws {
        let preview = try RuleTests.preview(
            "smtp_tls_policy_maps = texthash:/etc/postfix/policy\n",
            files: ["/etc/postfix/policy": "broken.example none # ticket 1234\ngood.example verify\n"])
        #expect(preview.inspection.findings.map(\.line) == ["policy, line 2: good.example: verify \(RuleTests.missing)"])
        #expect(preview.exitStatus == 1)
        #expect(RuleTests.written(preview, "/etc/postfix/policy") == "broken.example none # ticket 1234\ngood.example verify servername=hostname\n")
    }

    /// connection_reuse takes yes or no (any case); smtp(8) defers mail for
    /// anything else ("has bad value").
    @Test func anInvalidAttributeValueIsABrokenEntry() throws {
        let preview = try RuleTests.preview(
            "smtp_tls_policy_maps = texthash:/etc/postfix/policy\n",
            files: ["/etc/postfix/policy": "reuse.example verify connection_reuse=true\nok.example may connection_reuse=YES\n"])
        #expect(
            preview.inspection.findings.map(\.line) == [
                "policy, line 1: error: reuse.example: attribute \"connection_reuse\" has bad value: \"true\"; smtp(8) defers mail for this destination; fix: correct the entry by hand"
            ])
        #expect(preview.exitStatus == 2)
    }

    static let gmailOut = "gmail-out unix - - n - - smtp -o smtp_tls_servername=\n"

    /// A service's empty override cancels main.cf's servername for that
    /// service, which still verifies at main.cf's level.
    @Test func aServiceThatEmptiesTheServernameIsReported() throws {
        let preview = try RuleTests.preview("smtp_tls_security_level = verify\nsmtp_tls_servername = hostname\n", masterCf: Self.gmailOut)
        #expect(
            preview.inspection.findings.map(\.line) == [
                "master.cf, line 1: gmail-out/unix: verify with an empty -o smtp_tls_servername; fix: set -o smtp_tls_servername=hostname on this service by hand"
            ])
        #expect(preview.exitStatus == 1)
        #expect(preview.plan.isEmpty)
    }

    /// The same, on disk: the real postconf says the service's value is
    /// empty while main.cf's is hostname, and check reports it.
    @Test func postconfAgreesTheServiceSendsNoSNI() throws {
        let directory = try TestDirectory()
        let config = try directory.makeConfigDirectory(
            mainCf: "compatibility_level = 3.6\nsmtp_tls_security_level = verify\nsmtp_tls_servername = hostname\n")
        try directory.write("postfix-config/master.cf", Self.gmailOut)
        let overrides = try ExternalTool.postconf(["-P"], configDirectory: config).outputText
        #expect(overrides == "gmail-out/unix/smtp_tls_servername =\n")
        let effective = try ExternalTool.postconf(
            ["-o", "smtp_tls_servername=", "-xh", "smtp_tls_servername", "smtp_tls_security_level"],
            configDirectory: config)
        #expect(effective.outputText == "\nverify\n")

        let check = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check"])
        #expect(check.status == 1)
        #expect(
            check.outputText.hasPrefix(
                "master.cf, line 1: gmail-out/unix: verify with an empty -o smtp_tls_servername; fix: set -o smtp_tls_servername=hostname on this service by hand\n"
            ))
    }
}

/// tls_client.c compares the servername keywords with strcmp: `HOSTNAME` is
/// not the keyword, it is sent literally as the SNI name (postfix-semantics
/// section 1.1, [live]). The tool reports it and writes the keyword in
/// lower case where it can.
struct KeywordCaseTests {
    @Test func aMainCfKeywordInTheWrongCaseIsLowercased() throws {
        let preview = try RuleTests.preview("smtp_tls_security_level = verify\nsmtp_tls_servername = Hostname  \n")
        #expect(
            preview.inspection.findings.map(\.line) == [
                "main.cf, line 2: smtp_tls_servername: \"Hostname\" is sent literally as the SNI name: Postfix knows only the lower-case keyword hostname;"
                    + " fix: set smtp_tls_servername = hostname in main.cf"
            ])
        #expect(RuleTests.written(preview, "/etc/postfix/main.cf") == "smtp_tls_security_level = verify\nsmtp_tls_servername = hostname  \n")
        #expect(preview.plan.reloadNeeded)
    }

    @Test func aServiceKeywordInTheWrongCaseIsLowercased() throws {
        let preview = try RuleTests.preview(
            "\n", masterCf: "relay unix - - n - - smtp -o smtp_tls_security_level=verify -o { smtp_tls_servername = NEXTHOP }\n")
        #expect(
            preview.inspection.findings.map(\.line) == [
                "master.cf, line 1: relay/unix: \"NEXTHOP\" is sent literally as the SNI name: Postfix knows only the lower-case keyword nexthop;"
                    + " fix: set -o smtp_tls_servername=nexthop on this service"
            ])
        #expect(
            RuleTests.written(preview, "/etc/postfix/master.cf")
                == "relay unix - - n - - smtp -o smtp_tls_security_level=verify -o { smtp_tls_servername = nexthop }\n")
    }

    /// On disk, judged by the real postconf: before, it reads the values
    /// as written (what smtp(8) gets); after apply, the keywords.
    @Test func postconfReadsTheLowercasedKeywords() throws {
        let directory = try TestDirectory()
        let config = try directory.makeConfigDirectory(
            mainCf: "compatibility_level = 3.6\nsmtp_tls_security_level = verify\nsmtp_tls_servername = HOSTNAME\n")
        try directory.write("postfix-config/master.cf", "relay unix - - n - - smtp\n  -o smtp_tls_servername=NextHop\n")
        #expect(try ExternalTool.postconf(["-xh", "smtp_tls_servername"], configDirectory: config).outputText == "HOSTNAME\n")
        let apply = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "apply"])
        #expect(apply.status == 0, "\(apply.errors)")
        #expect(try ExternalTool.postconf(["-xh", "smtp_tls_servername"], configDirectory: config).outputText == "hostname\n")
        #expect(try ExternalTool.postconf(["-P"], configDirectory: config).outputText == "relay/unix/smtp_tls_servername = nexthop\n")
        #expect(try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check"]).status == 0)
    }

    @Test func aMainCfKeywordThroughAParameterIsForAPerson() throws {
        let preview = try RuleTests.preview("sni = HOSTNAME\nsmtp_tls_servername = $sni\n")
        #expect(
            preview.inspection.findings.map(\.line) == [
                "main.cf, line 2: smtp_tls_servername: \"HOSTNAME\" is sent literally as the SNI name: Postfix knows only the lower-case keyword hostname;"
                    + " fix: set smtp_tls_servername = hostname by hand"
            ])
        #expect(preview.plan.isEmpty)
    }

    /// A source's entry is written in lower case in place; an entry that
    /// goes on over several lines, or one of a pattern or inline table, is
    /// for a person.
    @Test func aTableKeywordInTheWrongCaseIsLowercased() throws {
        let preview = try RuleTests.preview(
            "smtp_tls_policy_maps = texthash:/etc/postfix/policy, inline:{ { i.example = verify servername=NextHop } }\n",
            files: ["/etc/postfix/policy": "a.example verify match=HOSTNAME ServerName=HOSTNAME\nb.example verify\n  servername=Nexthop\n"])
        #expect(
            preview.inspection.findings.map(\.line) == [
                "main.cf, line 1: i.example: \"NextHop\" is sent literally as the SNI name: Postfix knows only the lower-case keyword nexthop;"
                    + " fix: write servername=nexthop in lower case by hand",
                "policy, line 1: a.example: \"HOSTNAME\" is sent literally as the SNI name: Postfix knows only the lower-case keyword hostname;"
                    + " fix: write servername=hostname in lower case",
                "policy, line 2: b.example: \"Nexthop\" is sent literally as the SNI name: Postfix knows only the lower-case keyword nexthop;"
                    + " fix: write servername=nexthop in lower case by hand",
            ])
        #expect(
            RuleTests.written(preview, "/etc/postfix/policy")
                == "a.example verify match=HOSTNAME ServerName=hostname\nb.example verify\n  servername=Nexthop\n")
        #expect(preview.exitStatus == 1)
    }

    /// A hash table: apply writes the source and the index alike, as the
    /// real postmap reads them.
    @Test func postmapReadsTheLowercasedEntry() throws {
        let directory = try TestDirectory()
        let config = try directory.makeConfigDirectory(
            mainCf: "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/policy\n")
        try directory.write(
            "postfix-config/policy", "a.example verify ServerName=HOSTNAME\r\nb.example verify\nc.example secure servername=NEXTHOP\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        let apply = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "apply"])
        #expect(apply.status == 0, "\(apply.errors)")
        #expect(
            try String(contentsOfFile: config + "/policy", encoding: .utf8)
                == "a.example verify ServerName=hostname\r\nb.example verify servername=hostname\nc.example secure servername=nexthop\n")
        let dump = try ExternalTool.postmap(["-s", "hash:\(config)/policy"], configDirectory: config).outputText
        #expect(
            Set(dump.split(separator: "\n")) == [
                "a.example\tverify ServerName=hostname", "b.example\tverify servername=hostname", "c.example\tsecure servername=nexthop",
            ])
        #expect(try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check"]).status == 0)
    }

    /// A table written in several pieces (EditedTableSource writes about
    /// 256 KiB at a time while the index is built): every keyword is
    /// lower-cased where the diff says, beside appended servernames.
    @Test func aLargeTableIsLowercasedAcrossPieces() throws {
        let directory = try TestDirectory()
        let config = try directory.makeConfigDirectory(
            mainCf: "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/policy\n")
        var source = ""
        var expected = ""
        var dump: Set<String> = []
        for number in 0..<30_000 {
            let key = "host\(number).example"
            let (before, after) =
                number % 3 == 0
                ? ("verify ServerName=HOSTNAME", "verify ServerName=hostname")
                : number % 3 == 1 ? ("secure", "secure servername=hostname") : ("may servername=NextHop", "may servername=nexthop")
            source += "\(key) \(before)\n"
            expected += "\(key) \(after)\n"
            dump.insert("\(key)\t\(after)")
        }
        try directory.write("postfix-config/policy", source)
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        let diff = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "diff"])
        #expect(diff.outputText.split(separator: "\n").filter { $0.hasPrefix("+") && !$0.hasPrefix("+++") }.count == 30_000)
        let apply = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "apply"])
        #expect(apply.status == 0, "\(apply.errors)")
        #expect(try String(contentsOfFile: config + "/policy", encoding: .utf8) == expected)
        let stored = try ExternalTool.postmap(["-s", "hash:\(config)/policy"], configDirectory: config).outputText
        #expect(Set(stored.split(separator: "\n").map(String.init)) == dump)
    }

    /// A fingerprint entry that main.cf's new servername reaches: it gets SNI
    /// without an edit of its own, and a server may then present another
    /// certificate than the pinned one.
    @Test func aGlobalFixThatReachesFingerprintEntriesSaysSo() throws {
        let preview = try RuleTests.preview(
            "smtp_tls_security_level = verify\nsmtp_tls_policy_maps = texthash:/etc/postfix/policy\n",
            files: ["/etc/postfix/policy": "pin.example fingerprint match=AA:BB\nnamed.example fingerprint match=AA:BB servername=hostname\n"])
        #expect(
            preview.inspection.findings.map(\.line) == [
                "main.cf, line 1: smtp_tls_security_level: smtp TLS level verify without smtp_tls_servername (Postfix sends no SNI);"
                    + " fix: set smtp_tls_servername = hostname in main.cf",
                "policy, line 1: note: pin.example: fingerprint: the new main.cf smtp_tls_servername gives this entry SNI too;"
                    + " a server that picks its certificate by SNI may then present another one than the pinned",
            ])
    }
}

/// smtp_tls_policy.c: a main.cf (or service) servername that is not a valid
/// hostname marks every TLS delivery without its own servername invalid
/// ("specifies an invalid hostname", deferred): not a servername the rule
/// may count on.
struct InvalidServernameTests {
    @Test func anInvalidMainCfServernameIsAnError() throws {
        let preview = try RuleTests.preview("smtp_tls_security_level = verify\nsmtp_tls_servername = mx_1!.example\n")
        #expect(
            preview.inspection.findings.map(\.line) == [
                "main.cf, line 2: error: smtp_tls_servername: \"smtp_tls_servername = mx_1!.example\" specifies an invalid hostname;"
                    + " smtp(8) defers every TLS delivery that has no servername of its own"
            ])
        #expect(preview.exitStatus == 2)
    }

    @Test func anInvalidServiceServernameIsAnError() throws {
        let preview = try RuleTests.preview("\n", masterCf: "relay unix - - n - - smtp -o smtp_tls_servername=-bad\n")
        #expect(
            preview.inspection.findings.map(\.line) == [
                "master.cf, line 1: error: relay/unix: \"smtp_tls_servername = -bad\" specifies an invalid hostname;"
                    + " smtp(8) defers every TLS delivery that has no servername of its own"
            ])
    }
}
