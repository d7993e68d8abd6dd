// VersionTests.swift: the VERSION file at the repository's root is the one
// source of the tool's version. The binary's --version and the JSON
// reports' toolVersion must say it, and so must the two package
// definitions (debian/changelog's newest entry, the RPM spec's Version),
// which cannot read the file themselves.

import Foundation
import PostfixTestSupport
import PostfixTools
import TLSPolicyFix
import Testing

struct VersionTests {
    /// VERSION without its final newline.
    static func versionFile() throws -> String {
        let text = String(decoding: try readBytes(repositoryRoot + "/VERSION"), as: UTF8.self)
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func text(_ path: String) throws -> String {
        String(decoding: try readBytes(repositoryRoot + "/" + path), as: UTF8.self)
    }

    @Test func versionFileIsAPlainDottedVersion() throws {
        let version = try Self.versionFile()
        let parts = version.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }, "VERSION: \(version)")
        // One line, newline-terminated, nothing else: scripts read it with $(cat VERSION).
        #expect(try Self.text("VERSION") == version + "\n")
    }

    @Test func versionOptionPrintsTheVersionFile() throws {
        let result = try FixerBinary.run(["--version"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.outputText == (try Self.versionFile()) + "\n")
        #expect(result.errors.isEmpty, "\(result.errors)")
    }

    @Test func jsonReportsCarryTheToolVersion() throws {
        let directory = try TestDirectory()
        let config = try directory.makeConfigDirectory()
        let check = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check", "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(check.output)) as? [String: Any])
        #expect(report["toolVersion"] as? String == (try Self.versionFile()))
        // A report of a command that stopped with an error carries it too.
        let failed = try FixerBinary.run(["-c", directory.file("missing"), "--postfix-version", "3.7.11", "check", "--format", "json"])
        #expect(failed.status == 2)
        let error = try #require(try JSONSerialization.jsonObject(with: Data(failed.output)) as? [String: Any])
        #expect(error["toolVersion"] as? String == (try Self.versionFile()))
    }

    @Test func probeReportCarriesTheToolVersion() throws {
        let handshake = TLSHandshake(sni: nil, output: "")
        let probe = SNIProbe(destination: "d", level: "verify", servername: "hostname", withoutSNI: handshake, withSNI: handshake)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(SNIProbeReport(probe).encoded())) as? [String: Any])
        #expect(report["toolVersion"] as? String == (try Self.versionFile()))
    }

    /// debian/changelog's first line: `postfix-tls-fix (VERSION) unstable; urgency=medium`
    /// (a native package: no Debian revision).
    @Test func debianChangelogHasTheVersion() throws {
        let first = try Self.text("debian/changelog").split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("postfix-tls-fix (\(try Self.versionFile())) "), "debian/changelog: \(first)")
    }

    @Test func rpmSpecHasTheVersion() throws {
        let lines = try Self.text("rpm/postfix-tls-fix.spec").split(separator: "\n")
        let version = lines.first { $0.hasPrefix("Version:") }.map { $0.dropFirst("Version:".count).trimmingCharacters(in: .whitespaces) }
        #expect(version == (try Self.versionFile()), "rpm/postfix-tls-fix.spec Version: \(version ?? "missing")")
    }
}
