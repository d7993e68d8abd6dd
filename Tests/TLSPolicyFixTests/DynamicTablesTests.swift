// DynamicTablesTests.swift: tables the tool cannot edit (socketmap:,
// mysql:, ...) and the gates built on check and diff. diff exits 1 exactly
// when it prints a difference, so a configuration whose only policy comes
// from a socketmap passes a diff gate; check still names the table until it
// is acknowledged (--acknowledge), or until the socketmap is known to send
// SNI: postfix-mta-sts-resolver's require_sni, read from its configuration.

import Foundation
import PostfixTestSupport
import Testing

struct DynamicTablesTests {
    let directory: TestDirectory
    let config: String
    static let socketmap = "socketmap:inet:127.0.0.1:8461:postfix"

    init() throws {
        directory = try TestDirectory("ptf-dynamic")
        config = directory.file("postfix")
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = \(Self.socketmap)\n")
    }

    @Test func diffExitsOneExactlyWhenItPrintsADifference() throws {
        let diff = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "diff"])
        #expect(diff.outputText.isEmpty)
        #expect(diff.status == 0, "\(diff.errors)")
        let json = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "diff", "--format", "json"])
        #expect(json.status == 0)
        #expect(json.outputText.contains("\"exitStatus\" : 0"), "\(json.outputText)")
        // check still tells a person about the table.
        let check = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check"])
        #expect(check.status == 1)
        #expect(check.outputText.contains("\(Self.socketmap): socketmap: tables live outside the configuration files"), "\(check.outputText)")
    }

    @Test func anAcknowledgedTableIsANote() throws {
        let check = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check", "--acknowledge", Self.socketmap])
        #expect(check.status == 0, "\(check.outputText)\(check.errors)")
        #expect(check.outputText.contains("note: \(Self.socketmap): acknowledged (--acknowledge)"), "\(check.outputText)")
    }

    @Test func theMtaStsResolverIsJudgedByItsRequireSni() throws {
        let root = directory.file("image")
        try directory.write("image/etc/postfix/main.cf", "smtp_tls_policy_maps = \(Self.socketmap)\n")
        try directory.write("image/etc/mta-sts-daemon.yml", "host: 127.0.0.1\nport: 8461\ndefault_zone:\n  strict_testing: false\n  timeout: 4\n")
        let sends = try FixerBinary.run(["--root", root, "--postfix-version", "3.7.11", "check"])
        #expect(sends.status == 0, "\(sends.outputText)\(sends.errors)")
        #expect(sends.outputText.contains("postfix-mta-sts-resolver") && sends.outputText.contains("require_sni"), "\(sends.outputText)")
        try directory.write(
            "image/etc/mta-sts-daemon.yml",
            "host: 127.0.0.1\nport: 8461\ndefault_zone:\n  require_sni: false\nzones:\n  other:\n    require_sni: true\n")
        let off = try FixerBinary.run(["--root", root, "--postfix-version", "3.7.11", "check"])
        #expect(off.status == 1, "\(off.outputText)")
        #expect(off.outputText.contains("require_sni: false"), "\(off.outputText)")
        // Another daemon's address: not the resolver this map asks.
        try directory.write("image/etc/mta-sts-daemon.yml", "host: 127.0.0.1\nport: 9999\n")
        #expect(try FixerBinary.run(["--root", root, "--postfix-version", "3.7.11", "check"]).status == 1)
    }
}
