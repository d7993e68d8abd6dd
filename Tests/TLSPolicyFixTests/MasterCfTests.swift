// MasterCfTests.swift: master.cf services that set their own TLS level or
// policy maps, fixed by apply and read back by the real `postconf -P` (which
// parses master.cf as Postfix does), with every other byte unchanged.

import Foundation
import PostfixTestSupport
import Testing

struct MasterCfTests {
    let directory: TestDirectory
    let config: String

    init() throws {
        directory = try TestDirectory()
        config = directory.file("postfix")
    }

    /// Debian's master.cf with services of every style appended.
    static func masterCf() throws -> String {
        let debian = String(decoding: try readBytes("/usr/share/postfix/master.cf.dist"), as: UTF8.self)
        return debian + """
            # a relay with overrides on lines of their own
            relay-verify unix  -       -       y       -       -       smtp
                -o smtp_tls_security_level=verify
                -o syslog_name=postfix/relay-verify
            # everything on one line
            oneline   unix  -       -       y       -       -       smtp -o smtp_tls_security_level=secure -o smtp_tls_loglevel=1
            # the long form, with a comment inside the entry
            braced    unix  -       -       y       -       -       smtp
              -o { smtp_tls_security_level = verify }
            # comment inside
              -o { smtp_tls_loglevel = 1 }
            # already has a servername: left alone
            named     unix  -       -       y       -       -       smtp
                -o smtp_tls_security_level=verify -o smtp_tls_servername=nexthop
            # lmtp reads lmtp_* parameters only
            lmtp-verify unix -      -       n       -       -       lmtp
                -o lmtp_tls_security_level=verify
            # its own policy map
            mapped    unix  -       -       y       -       -       smtp
                -o smtp_tls_policy_maps=hash:$config_directory/mapped_policy
            """
    }

    func overrides() throws -> [String] {
        try ExternalTool.postconf(["-P"], configDirectory: config).outputText.split(separator: "\n").map(String.init)
    }

    @Test func servicesWithTheirOwnVerifyingLevelGetAServernameOverride() throws {
        let original = try Self.masterCf()
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\n")
        try directory.write("postfix/master.cf", original)
        try directory.write("postfix/mapped_policy", "gmail.test verify\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/mapped_policy"], configDirectory: config).status == 0)

        let result = try FixerBinary.run(["-c", config, "apply"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.outputText.contains("postfix reload"))

        let after = try overrides()
        for service in ["relay-verify/unix", "oneline/unix", "braced/unix"] {
            #expect(after.contains("\(service)/smtp_tls_servername = hostname"), "\(service): \(after)")
        }
        #expect(after.contains("named/unix/smtp_tls_servername = nexthop"))
        #expect(after.contains("lmtp-verify/unix/lmtp_tls_servername = hostname"))
        #expect(!after.contains { $0.hasPrefix("mapped/unix/smtp_tls_servername") })
        #expect(
            try ExternalTool.postmap(["-q", "gmail.test", "hash:\(config)/mapped_policy"], configDirectory: config).outputText
                == "verify servername=hostname\n")

        // Exactly the new overrides were added, each in its entry's style.
        let expected =
            original
            .replacingOccurrences(
                of: "    -o syslog_name=postfix/relay-verify\n",
                with: "    -o syslog_name=postfix/relay-verify\n    -o smtp_tls_servername=hostname\n"
            )
            .replacingOccurrences(
                of: "-o smtp_tls_loglevel=1\n# the long form", with: "-o smtp_tls_loglevel=1 -o smtp_tls_servername=hostname\n# the long form"
            )
            .replacingOccurrences(
                of: "  -o { smtp_tls_loglevel = 1 }\n", with: "  -o { smtp_tls_loglevel = 1 }\n  -o { smtp_tls_servername = hostname }\n"
            )
            .replacingOccurrences(
                of: "    -o lmtp_tls_security_level=verify\n", with: "    -o lmtp_tls_security_level=verify\n    -o lmtp_tls_servername=hostname\n")
        #expect(String(decoding: try readBytes(config + "/master.cf"), as: UTF8.self) == expected)
        #expect(try FixerBinary.run(["-c", config, "check"]).status == 0)
    }

    /// A service that empties the servername main.cf gives, with the level
    /// main.cf gives: postconf -P shows the empty override, so that service
    /// verifies without SNI, and check says so (a person decides: the empty
    /// value may be deliberate).
    @Test func aServiceThatEmptiesTheServernameIsReported() throws {
        try directory.write("postfix/main.cf", "smtp_tls_security_level = verify\nsmtp_tls_servername = hostname\n")
        try directory.write("postfix/master.cf", "smtp unix - - y - - smtp\ngmail-out unix - - n - - smtp -o smtp_tls_servername=\n")
        #expect(try overrides().contains("gmail-out/unix/smtp_tls_servername ="))
        let check = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check"])
        #expect(check.status == 1, "\(check.outputText)")
        #expect(check.outputText.contains("master.cf, line 2: gmail-out/unix: verify with an empty -o smtp_tls_servername"), "\(check.outputText)")
    }

    @Test func badEntriesNameTheLine() throws {
        try directory.write("postfix/main.cf", "\n")
        try directory.write("postfix/master.cf", "smtp unix - - y - - smtp\nrelay unix - - y - - smtp -o\n")
        let check = try FixerBinary.run(["-c", config, "check"])
        #expect(check.status == 2)
        #expect(check.errors.contains("master.cf, line 2: \"-o\" without a value in service relay/unix"))
    }
}
