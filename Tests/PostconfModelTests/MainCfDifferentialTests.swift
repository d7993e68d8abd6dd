// MainCfDifferentialTests.swift: MainCf (and ParameterExpander) against the
// real postconf 3.7.11. For every fixture (the main.cf rules of
// postfix-semantics.md 5.1: no final newline, CRLF, duplicates,
// continuations with comment and blank lines inside, '#' after a value,
// white space around '=', ...) the names MainCf sets and their values must
// be what `postconf -c DIR -n` lists, and the expanded values what
// `postconf -c DIR -nx` prints, both compared as postconf prints values
// (white space runs collapsed). Then MainCf.edit(setting:to:) is checked
// the same way, and Postfix's and Debian's shipped files must reprint byte
// for byte.

import Foundation
import PostconfModel
import PostfixTestSupport
import Testing

struct MainCfFixture: Sendable, CustomTestStringConvertible {
    var label: String
    var bytes: [UInt8]
    var testDescription: String { label }

    init(_ label: String, _ text: String) {
        self.label = label
        self.bytes = Array(text.utf8)
    }

    init(_ label: String, bytes: [UInt8]) {
        self.label = label
        self.bytes = bytes
    }
}

struct MainCfDifferentialTests {
    static let fixtures: [MainCfFixture] = [
        MainCfFixture("no final newline", "relayhost = [a.example]\nsmtp_tls_security_level = verify"),
        MainCfFixture(
            "CRLF",
            "relayhost = [a.example]\r\nsmtp_tls_policy_maps = hash:/etc/postfix/p,\r\n  texthash:/etc/postfix/q\r\nsmtp_tls_security_level = verify\r\n"
        ),
        MainCfFixture("CRLF, no final newline, CR at the end", "relayhost = r.example\r\nsmtp_tls_security_level = may\r"),
        MainCfFixture("CR-only line inside a continuation", "mydestination = a.example\r\n\r\n  b.example\r\n"),
        MainCfFixture(
            "duplicates: last wins",
            "smtp_tls_security_level = may\nrelayhost = r.example\nsmtp_tls_security_level = verify\nsmtp_tls_security_level = secure\n"),
        MainCfFixture("duplicates: last is empty", "smtp_tls_servername = hostname\nsmtp_tls_servername =\n"),
        MainCfFixture(
            "comment lines inside a continuation",
            "mydestination = a.example,\n# comment at column 0\n  b.example,\n    # indented comment\n\tc.example\nrelayhost = r.example\n"),
        MainCfFixture(
            "'#' after a value is part of it", "smtp_tls_policy_maps = hash:/etc/postfix/policy # trailing comment\nrelayhost = [r.example]#587\n"),
        MainCfFixture("blank lines inside a continuation", "alias_maps = hash:/etc/aliases\n\n   \n\t\n  hash:/etc/other\nrelayhost = r.example\n"),
        MainCfFixture(
            "tab and space around '='",
            "relayhost\t= [tab.example]\nmyorigin \t =\tspaced.example\nmail_name=Nospace\nsmtpd_banner   =    lots   of   space   \nsmtp_tls_servername =\nlmtp_tls_servername=\n"
        ),
        MainCfFixture("first line starts with white space (dropped)", "   relayhost = dropped.example\n  still = dropped\nmyorigin = kept.example\n"),
        MainCfFixture("comments only and empty", "# nothing here\n\n   # indented\n"),
        MainCfFixture("empty file", ""),
        MainCfFixture(
            "expansions",
            "smtp_tls_policy_maps = hash:$config_directory/tls_policy, ${xdir?{texthash:$xdir/x}}\nxdir = /srv\nsmtp_tls_security_level = ${xlevel:may}\ntlsproxy_client_level = verify\n"
        ),
        MainCfFixture("vertical tab and form feed", bytes: Array("smtpd_banner = a\u{0C}b\u{0B}\nmyorigin = x\u{0B}\n\u{0B}\nrelayhost = y\n".utf8)),
        MainCfFixture("non-UTF-8 bytes", bytes: Array("smtpd_banner = caf".utf8) + [0xE9, 0x20, 0xFF] + Array("\nrelayhost = r\n".utf8)),
    ]

    /// `postconf -n` lists what main.cf sets, plus a synthetic
    /// config_directory line when -c DIR is given.
    static func postconfSettings(_ directory: TestDirectory, expanded: Bool) throws -> [String: [UInt8]] {
        var (values, result) = try PostconfProbe.values([expanded ? "-nx" : "-n"], in: directory)
        #expect(result.status == 0, "\(result.errors)")
        if values["config_directory"] == Array(directory.path.utf8) { values["config_directory"] = nil }
        return values
    }

    @Test("MainCf values agree with postconf -n and -nx", arguments: fixtures)
    func valuesAgreeWithPostconf(_ fixture: MainCfFixture) throws {
        let directory = try PostconfProbe.directory(fixture.bytes)
        let mainCf = try MainCf(path: directory.file("main.cf"), bytes: fixture.bytes)
        // postconf -n lists user-defined names too when a known parameter refers to them (xdir).
        let ours = mainCf.values.mapValues { PostconfProbe.normalized($0) }
        #expect(ours == (try Self.postconfSettings(directory, expanded: false)), "\(fixture.label): \(mainCf.values)")

        let expander = ParameterExpander(explicit: mainCf.values, configDirectory: Array(directory.path.utf8))
        var oursExpanded: [String: [UInt8]] = [:]
        for name in ours.keys { oursExpanded[name] = PostconfProbe.normalized(try #require(expander.expandedValue(name))) }
        #expect(oursExpanded == (try Self.postconfSettings(directory, expanded: true)), "\(fixture.label) expanded")
    }

    @Test func singleValuesAgreeWithPostconfH() throws {
        let bytes = Array(
            "smtp_tls_security_level = may\nsmtp_tls_policy_maps = hash:/a,\n# c\n\n  hash:/b # x\r\nsmtp_tls_security_level = verify".utf8)
        let directory = try PostconfProbe.directory(bytes)
        let mainCf = try MainCf(path: directory.file("main.cf"), bytes: bytes)
        for name in ["smtp_tls_security_level", "smtp_tls_policy_maps"] {
            let (postconf, result) = try PostconfProbe.value(name, flags: "-h", in: directory)
            #expect(mainCf.values[name].map { PostconfProbe.normalized($0) } == postconf, "\(name): \(result.errors)")
        }
        #expect(mainCf.values["smtp_tls_security_level"] == Array("verify".utf8))
        #expect(mainCf.definitions.map(\.lineNumber) == [1, 2, 6])
    }

    // MARK: Defaults

    /// The shipped table is the installed Postfix's `postconf -d` (when it
    /// is the version the table was generated from), less the defaults
    /// postconf computes from the machine.
    @Test func shippedDefaultsAreThoseOfPostconfD() throws {
        let directory = try PostconfProbe.directory([])
        let (values, _) = try PostconfProbe.values(["-d"], in: directory)
        try #require(values["mail_version"].map { String(decoding: $0, as: UTF8.self) } == PostfixDefaults.shippedVersion)
        let shipped = PostfixDefaults.shipped
        #expect(Set(shipped.parameterNames) == Set(values.keys).subtracting(PostfixDefaults.hostDependent))
        for (name, value) in values where !PostfixDefaults.hostDependent.contains(name) {
            #expect(shipped.value(name) == value, "\(name)")
        }
        #expect(shipped.value("non_bdb_migration_level") == nil)
        // Never empty in Postfix; without it they stand for themselves.
        #expect(shipped.value("myhostname") == Array("<myhostname>".utf8))
    }

    /// With an empty main.cf and the installed Postfix's defaults, every
    /// parameter expands as postconf -x expands it.
    @Test func expandedDefaultsAgreeWithPostconfX() throws {
        let directory = try PostconfProbe.directory([])
        let defaults = PostfixDefaults(postconfOutput: try ExternalTool.postconf(["-d"], configDirectory: directory.path).output)
        let expander = ParameterExpander(explicit: [:], configDirectory: Array(directory.path.utf8), defaults: defaults)
        let (values, _) = try PostconfProbe.values(["-x"], in: directory)
        #expect(values.count > 800)
        for (name, value) in values where !["process_id", "process_name"].contains(name) {
            #expect(expander.expandedValue(name).map { PostconfProbe.normalized($0) } == PostconfProbe.normalized(value), "\(name)")
        }
    }

    /// What the tool needs from proxy_read_maps: whether the policy maps are in it.
    @Test func proxyReadMapsCarryThePolicyMaps() throws {
        let bytes = Array("smtp_tls_policy_maps = proxy:hash:/etc/postfix/tls_policy\nlmtp_tls_policy_maps = hash:/etc/postfix/lmtp_policy\n".utf8)
        let directory = try PostconfProbe.directory(bytes)
        let expander = try PostconfProbe.expander(bytes, in: directory)
        let (postconf, _) = try PostconfProbe.value("proxy_read_maps", flags: "-xh", in: directory)
        let words = { (bytes: [UInt8]) in Set(bytes.split(separator: 0x20).map(Array.init)) }
        let ours = words(PostconfProbe.normalized(try #require(expander.expandedValue("proxy_read_maps"))))
        let theirs = words(try #require(postconf))
        for map in ["proxy:hash:/etc/postfix/tls_policy", "hash:/etc/postfix/lmtp_policy"] {
            #expect(ours.contains(Array(map.utf8)) && theirs.contains(Array(map.utf8)), "\(map)")
        }
        #expect(ours.isSubset(of: theirs))
    }

    // MARK: MainCf.edit(setting:to:)

    static let editFixtures: [MainCfFixture] = [
        MainCfFixture("unset", "compatibility_level = 3.6\nsmtp_tls_security_level = verify\n"),
        MainCfFixture("empty", "smtp_tls_servername =\nrelayhost = r.example\n"),
        MainCfFixture("empty, blanks after '='", "smtp_tls_servername = \t \nrelayhost = r.example\n"),
        MainCfFixture("empty, no blank around '='", "smtp_tls_servername=\nrelayhost = r.example\n"),
        MainCfFixture("empty, CRLF", "smtp_tls_servername =\r\nrelayhost = r.example\r\n"),
        MainCfFixture("empty, last line without newline", "relayhost = r.example\nsmtp_tls_servername ="),
        MainCfFixture("empty, comment and blank lines after it", "smtp_tls_servername =\n# not a value\n\n  # neither\nrelayhost = r.example\n"),
        MainCfFixture("duplicate, the last one empty", "smtp_tls_servername = hostname\nsmtp_tls_servername =\nrelayhost = r.example\n"),
        MainCfFixture("commented out", "#smtp_tls_servername = x\nrelayhost = r.example\n  # smtp_tls_servername = y\n# smtp_tls_servername = z"),
        MainCfFixture("no final newline", "compatibility_level = 3.7\nmyhostname = a.example"),
        MainCfFixture("CRLF", "relayhost = r.example\r\nmyhostname = a.example\r\n"),
        MainCfFixture("CRLF, no final newline", "relayhost = r.example\r\nmyhostname = a.example"),
        MainCfFixture("ends in a comment without newline", "relayhost = r.example\n# last comment"),
        MainCfFixture("ends in a continuation without newline", "mydestination = a.example,\n  b.example"),
        MainCfFixture("empty file", ""),
    ]

    @Test("edit sets smtp_tls_servername = hostname and changes nothing else", arguments: editFixtures)
    func editSetsServername(_ fixture: MainCfFixture) throws {
        let original = fixture.bytes
        let before = try PostconfProbe.directory(original)
        let mainCf = try MainCf(path: before.file("main.cf"), bytes: original)
        let edit = try #require(mainCf.edit(setting: "smtp_tls_servername", to: Array("hostname".utf8)))
        #expect(edit.range.isEmpty, "an insertion, nothing replaced")
        let edited = original.applying([edit])

        // Every byte of the original is kept: the edited file minus the inserted bytes is the original.
        let offset = edit.range.lowerBound
        #expect(Array(edited[..<offset]) + Array(edited[(offset + edit.replacement.count)...]) == original)

        // Comment lines (commented-out settings included) are untouched.
        let comments = { (text: ConfigText) in
            text.lines.indices.filter { text.kinds[$0] == .comment }.map { Array(text.content(ofLine: $0)) }
        }
        #expect(comments(ConfigText(bytes: edited)) == comments(ConfigText(bytes: original)))

        // Postfix sees the new value, and everything else as before (nothing glued).
        let after = try PostconfProbe.directory(edited)
        let (servername, result) = try PostconfProbe.value("smtp_tls_servername", flags: "-h", in: after)
        #expect(servername == Array("hostname".utf8), "\(result.errors)")
        var expected = try Self.postconfSettings(before, expanded: false)
        expected["smtp_tls_servername"] = Array("hostname".utf8)
        #expect(try Self.postconfSettings(after, expanded: false) == expected)

        // And MainCf reads the edited file the same way.
        var ourExpected = mainCf.values
        ourExpected["smtp_tls_servername"] = Array("hostname".utf8)
        #expect(try MainCf(path: after.file("main.cf"), bytes: edited).values == ourExpected)
    }

    @Test func existingEmptyValueIsFilledInPlace() throws {
        let original = Array("smtp_tls_servername =\r\nrelayhost = r.example\r\n".utf8)
        let mainCf = try MainCf(path: "main.cf", bytes: original)
        let edit = try #require(mainCf.edit(setting: "smtp_tls_servername", to: Array("hostname".utf8)))
        #expect(original.applying([edit]) == Array("smtp_tls_servername = hostname\r\nrelayhost = r.example\r\n".utf8))
    }

    @Test func noFinalNewlineIsNotGlued() throws {
        let original = Array("compatibility_level = 3.7\r\nmyhostname = a.example".utf8)
        let mainCf = try MainCf(path: "main.cf", bytes: original)
        let edit = try #require(mainCf.edit(setting: "smtp_tls_servername", to: Array("hostname".utf8)))
        #expect(original.applying([edit]) == Array("compatibility_level = 3.7\r\nmyhostname = a.example\r\nsmtp_tls_servername = hostname\r\n".utf8))
    }

    @Test(
        "no edit when a value is already in force",
        arguments: [
            "smtp_tls_servername = hostname\n",
            "smtp_tls_servername =\nsmtp_tls_servername = mx.example\n",
        ])
    func noEditWhenSet(text: String) throws {
        let mainCf = try MainCf(path: "main.cf", bytes: Array(text.utf8))
        #expect(mainCf.edit(setting: "smtp_tls_servername", to: Array("hostname".utf8)) == nil)
    }

    // MARK: Shipped files

    static let shippedMainCf = [
        "/usr/share/postfix/main.cf.dist", "/usr/share/postfix/main.cf.debian", "/usr/share/postfix/main.cf.tls",
        "/etc/postfix/main.cf.proto", "/etc/postfix/main.cf",
    ].filter { FileManager.default.fileExists(atPath: $0) }
    static let shippedMasterCf = [
        "/usr/share/postfix/master.cf.dist", "/etc/postfix/master.cf.proto", "/etc/postfix/master.cf",
    ].filter { FileManager.default.fileExists(atPath: $0) }

    @Test func shippedFilesArePresent() {
        #expect(Self.shippedMainCf.contains("/usr/share/postfix/main.cf.dist"))
        #expect(Self.shippedMasterCf.contains("/usr/share/postfix/master.cf.dist"))
    }

    @Test("shipped files reprint byte for byte", arguments: shippedMainCf + shippedMasterCf)
    func shippedFilesRoundTrip(path: String) throws {
        let bytes = try readBytes(path)
        #expect(ConfigText(bytes: bytes).reprinted() == bytes)
    }

    @Test("shipped main.cf files parse as postconf reads them", arguments: shippedMainCf)
    func shippedMainCfAgreesWithPostconf(path: String) throws {
        let bytes = try readBytes(path)
        let mainCf = try MainCf(path: path, bytes: bytes)
        let directory = try PostconfProbe.directory(bytes)
        #expect(mainCf.values.mapValues { PostconfProbe.normalized($0) } == (try Self.postconfSettings(directory, expanded: false)))
    }
}
