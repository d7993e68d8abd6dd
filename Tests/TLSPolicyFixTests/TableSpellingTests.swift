// TableSpellingTests.swift: one table reached through two spellings is one
// table. `-c DIR/` with main.cf's hash:$config_directory/t beside
// lmtp_tls_policy_maps = hash:DIR/t, a master.cf `-o` with "//", a "./" in a
// texthash path, a directory reached through a symbolic link: each made
// apply wait forever on the flock it held itself. The table is reported,
// locked and written once, under one display path, and postmap finds the
// fixed entry.

import Foundation
import PostfixTestSupport
import Testing

struct TableSpellingTests {
    struct Spelling: CustomTestStringConvertible, Sendable {
        var name: String
        var type = "hash"
        /// The location argument (%D: the configuration directory).
        var location = "%D"
        var mainCf: String
        var masterCf: String?
        var testDescription: String { name }
    }

    static let spellings: [Spelling] = [
        Spelling(
            name: "-c DIR/ and hash:DIR/t", location: "%D/",
            mainCf: "smtp_tls_policy_maps = hash:$config_directory/t\nlmtp_tls_policy_maps = hash:%D/t\n"),
        Spelling(
            name: "a master.cf -o with //", mainCf: "smtp_tls_policy_maps = hash:$config_directory/t\n",
            masterCf: "relay unix - - n - - smtp -o smtp_tls_policy_maps=hash:%D//t -o smtp_tls_servername=\n"),
        Spelling(
            name: "texthash with ./", type: "texthash",
            mainCf: "smtp_tls_policy_maps = texthash:$config_directory/t\nlmtp_tls_policy_maps = texthash:%D/./t\n"),
        Spelling(
            name: "a directory reached through a link",
            mainCf: "smtp_tls_policy_maps = hash:$config_directory/t\nlmtp_tls_policy_maps = hash:%L/t\n"),
    ]

    @Test(arguments: spellings)
    func oneTableIsLockedAndWrittenOnce(_ spelling: Spelling) throws {
        let directory = try TestDirectory("ptf-spelling")
        let config = directory.file("postfix")
        let link = directory.file("link")
        func filled(_ text: String) -> String { text.replacingOccurrences(of: "%D", with: config).replacingOccurrences(of: "%L", with: link) }
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\n" + filled(spelling.mainCf))
        if let masterCf = spelling.masterCf { try directory.write("postfix/master.cf", filled(masterCf)) }
        let source = try directory.write("postfix/t", "a.example verify\n")
        #expect(symlink(config, link) == 0)
        if spelling.type == "hash" { #expect(try ExternalTool.postmap(["hash:\(source)"], configDirectory: config).status == 0) }
        let location = filled(spelling.location)

        let check = try FixerBinary.run(["-c", location, "--postfix-version", "3.7.11", "check"], within: 20)
        #expect(check.status == 1, "\(check.outputText)\(check.errors)")
        #expect(check.outputText.hasPrefix("t, line 1: a.example: verify without servername"), "\(check.outputText)")
        #expect(check.outputText.contains("1 fix pending"), "one table, one finding: \(check.outputText)")

        let apply = try FixerBinary.run(["-c", location, "--postfix-version", "3.7.11", "apply"], within: 20)
        #expect(apply.status == 0, "exit \(apply.status) (124: it hung): \(apply.outputText)\(apply.errors)")
        #expect(apply.outputText.hasPrefix("--- a/t\n+++ b/t\n"), "\(apply.outputText)")
        #expect(String(decoding: try readBytes(source), as: UTF8.self) == "a.example verify servername=hostname\n")
        let lookup = try ExternalTool.postmap(["-q", "a.example", "\(spelling.type):\(source)"], configDirectory: config)
        #expect(lookup.outputText == "verify servername=hostname\n")
    }
}
