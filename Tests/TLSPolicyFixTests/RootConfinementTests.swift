// RootConfinementTests.swift: attacks on --root. An image's paths must be
// resolved inside the image, whatever its symbolic links and parameters
// say: an absolute link is absolute inside the image, `..` stops at the
// image's root. Each test puts a victim on the host at the path an escape
// would reach (a table holding host-secret.example, a configuration that
// needs fixing) and the image's own file at the same path inside the
// image, then runs check, diff and apply: the victim's bytes must not
// change nor reach the output, and the image's file must be what was used.

import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct RootConfinementTests {
    let directory: TestDirectory
    let root: String
    /// Where the host's victims are: every file below it must stay as it was.
    let host: String

    init() throws {
        directory = try TestDirectory("ptf-confine")
        root = directory.file("image")
        host = directory.file("host")
    }

    /// A configuration directory at the absolute `path` on the host (the
    /// victim) and at the same path inside the image (the image's own).
    func placeConfig(at path: String, table: String = "policy") throws {
        for (prefix, key) in [("", "host-secret.example"), (root, "image.example")] {
            let config = prefix + path
            let relative = String(config.dropFirst(directory.path.count + 1))
            try directory.write(relative + "/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/\(table)\n")
            try directory.write(relative + "/" + table, "\(key) verify\n", mode: 0o600)
            #expect(try ExternalTool.postmap(["hash:\(config)/\(table)"], configDirectory: config).status == 0)
            backdate(config + "/" + table + ".db")
        }
    }

    /// A table at the absolute `path` on the host (the victim, mode 0600) and
    /// inside the image.
    func placeTable(at path: String) throws {
        for (prefix, key) in [("", "host-secret.example"), (root, "image.example")] {
            try directory.write(String((prefix + path).dropFirst(directory.path.count + 1)), "\(key) verify\n", mode: 0o600)
        }
    }

    func imageMainCf(_ text: String) throws {
        try directory.write("image/etc/postfix/main.cf", "compatibility_level = 3.6\n" + text)
    }

    func link(_ name: String, to target: String) throws {
        let path = root + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }

    /// `../` enough times to leave the image from `name` (a path inside it)
    /// and reach the host's root, then `path`.
    func escaping(from name: String, to path: String) -> String {
        let depth = (root + name).split(separator: "/").count - 1
        return String(repeating: "../", count: depth + 2) + path.dropFirst()
    }

    /// Runs the tool with a time limit (a confused run must not hang the suite).
    func run(_ arguments: [String]) throws -> ToolResult {
        var environment = ProcessInfo.processInfo.environment
        environment["MAIL_CONFIG"] = nil
        environment["NO_COLOR"] = "1"
        return try ExternalTool.run("/usr/bin/timeout", ["60", FixerBinary.path, "--root", root] + arguments, environment: environment)
    }

    /// check, diff and apply (with `applyArguments`) leave every host file
    /// as it was and never show the host's table; check sees the image's.
    func expectConfined(
        check checkArguments: [String] = ["check"], apply applyArguments: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let before = try treeStamps(host)
        let check = try run(checkArguments)
        #expect(check.outputText.contains("image.example"), "\(check.outputText)\(check.errors)", sourceLocation: sourceLocation)
        let diff = try run(checkArguments.map { $0 == "check" ? "diff" : $0 })
        let apply = try run(["--postfix-version", "3.7.11"] + checkArguments.map { $0 == "check" ? "apply" : $0 } + applyArguments)
        for result in [check, diff, apply] {
            let text = result.outputText + result.errors
            #expect(!text.contains("host-secret"), "a host file reached the output: \(text)", sourceLocation: sourceLocation)
        }
        #expect(apply.status == 0, "apply inside the image: \(apply.errors)", sourceLocation: sourceLocation)
        #expect(try treeStamps(host) == before, "apply (exit \(apply.status)) changed host files: \(apply.errors)", sourceLocation: sourceLocation)
    }

    /// An image whose /etc/postfix is an absolute link (valid inside the image).
    @Test func anAbsoluteConfigurationLinkStaysInTheImage() throws {
        try placeConfig(at: host + "/postfix")
        try link("/etc/postfix", to: host + "/postfix")
        try expectConfined()
        let lookup = try ExternalTool.postmap(
            ["-q", "image.example", "hash:\(root + host)/postfix/policy"], configDirectory: root + host + "/postfix")
        #expect(lookup.outputText == "verify servername=hostname\n", "the image's own table was fixed")
    }

    /// An image whose /etc is an absolute link.
    @Test func anAbsoluteEtcLinkStaysInTheImage() throws {
        try placeConfig(at: host + "/etc/postfix")
        try link("/etc", to: host + "/etc")
        try expectConfined()
    }

    /// A table named through a link that climbs with `..` past the image's root.
    @Test func dotDotLinksStopAtTheImagesRoot() throws {
        try placeTable(at: host + "/policy")
        let scratch = try directory.makeConfigDirectory()
        for table in [host + "/policy", root + host + "/policy"] {
            #expect(try ExternalTool.postmap(["hash:" + table], configDirectory: scratch).status == 0)
            backdate(table + ".db")
        }
        try imageMainCf("smtp_tls_policy_maps = hash:/etc/postfix/escape\n")
        try link("/etc/postfix/escape", to: escaping(from: "/etc/postfix/escape", to: host + "/policy"))
        try link("/etc/postfix/escape.db", to: escaping(from: "/etc/postfix/escape.db", to: host + "/policy.db"))
        try expectConfined(apply: ["--allow-path", host, "--allow-path", root + host])
    }

    /// A map path that climbs with `..` past the image's root.
    @Test func dotDotMapPathsStopAtTheImagesRoot() throws {
        try placeTable(at: host + "/policy")
        try imageMainCf("smtp_tls_policy_maps = hash:/../../../../../../..\(host)/policy\n")
        try expectConfined(apply: ["--allow-path", host, "--allow-path", root + host])
    }

    /// multi_instance_directories that climb with `..` past the image's root.
    @Test func instanceDirectoriesStayInTheImage() throws {
        try placeConfig(at: host + "/postfix-out")
        try imageMainCf("multi_instance_directories = /../../../../../../..\(host)/postfix-out\n")
        try expectConfined(check: ["--all-instances", "check"])
    }

    /// A map source that is an absolute link to a file only root may read:
    /// inside the image it is the image's file, which is what check shows
    /// and what apply copies into the (world-readable) index.
    @Test func anAbsoluteSourceLinkReadsTheImagesFile() throws {
        try placeTable(at: host + "/secret")
        try imageMainCf("smtp_tls_policy_maps = hash:/etc/postfix/policy\n")
        try link("/etc/postfix/policy", to: host + "/secret")
        try expectConfined(apply: ["--allow-path", host, "--allow-path", root + host])
        let config = root + "/etc/postfix"
        let lookup = try ExternalTool.postmap(["-q", "host-secret.example", "hash:\(config)/policy"], configDirectory: config)
        #expect(lookup.status == 1 && lookup.output.isEmpty, "the host's file reached the index: \(lookup.outputText)")
    }
}
