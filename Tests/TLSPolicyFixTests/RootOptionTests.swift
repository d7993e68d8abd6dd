// RootOptionTests.swift: --root DIR, for image builds and chroots. The
// configuration directory, $config_directory, absolute map paths and paths
// relative to queue_directory all resolve inside DIR; Postfix's own
// postmap, run on the image's files, sees the fix; and the postconf of this
// machine is not taken for the image's Postfix version.

import Foundation
import PostfixTestSupport
import Testing

struct RootOptionTests {
    let directory: TestDirectory
    let root: String

    init() throws {
        directory = try TestDirectory("ptf-root")
        root = directory.file("image")
        try directory.write(
            "image/etc/postfix/main.cf",
            """
            queue_directory = /var/spool/postfix
            smtp_tls_policy_maps = hash:$config_directory/by_variable, hash:/etc/postfix/by_path, hash:by_queue_directory

            """)
        try directory.write("image/etc/postfix/by_variable", "variable.example verify\n")
        try directory.write("image/etc/postfix/by_path", "path.example secure\n")
        try directory.write("image/var/spool/postfix/by_queue_directory", "queue.example verify\n")
    }

    @Test func everyPathResolvesInsideTheRoot() throws {
        try expectUnchanged(root) {
            let result = try FixerBinary.run(["--root", root, "check"])
            #expect(result.status == 1, "\(result.errors)")
            #expect(
                result.outputText == """
                    \(root)/var/spool/postfix/by_queue_directory, line 1: queue.example: verify without servername (Postfix sends no SNI); fix: append servername=hostname
                    by_path, line 1: path.example: secure without servername (Postfix sends no SNI); fix: append servername=hostname
                    by_variable, line 1: variable.example: verify without servername (Postfix sends no SNI); fix: append servername=hostname
                    findings by file:
                      \(root)/var/spool/postfix/by_queue_directory: 1 fixable
                      by_path: 1 fixable
                      by_variable: 1 fixable
                    3 fixes pending: apply writes \(root)/var/spool/postfix/by_queue_directory.db, \(root)/var/spool/postfix/by_queue_directory, outside \(root)/etc/postfix: review it, then run `postfix-tls-fix --root \(root) apply --allow-path \(root)/var/spool/postfix/by_queue_directory.db --allow-path \(root)/var/spool/postfix/by_queue_directory`

                    """)
        }
        // -c is a path inside the root, relative ones too; JSON names both.
        let json = try FixerBinary.run(["check", "--root", root + "/", "-c", "etc/postfix", "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.output)) as? [String: Any])
        #expect(report["configDirectory"] as? String == root + "/etc/postfix")
        #expect(report["root"] as? String == root)
        #expect(report["postfixVersion"] is NSNull, "this machine's postconf is not the image's Postfix")
    }

    /// A master.cf service's own policy map, named through $config_directory,
    /// is found inside the root too (once: not with the root prefixed twice).
    @Test func masterCfOverridesResolveInsideTheRoot() throws {
        try directory.write("image/etc/postfix/main.cf", "compatibility_level = 3.6\n")
        try directory.write(
            "image/etc/postfix/master.cf",
            """
            mapped    unix  -       -       y       -       -       smtp
                -o smtp_tls_policy_maps=hash:$config_directory/mapped_policy

            """)
        try directory.write("image/etc/postfix/mapped_policy", "mapped.example verify\n")
        let result = try FixerBinary.run(["--root", root, "check"])
        #expect(result.status == 1, "\(result.errors)")
        #expect(result.outputText.hasPrefix("mapped_policy, line 1: mapped.example: verify without servername"), "\(result.outputText)")
    }

    @Test func applyNeedsTheVersionAndThenFixesTheImage() throws {
        try directory.write("image/etc/postfix/main.cf", "smtp_tls_policy_maps = hash:/etc/postfix/by_path\n")
        try expectUnchanged(root) {
            let refused = try FixerBinary.run(["--root", root, "apply"])
            #expect(refused.status == 2)
            #expect(refused.errors.contains("pass --postfix-version X.Y.Z; nothing written"), "\(refused.errors)")
        }
        let applied = try FixerBinary.run(["--root", root, "--postfix-version", "3.7.11", "apply"])
        #expect(applied.status == 0, "\(applied.errors)")
        let config = root + "/etc/postfix"
        let lookup = try ExternalTool.postmap(["-q", "path.example", "hash:\(config)/by_path"], configDirectory: config)
        #expect(lookup.outputText == "secure servername=hostname\n")
    }
}
