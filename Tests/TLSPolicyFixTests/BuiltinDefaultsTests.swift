// BuiltinDefaultsTests.swift: every parameter postconf -d knows expands as
// postconf expands it, also where main.cf does not set it: $myhostname is
// never empty, and $data_directory is /var/lib/postfix, inside a --root
// image too (where the shipped table of Postfix's defaults stands in for
// the image's postconf).

import Foundation
import PostfixTestSupport
import Testing

struct BuiltinDefaultsTests {
    let directory: TestDirectory

    init() throws {
        directory = try TestDirectory("ptf-defaults")
    }

    @Test func aServernameFromABuiltinParameterIsAServername() throws {
        let config = try directory.write("postfix/main.cf", "smtp_tls_security_level = verify\nsmtp_tls_servername = $myhostname\n")
        let dir = (config as NSString).deletingLastPathComponent
        // postconf, the judge: the parameter is not empty.
        #expect(try ExternalTool.postconf(["-xh", "smtp_tls_servername"], configDirectory: dir).outputText != "\n")
        let check = try FixerBinary.run(["-c", dir, "check"])
        #expect(check.status == 0, "\(check.outputText)\(check.errors)")
        let image = try FixerBinary.run(["--root", directory.path, "-c", "/postfix", "--postfix-version", "3.7.11", "check"])
        #expect(image.status == 0, "\(image.outputText)\(image.errors)")
    }

    @Test func aTableUnderDataDirectoryIsFoundInsideTheImage() throws {
        let root = directory.file("image")
        try directory.write("image/etc/postfix/main.cf", "smtp_tls_policy_maps = texthash:$data_directory/tls_policy\n")
        try directory.write("image/var/lib/postfix/tls_policy", "data.example verify\n")
        let check = try FixerBinary.run(["--root", root, "--postfix-version", "3.7.11", "check"])
        #expect(check.status == 1, "\(check.outputText)\(check.errors)")
        #expect(
            check.outputText.hasPrefix("\(root)/var/lib/postfix/tls_policy, line 1: data.example: verify without servername"), "\(check.outputText)")
    }
}
