// InlineOccurrenceTests.swift: an inline: table is edited where the value in
// force of each parameter naming it is written. The same text in smtp_ and
// lmtp_tls_policy_maps is two copies, both edited; a parameter defined twice
// has its last definition edited (Postfix never reads the first); a list
// that names it through $name gets the definition of that name; a master.cf
// -o gets its own. Judged by postconf after apply.

import Foundation
import PostconfModel
import PostfixTestSupport
import TLSPolicyFix
import Testing

struct InlineOccurrenceTests {
    static let fixed = "inline:{ { gmail.com = verify servername=hostname } }"

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var mainCf: String
        var masterCf: String?
        /// postconf -h PARAMETER (with -P SERVICE/PARAMETER for a service) after apply.
        var expected: [String: String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "the same text in smtp_ and lmtp_tls_policy_maps",
            mainCf: "smtp_tls_policy_maps = inline:{ gmail.com=verify }\nlmtp_tls_policy_maps = inline:{ gmail.com=verify }\n",
            expected: ["smtp_tls_policy_maps": fixed, "lmtp_tls_policy_maps": fixed]),
        Case(
            name: "a parameter defined twice",
            mainCf: "smtp_tls_policy_maps = inline:{ gmail.com=verify }\nsmtp_tls_policy_maps = inline:{ gmail.com=verify }\n",
            expected: ["smtp_tls_policy_maps": fixed]),
        Case(
            name: "through $name, and a service's own copy",
            mainCf: "mymaps = inline:{ gmail.com=verify }\nsmtp_tls_policy_maps = $mymaps\n",
            masterCf: "smtp unix - - n - - smtp\nrelay unix - - n - - smtp -o smtp_tls_policy_maps=inline:{ gmail.com=verify }\n",
            expected: ["mymaps": fixed, "relay/unix/smtp_tls_policy_maps": fixed]),
    ]

    @Test(arguments: cases)
    func everyCopyInForceIsEdited(_ testCase: Case) throws {
        let directory = try TestDirectory("ptf-inline")
        let config = directory.file("postfix")
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\n" + testCase.mainCf)
        if let masterCf = testCase.masterCf { try directory.write("postfix/master.cf", masterCf) }
        let apply = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "apply"])
        #expect(apply.status == 0, "\(apply.outputText)\(apply.errors)")
        for (parameter, value) in testCase.expected {
            let arguments = parameter.contains("/") ? ["-Ph", parameter] : ["-h", parameter]
            let postconf = try ExternalTool.postconf(arguments, configDirectory: config)
            #expect(postconf.outputText == value + "\n", "\(parameter): \(postconf.outputText)\(postconf.errors)")
        }
        let again = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check"])
        #expect(again.status == 0, "\(again.outputText)")
    }

    /// The overridden first definition stays as it was, byte for byte.
    @Test func theOverriddenDefinitionIsLeftAlone() throws {
        let mainCf = "smtp_tls_policy_maps = inline:{ gmail.com=verify }\nsmtp_tls_policy_maps = inline:{ gmail.com=verify }\n"
        let preview = try RuleTests.preview(mainCf)
        #expect(
            RuleTests.written(preview, "/etc/postfix/main.cf")
                == "smtp_tls_policy_maps = inline:{ gmail.com=verify }\nsmtp_tls_policy_maps = \(Self.fixed)\n")
    }
}

/// A static: table follows the same rule, and a source shared by two
/// tables (hash:t beside lmdb:t) gets servername once, with both indexes
/// rebuilt from it, also when only one table's readers need it.
struct SharedPlacesTests {
    @Test func staticDefinedTwiceHasItsValueInForceEdited() throws {
        let preview = try RuleTests.preview("smtp_tls_policy_maps = static:verify\nsmtp_tls_policy_maps = static:verify\n")
        #expect(
            RuleTests.written(preview, "/etc/postfix/main.cf")
                == "smtp_tls_policy_maps = static:verify\nsmtp_tls_policy_maps = static:{ verify servername=hostname }\n")
    }

    @Test(arguments: ["", "smtp_tls_servername = hostname\n"])
    func aSourceSharedByTwoTablesIsEditedOnceAndBothIndexesRebuilt(_ extra: String) throws {
        let directory = try TestDirectory("ptf-shared")
        let config = directory.file("postfix")
        try directory.write(
            "postfix/main.cf",
            "compatibility_level = 3.6\n" + extra
                + "smtp_tls_policy_maps = hash:$config_directory/t\nlmtp_tls_policy_maps = lmdb:$config_directory/t\n")
        let source = try directory.write("postfix/t", "a.example verify\n")
        for type in ["hash", "lmdb"] { #expect(try ExternalTool.postmap(["\(type):\(source)"], configDirectory: config).status == 0) }
        backdate(source)
        let apply = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "apply"], within: 60)
        #expect(apply.status == 0, "\(apply.outputText)\(apply.errors)")
        #expect(String(decoding: try readBytes(source), as: UTF8.self) == "a.example verify servername=hostname\n")
        for type in ["hash", "lmdb"] {
            let lookup = try ExternalTool.postmap(["-q", "a.example", "\(type):\(source)"], configDirectory: config)
            #expect(lookup.outputText == "verify servername=hostname\n", "\(type): \(lookup.outputText)")
        }
        #expect(try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check"]).status == 0)
    }
}
