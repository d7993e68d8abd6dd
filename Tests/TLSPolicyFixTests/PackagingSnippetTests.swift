// PackagingSnippetTests.swift: the maintainer-script snippets in
// Examples/packaging run against a fake root tree (an image with
// /etc/postfix inside it), as dpkg and rpm would run them: the Debian
// postinst under `sh -e` with DPKG_ROOT set (dpkg's chrootless mode), the
// RPM %post with the tool seeing the tree as its root (rpm chroots; here a
// wrapper passes --root). Each must fix the tree (checked with the real
// postmap and postconf), do nothing on a second run, reload Postfix only
// when main.cf changed, and exit 0 while leaving a broken configuration
// exactly as it was, saying why.

import Foundation
import PostfixTestSupport
import Testing

struct PackagingSnippetTests {
    let directory: TestDirectory
    let root: String
    let bin: String
    let postfixLog: String

    static let debianSnippet = repositoryRoot + "/Examples/packaging/debian/postinst.snippet"
    static let rpmSnippet = repositoryRoot + "/Examples/packaging/rpm/post.snippet"

    init() throws {
        directory = try TestDirectory("ptf-packaging")
        root = directory.file("root")
        bin = directory.file("bin")
        postfixLog = directory.file("postfix.log")
        // The image: main.cf names its table by its path inside the image,
        // and sets an lmtp level so that main.cf itself changes too.
        try directory.write(
            "root/etc/postfix/main.cf",
            """
            compatibility_level = 3.6
            smtp_tls_policy_maps = hash:/etc/postfix/tls_policy
            lmtp_tls_security_level = verify

            """)
        try directory.write("root/etc/postfix/tls_policy", "example.com verify\nexample.net dane-only\n")
        let build = try ExternalTool.postmap(["hash:\(root)/etc/postfix/tls_policy"], configDirectory: root + "/etc/postfix")
        #expect(build.status == 0, "\(build.errors)")
        backdate(root + "/etc/postfix/tls_policy.db")
        // The image's dpkg database, where the Debian snippet reads the version.
        try directory.write(
            "root/var/lib/dpkg/status",
            """
            Package: postfix
            Status: install ok installed
            Version: 3.7.11-0+deb12u1
            Architecture: amd64
            Maintainer: Test <test@example.org>
            Description: fake Postfix entry of the test image

            """)
        // A stand-in for postfix(1) that says Postfix runs and logs what it was asked.
        try directory.write("bin/postfix", "#!/bin/sh\necho \"$*\" >> \(postfixLog)\nexit 0\n", mode: 0o755)
    }

    /// The RPM case: inside rpm's chroot the tool sees the image as "/" and
    /// the image's postconf answers the version; outside one, this wrapper
    /// says both.
    func installChrootWrapper() throws {
        try directory.write(
            "bin/postfix-tls-fix",
            """
            #!/bin/sh
            exec \(FixerBinary.path) --root \(root) --postfix-version 3.7.11 "$@"

            """, mode: 0o755)
    }

    /// The Debian case: the tool itself on the PATH.
    func linkTool() throws {
        try FileManager.default.createSymbolicLink(atPath: bin + "/postfix-tls-fix", withDestinationPath: FixerBinary.path)
    }

    func runSnippet(_ snippet: String, _ arguments: [String], dpkgRoot: String? = nil) throws -> ToolResult {
        var environment = ["PATH": bin + ":/usr/bin:/bin:/usr/sbin:/sbin", "NO_COLOR": "1"]
        if let dpkgRoot { environment["DPKG_ROOT"] = dpkgRoot }
        return try ExternalTool.run("/bin/sh", ["-e", snippet] + arguments, environment: environment)
    }

    func postfixCalls() throws -> [String] {
        guard FileManager.default.fileExists(atPath: postfixLog) else { return [] }
        return String(decoding: try readBytes(postfixLog), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// What the image's Postfix sees after a fix.
    func expectFixed() throws {
        let config = root + "/etc/postfix"
        let lookup = try ExternalTool.postmap(["-q", "example.com", "hash:\(config)/tls_policy"], configDirectory: config)
        #expect(lookup.outputText == "verify servername=hostname\n")
        let untouched = try ExternalTool.postmap(["-q", "example.net", "hash:\(config)/tls_policy"], configDirectory: config)
        #expect(untouched.outputText == "dane-only\n")
        let servername = try ExternalTool.postconf(["-h", "lmtp_tls_servername"], configDirectory: config)
        #expect(servername.outputText == "hostname\n")
    }

    @Test func debianPostinstFixesTheImageOnceAndReloadsNothing() throws {
        try linkTool()
        let first = try runSnippet(Self.debianSnippet, ["configure", ""], dpkgRoot: root)
        #expect(first.status == 0, "\(first.errors)")
        #expect(first.errors.isEmpty, "\(first.errors)")
        try expectFixed()
        // An image is not running: no reload, not even a status query.
        #expect(try postfixCalls() == [])

        try expectUnchanged(root) {
            let second = try runSnippet(Self.debianSnippet, ["configure", "1.0"], dpkgRoot: root)
            #expect(second.status == 0, "\(second.errors)")
            #expect(second.output.isEmpty && second.errors.isEmpty, "\(second.outputText)\(second.errors)")
        }
        // Other maintainer-script actions leave everything alone.
        try directory.write("root/etc/postfix/tls_policy", "example.org secure\n")
        try expectUnchanged(root) {
            let result = try runSnippet(Self.debianSnippet, ["abort-upgrade", "1.0"], dpkgRoot: root)
            #expect(result.status == 0, "\(result.errors)")
        }
    }

    @Test func rpmPostFixesOnceAndReloadsBecauseMainCfChanged() throws {
        try installChrootWrapper()
        let first = try runSnippet(Self.rpmSnippet, ["1"])
        #expect(first.status == 0, "\(first.errors)")
        try expectFixed()
        #expect(try postfixCalls() == ["status", "reload"])

        try expectUnchanged(root) {
            let second = try runSnippet(Self.rpmSnippet, ["2"])
            #expect(second.status == 0, "\(second.errors)")
            #expect(second.output.isEmpty && second.errors.isEmpty, "\(second.outputText)\(second.errors)")
        }
        #expect(try postfixCalls() == ["status", "reload"])
    }

    @Test func rpmPostReloadsNothingWhenOnlyTablesChange() throws {
        try installChrootWrapper()
        try directory.write("root/etc/postfix/main.cf", "smtp_tls_policy_maps = hash:/etc/postfix/tls_policy\n")
        let result = try runSnippet(Self.rpmSnippet, ["1"])
        #expect(result.status == 0, "\(result.errors)")
        // smtp(8) notices the rebuilt index by itself.
        #expect(try postfixCalls() == [])
    }

    @Test(arguments: ["debian", "rpm"])
    func aBrokenConfigurationIsLeftAsItWasAndTheSnippetSaysWhy(_ flavour: String) throws {
        try directory.write("root/etc/postfix/tls_policy", "example.com verify\nbroken.example verify servername=hostname servername=nexthop\n")
        try expectUnchanged(root) {
            let result: ToolResult
            if flavour == "debian" {
                try linkTool()
                result = try runSnippet(Self.debianSnippet, ["configure", ""], dpkgRoot: root)
            } else {
                try installChrootWrapper()
                result = try runSnippet(Self.rpmSnippet, ["1"])
            }
            #expect(result.status == 0, "the package transaction must not fail: \(result.errors)")
            #expect(result.errors.contains("postfix-tls-fix: error: tls_policy, line 2: broken.example:"), "\(result.errors)")
            #expect(result.errors.contains("postfix-tls-fix: not applied"), "\(result.errors)")
        }
        #expect(try postfixCalls() == [])
    }

    @Test func debianSnippetWithoutTheToolDoesNothing() throws {
        try expectUnchanged(root) {
            let result = try runSnippet(Self.debianSnippet, ["configure", ""], dpkgRoot: root)
            #expect(result.status == 0 && result.errors.isEmpty, "\(result.errors)")
        }
    }
}
