// GlobalServernameTests.swift: --global-servername is the one-line
// alternative done by the tool: <role>_tls_servername = hostname in main.cf
// for each role that needs SNI somewhere, instead of every entry's and
// service's own edit; fingerprint entries it reaches are noted, a service
// that empties the servername still needs a person, and a role that needs
// nothing is left alone. Judged by postconf: the written main.cf gives the
// role the servername.

import Foundation
import PostconfModel
import PostfixTestSupport
import TLSPolicyFix
import Testing

struct GlobalServernameTests {
    static let options = FixOptions(postfixVersion: PostfixVersion(3, 7), globalServername: true)

    @Test func oneMainCfSettingInsteadOfEveryEntry() throws {
        let mainCf = "smtp_tls_policy_maps = texthash:/etc/postfix/policy\n"
        let preview = try RuleTests.preview(
            mainCf, files: ["/etc/postfix/policy": "a.example verify\nb.example secure\npin.example fingerprint match=AA\n"],
            options: Self.options)
        #expect(RuleTests.written(preview, "/etc/postfix/policy") == nil, "no entry is edited")
        #expect(RuleTests.written(preview, "/etc/postfix/main.cf") == mainCf + "smtp_tls_servername = hostname\n")
        let lines = preview.inspection.findings.map(\.line)
        #expect(
            lines.contains { $0.hasPrefix("main.cf: smtp_tls_servername: smtp TLS policies verify without SNI (--global-servername") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("policy, line 3: note: pin.example:") }, "\(lines)")
        #expect(!lines.contains { $0.contains("lmtp") }, "lmtp needs nothing: \(lines)")
        #expect(preview.exitStatus == 1)
    }

    @Test func aServiceThatEmptiesTheServernameStillNeedsAPerson() throws {
        let preview = try RuleTests.preview(
            "smtp_tls_security_level = may\n",
            masterCf: "out unix - - n - - smtp -o smtp_tls_security_level=verify -o smtp_tls_servername=\n"
                + "out2 unix - - n - - smtp -o smtp_tls_security_level=secure\n",
            options: Self.options)
        #expect(RuleTests.written(preview, "/etc/postfix/master.cf") == nil, "no service override is added")
        #expect(RuleTests.written(preview, "/etc/postfix/main.cf") == "smtp_tls_security_level = may\nsmtp_tls_servername = hostname\n")
        #expect(preview.inspection.findings.contains { $0.severity == .manual && $0.subject == "out/unix" })
    }

    @Test func nothingToFixWritesNothing() throws {
        let preview = try RuleTests.preview(
            "smtp_tls_policy_maps = texthash:/etc/postfix/policy\n", files: ["/etc/postfix/policy": "a.example may\n"], options: Self.options)
        #expect(preview.plan.isEmpty)
        #expect(preview.exitStatus == 0)
    }

    @Test func postconfSeesTheServernameAfterApply() throws {
        let directory = try TestDirectory("ptf-global")
        let config = directory.file("postfix")
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = hash:$config_directory/policy\n")
        let source = try directory.write("postfix/policy", "a.example verify\n")
        #expect(try ExternalTool.postmap(["hash:\(source)"], configDirectory: config).status == 0)
        let apply = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "--global-servername", "apply"])
        #expect(apply.status == 0, "\(apply.errors)")
        #expect(try ExternalTool.postconf(["-h", "smtp_tls_servername"], configDirectory: config).outputText == "hostname\n")
        #expect(try ExternalTool.postmap(["-q", "a.example", "hash:\(source)"], configDirectory: config).outputText == "verify\n")
    }
}
