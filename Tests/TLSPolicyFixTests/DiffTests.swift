// DiffTests.swift: the diff subcommand's unified diffs against GNU diff -u
// of the same files before and after apply, for edits of every style (table
// entries with CRLF, non-UTF-8 bytes and no final newline; main.cf appends;
// master.cf overrides; inline tables), and `patch -p1` turning the old files
// into exactly what apply writes.

import Foundation
import PostfixTestSupport
import Testing

struct DiffTests {
    struct Scenario: Sendable, CustomStringConvertible {
        var name: String
        var files: [String: [UInt8]]
        var description: String { name }
    }

    static let scenarios: [Scenario] = [
        Scenario(
            name: "tables",
            files: [
                "main.cf": Array(
                    "smtp_tls_policy_maps = texthash:$config_directory/a, texthash:$config_directory/b\nsmtp_tls_security_level = may".utf8),
                "a": Array("# \u{E9}\r\none verify\r\n# ".utf8) + [0xFF] + Array(" comment\n".utf8)
                    + (1...20).flatMap { Array("filler\($0).test may\n".utf8) } + Array("last.test secure".utf8),
                "b": Array("x.test verify\n  match=nexthop\n# c\ny.test encrypt\nz.test verify\n".utf8),
            ]),
        Scenario(
            name: "main.cf without final newline",
            files: [
                "main.cf": Array("# relay set-up\nrelayhost = [relay.test]:587\nsmtp_tls_security_level = secure".utf8)
            ]),
        Scenario(
            name: "table large enough to be rendered in segments",
            files: [
                "main.cf": Array("smtp_tls_policy_maps = texthash:$config_directory/big\nsmtp_tls_security_level = may\n".utf8),
                "big": largeTable(),
            ]),
        Scenario(
            name: "master.cf and inline",
            files: [
                "main.cf": Array("smtp_tls_policy_maps = inline:{ a.test=verify, b.test=may }\n".utf8),
                "master.cf": Array("smtp unix - - y - - smtp\nrelay unix - - y - - smtp\n  -o smtp_tls_security_level=verify\n\n# end\n".utf8),
            ]),
    ]

    /// 40,000 entries to fix, more than two segments' worth, with 0 to 6
    /// untouched lines between them (their hunks join) and every 50th time
    /// 7 (a hunk ends: where a segment may end); one stretch of 10,000
    /// without a hunk boundary; no final newline.
    static func largeTable() -> [UInt8] {
        var text = ""
        for entry in 0..<40_000 {
            text += "fix\(entry).test verify\n"
            let untouched = entry % 50 == 49 && !(10_000..<20_000).contains(entry) ? 7 : entry % 7
            for line in 0..<untouched { text += "keep\(entry)-\(line).test may\n" }
        }
        return Array((text + "last.test secure").utf8)
    }

    @Test(arguments: scenarios)
    func diffEqualsGNUDiffOfWhatApplyWrites(scenario: Scenario) throws {
        let directory = try TestDirectory()
        for (name, bytes) in scenario.files {
            try directory.write("old/\(name)", bytes)
            try directory.write("new/\(name)", bytes)
        }
        let ours = try FixerBinary.run(["-c", directory.file("old"), "diff"])
        #expect(ours.status == 1, "\(ours.errors)")
        let applied = try FixerBinary.run(["-c", directory.file("new"), "apply"])
        #expect(applied.status == 0, "\(applied.errors)")

        var expected: [UInt8] = []
        for name in ["main.cf", "master.cf"] + scenario.files.keys.filter({ !$0.hasSuffix(".cf") }).sorted() {
            guard scenario.files[name] != nil else { continue }
            let gnu = try ExternalTool.run(
                "/usr/bin/diff",
                [
                    "-u", "--label", "a/\(name)", "--label", "b/\(name)",
                    directory.file("old/\(name)"), directory.file("new/\(name)"),
                ])
            expected += gnu.output
        }
        // The diffs, without the lines about rebuilds and reloads after them.
        let diffPart =
            Array(
                ours.output.split(separator: 0x0A, omittingEmptySubsequences: false)
                    .prefix { !$0.starts(with: Array("then: ".utf8)) && !$0.starts(with: Array("would rebuild".utf8)) }
                    .joined(separator: [0x0A])) + [0x0A]
        // Where they part, not the whole of a large diff.
        let parting = zip(diffPart, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(diffPart.count, expected.count)
        func around(_ bytes: [UInt8]) -> String { String(decoding: bytes[max(0, parting - 300)..<min(bytes.count, parting + 300)], as: UTF8.self) }
        #expect(diffPart == expected, "ours, at byte \(parting):\n\(around(diffPart))\nGNU diff:\n\(around(expected))")

        // patch(1) makes the old tree equal to what apply wrote.
        let patch = try ExternalTool.run("/usr/bin/patch", ["-s", "-p1", "-d", directory.file("old")], input: diffPart)
        #expect(patch.status == 0, "\(patch.outputText) \(patch.errors)")
        for name in scenario.files.keys {
            #expect(try readBytes(directory.file("old/\(name)")) == readBytes(directory.file("new/\(name)")), "\(name)")
        }
    }
}
