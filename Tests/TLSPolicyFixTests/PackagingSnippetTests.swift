// PackagingSnippetTests.swift: the maintainer-script snippets in
// Examples/packaging run against a fake root tree (an image with
// /etc/postfix inside it), as dpkg and rpm would run them: the Debian
// postinst under `sh -e` with DPKG_ROOT and DPKG_ADMINDIR set (dpkg's
// chrootless mode) or on the running system (MAIL_CONFIG pointing at the
// tree, stand-ins for postfix(1) and invoke-rc.d), the RPM %post with the
// tool seeing the tree as its root (rpm chroots; here a wrapper passes
// --root). Each must fix the tree (checked with the real postmap and
// postconf) keeping backups, do nothing on a second run, reload Postfix
// through the init system only when main.cf changed, say nothing where
// Postfix has no main.cf ("No configuration"), and exit 0 while leaving a
// broken configuration exactly as it was, saying why.
// Tests/package/run-package-test.sh pastes the Debian snippet into a real
// debhelper package and installs it with dpkg.

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
        // Stand-ins for postfix(1), which says Postfix runs, and for
        // invoke-rc.d; both log what they were asked.
        try directory.write("bin/postfix", "#!/bin/sh\necho \"$*\" >> \(postfixLog)\nexit 0\n", mode: 0o755)
        try installInvokeRcD(exitStatus: 0)
    }

    func installInvokeRcD(exitStatus: Int) throws {
        try directory.write("bin/invoke-rc.d", "#!/bin/sh\necho \"invoke-rc.d $*\" >> \(postfixLog)\nexit \(exitStatus)\n", mode: 0o755)
    }

    /// The RPM case: inside rpm's chroot the tool sees the image as "/" and
    /// the image's postconf answers the version; outside one, this wrapper
    /// says both.
    /// The snippet finds main.cf through MAIL_CONFIG, as it would find
    /// /etc/postfix/main.cf inside the chroot; the tool, inside it, would
    /// have no MAIL_CONFIG.
    func installChrootWrapper() throws {
        try directory.write(
            "bin/postfix-tls-fix",
            """
            #!/bin/sh
            exec env -u MAIL_CONFIG \(FixerBinary.path) --root \(root) --postfix-version 3.7.11 "$@"

            """, mode: 0o755)
    }

    /// The Debian case on a running system: the tool reads the directory
    /// MAIL_CONFIG names, with the version given so that the test does not
    /// depend on the Postfix installed here.
    func installSystemWrapper() throws {
        try directory.write(
            "bin/postfix-tls-fix",
            """
            #!/bin/sh
            exec \(FixerBinary.path) --postfix-version 3.7.11 "$@"

            """, mode: 0o755)
        // On the running system main.cf names its table by its real path.
        try directory.write(
            "root/etc/postfix/main.cf",
            """
            compatibility_level = 3.6
            smtp_tls_policy_maps = hash:\(root)/etc/postfix/tls_policy
            lmtp_tls_security_level = verify

            """)
    }

    /// The Debian case: the tool itself on the PATH.
    func linkTool() throws {
        try FileManager.default.createSymbolicLink(atPath: bin + "/postfix-tls-fix", withDestinationPath: FixerBinary.path)
    }

    /// Runs a snippet as dpkg or rpm would: with DPKG_ROOT and
    /// DPKG_ADMINDIR in dpkg's chrootless mode (`dpkgRoot`), and MAIL_CONFIG
    /// naming the tree's configuration directory unless `mailConfig` is false.
    func runSnippet(
        _ snippet: String, _ arguments: [String], dpkgRoot: String? = nil, adminDirectory: String? = nil, mailConfig: Bool = true
    ) throws -> ToolResult {
        var environment = ["PATH": bin + ":/usr/bin:/bin:/usr/sbin:/sbin", "NO_COLOR": "1"]
        if let dpkgRoot {
            environment["DPKG_ROOT"] = dpkgRoot
            environment["DPKG_ADMINDIR"] = adminDirectory ?? dpkgRoot + "/var/lib/dpkg"
        } else if mailConfig {
            environment["MAIL_CONFIG"] = root + "/etc/postfix"
        }
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

    /// dh_installdeb replaces debhelper's token wherever it stands in a
    /// postinst, comments included: pasted above the real one, a snippet
    /// that names it gets debhelper's shell code spliced into its comment.
    @Test func debianSnippetNeverNamesTheDebhelperToken() throws {
        let text = String(decoding: try readBytes(Self.debianSnippet), as: UTF8.self)
        #expect(!text.contains("#DEBHELPER#"))
    }

    /// A Postfix installed with "No configuration" has no main.cf: there is
    /// nothing to fix and nothing to say.
    @Test(arguments: ["debian", "rpm"])
    func withoutMainCfTheSnippetIsSilent(_ flavour: String) throws {
        try FileManager.default.removeItem(atPath: root + "/etc/postfix/main.cf")
        try expectUnchanged(root) {
            let result: ToolResult
            if flavour == "debian" {
                try linkTool()
                result = try runSnippet(Self.debianSnippet, ["configure", ""], dpkgRoot: root)
            } else {
                try installChrootWrapper()
                result = try runSnippet(Self.rpmSnippet, ["1"])
            }
            #expect(result.status == 0 && result.output.isEmpty && result.errors.isEmpty, "\(result.outputText)\(result.errors)")
        }
        #expect(try postfixCalls() == [])
    }

    /// An unattended change keeps what it replaced.
    @Test(arguments: ["debian", "rpm"])
    func theSnippetKeepsBackups(_ flavour: String) throws {
        let table = try readBytes(root + "/etc/postfix/tls_policy")
        let mainCf = try readBytes(root + "/etc/postfix/main.cf")
        if flavour == "debian" {
            try linkTool()
            #expect(try runSnippet(Self.debianSnippet, ["configure", ""], dpkgRoot: root).status == 0)
        } else {
            try installChrootWrapper()
            #expect(try runSnippet(Self.rpmSnippet, ["1"]).status == 0)
        }
        try expectFixed()
        #expect(try readBytes(root + "/etc/postfix/tls_policy.bak") == table)
        #expect(try readBytes(root + "/etc/postfix/main.cf.bak") == mainCf)
    }

    /// dpkg says where the image's database is (DPKG_ADMINDIR); the snippet
    /// must not assume it.
    @Test func debianPostinstReadsTheVersionWhereDpkgSays() throws {
        try linkTool()
        let admin = directory.file("admindir")
        try FileManager.default.moveItem(atPath: root + "/var/lib/dpkg", toPath: admin)
        let result = try runSnippet(Self.debianSnippet, ["configure", ""], dpkgRoot: root, adminDirectory: admin)
        #expect(result.status == 0 && result.errors.isEmpty, "\(result.errors)")
        try expectFixed()
    }

    /// On a running system a changed main.cf is reloaded through the init
    /// system's policy layer, and only when Postfix runs.
    @Test func debianPostinstReloadsThroughInvokeRcD() throws {
        try installSystemWrapper()
        let result = try runSnippet(Self.debianSnippet, ["configure", ""])
        #expect(result.status == 0 && result.errors.isEmpty, "\(result.errors)")
        try expectFixed()
        #expect(try postfixCalls() == ["status", "invoke-rc.d postfix reload"])
    }

    /// policy-rc.d may forbid the reload (exit 101): the change stays, the
    /// package transaction succeeds, and the person is told.
    @Test func aForbiddenReloadIsReportedNotFatal() throws {
        try installSystemWrapper()
        try installInvokeRcD(exitStatus: 101)
        let result = try runSnippet(Self.debianSnippet, ["configure", ""])
        #expect(result.status == 0, "\(result.errors)")
        try expectFixed()
        #expect(result.errors.contains("invoke-rc.d postfix reload failed (exit status 101); run postfix reload by hand"), "\(result.errors)")
    }
}
