// MainCfFixTests.swift: main.cf levels fixed by apply, checked with the real
// postconf (which reads main.cf as every Postfix daemon does), and map lists
// read as postconf -xh expands them.

import Foundation
import PostfixTestSupport
import Testing

struct MainCfFixTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var mainCf: String
        /// What postconf -h smtp_tls_servername / lmtp_tls_servername print afterwards ("" = unchanged empty).
        var smtp: String
        var lmtp: String
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no final newline", mainCf: "myhostname = a.example\nsmtp_tls_security_level = verify", smtp: "hostname", lmtp: ""),
        Case(
            name: "duplicate, last one verifies", mainCf: "smtp_tls_security_level = may\nsmtp_tls_security_level = secure\n", smtp: "hostname",
            lmtp: ""),
        Case(name: "duplicate, last one does not", mainCf: "smtp_tls_security_level = verify\nsmtp_tls_security_level = may\n", smtp: "", lmtp: ""),
        Case(
            name: "continuation lines and a comment inside", mainCf: "smtp_tls_security_level =\n# why\n    verify\nsmtp_tls_servername =\n",
            smtp: "hostname", lmtp: ""),
        Case(
            name: "empty setting filled in place", mainCf: "smtp_tls_servername =  \nsmtp_tls_security_level = verify\n", smtp: "hostname", lmtp: ""),
        Case(
            name: "commented-out setting left alone", mainCf: "#smtp_tls_servername = nexthop\nsmtp_tls_security_level = Verify\n", smtp: "hostname",
            lmtp: ""),
        Case(name: "level through a parameter", mainCf: "my_level = secure\nsmtp_tls_security_level = $my_level\n", smtp: "hostname", lmtp: ""),
        Case(name: "obsolete enforce_tls", mainCf: "smtp_enforce_tls = yes\n", smtp: "hostname", lmtp: ""),
        Case(name: "obsolete enforce_tls without peername", mainCf: "smtp_enforce_tls = yes\nsmtp_tls_enforce_peername = no\n", smtp: "", lmtp: ""),
        Case(
            name: "lmtp does not inherit smtp",
            mainCf: "smtp_tls_security_level = verify\nsmtp_tls_servername = hostname\nlmtp_tls_security_level = verify\n", smtp: "hostname",
            lmtp: "hostname"),
        Case(name: "CRLF", mainCf: "smtp_tls_security_level = verify\r\n", smtp: "hostname", lmtp: ""),
    ]

    @Test(arguments: cases)
    func applyAgreesWithPostconf(testCase: Case) throws {
        let directory = try TestDirectory()
        let config = try directory.write("postfix/main.cf", testCase.mainCf)
        let dir = (config as NSString).deletingLastPathComponent
        let result = try FixerBinary.run(["-c", dir, "apply"])
        #expect(result.status == 0, "\(result.errors)")
        let smtp = try ExternalTool.postconf(["-h", "smtp_tls_servername"], configDirectory: dir)
        let lmtp = try ExternalTool.postconf(["-h", "lmtp_tls_servername"], configDirectory: dir)
        #expect(smtp.outputText == testCase.smtp + "\n", "\(smtp.errors)")
        #expect(lmtp.outputText == testCase.lmtp + "\n")
        #expect(!smtp.errors.contains("overriding earlier entry: smtp_tls_servername"))
        // Nothing but the new text: the old file is the new one minus an insertion.
        let before = Array(testCase.mainCf.utf8)
        let after = try readBytes(dir + "/main.cf")
        let prefix = zip(before, after).prefix { $0 == $1 }.count
        let suffix = zip(before.reversed(), after.reversed()).prefix { $0 == $1 }.count
        #expect(prefix + suffix >= before.count, "more than an insertion changed")
        if testCase.smtp.isEmpty && testCase.lmtp.isEmpty { #expect(after == before) }
        #expect(try FixerBinary.run(["-c", dir, "check"]).status == 0)
    }

    /// The tables we read from a map list are the ones postconf -xh lists.
    @Test func mapListsAreExpandedAndSplitAsPostconfDoes() throws {
        let directory = try TestDirectory()
        let dir = directory.file("postfix")
        try directory.write(
            "postfix/main.cf",
            """
            maps_dir = $config_directory/maps
            extra = texthash:${maps_dir}/c
            smtp_tls_policy_maps = hash:$maps_dir/a,btree:$(maps_dir)/b
              $extra, proxy:hash:${maps_dir}/a2
              inline:{ a.test=may, { b.test = may } } relative
            """)
        for name in ["a", "b", "c", "a2"] { try directory.write("postfix/maps/\(name)", "x.test may\n") }
        for name in ["a", "a2"] { _ = try ExternalTool.postmap(["hash:\(dir)/maps/\(name)"], configDirectory: dir) }
        _ = try ExternalTool.postmap(["btree:\(dir)/maps/b"], configDirectory: dir)
        let postconf = try ExternalTool.postconf(["-xh", "smtp_tls_policy_maps"], configDirectory: dir).outputText
        let check = try FixerBinary.run(["-c", dir, "check"])
        // Every table postconf lists is one the tool read or named.
        for table in ["hash:\(dir)/maps/a", "btree:\(dir)/maps/b", "texthash:\(dir)/maps/c", "hash:\(dir)/maps/a2"] {
            #expect(postconf.contains(table))
        }
        #expect(postconf.contains("inline:{ a.test=may, { b.test = may } }"))
        // "relative" is not type:name: Postfix fails to open it, the tool says so.
        #expect(check.status == 2)
        #expect(check.outputText.contains("\"relative\" is not a type:name table"))
        #expect(!check.outputText.contains("does not exist"), "\(check.outputText)")
    }
}

/// Values Postfix's client refuses at start-up are errors: no fix helps
/// while they stand, and apply writes nothing.
struct FatalSettingsTests {
    @Test(arguments: [
        ("main.cf", "smtp_tls_security_level = verfy\n", "", "invalid TLS security level \"verfy\""),
        ("main.cf", "smtp_tls_policy_maps = ${x?{a}\n", "", "smtp_tls_policy_maps: "),
        ("main.cf", "smtp_tls_policy_maps = inline:{ a.test=verify\n", "", "inline: table without its closing '}'"),
        ("master.cf", "", "relay unix - - y - - smtp -o smtp_tls_security_level=bogus\n", "relay/unix: invalid TLS security level \"bogus\""),
        ("master.cf", "", "relay unxi - - y - - smtp\n", "bad transport type: unxi"),
    ])
    func areErrors(file: String, mainCf: String, masterCf: String, message: String) throws {
        let directory = try TestDirectory()
        let config = directory.file("postfix")
        try directory.write("postfix/main.cf", mainCf)
        if !masterCf.isEmpty { try directory.write("postfix/master.cf", masterCf) }
        try expectUnchanged(config) {
            let check = try FixerBinary.run(["-c", config, "check"])
            #expect(check.status == 2)
            #expect((check.outputText + check.errors).contains(message), "\(check.outputText)\(check.errors)")
            #expect(try FixerBinary.run(["-c", config, "apply"]).status == 2)
        }
    }
}
