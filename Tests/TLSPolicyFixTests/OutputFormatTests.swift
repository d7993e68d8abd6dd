// OutputFormatTests.swift: what the built command prints for people and
// for programs, on the seed's configuration: golden files for the text,
// colour and JSON output; when colour is on (a terminal, made with
// script(1)) and off (NO_COLOR, --color never, a pipe); progress for large
// tables on a terminal only; --quiet; and the JSON report of a command that
// stopped with an error.

import Foundation
import PostfixTestSupport
import TLSPolicyFix
import Testing

struct OutputFormatTests {
    let directory: TestDirectory
    let config: String

    /// The version is given so that the output does not depend on the
    /// Postfix installed here.
    static let version = ["--postfix-version", "3.7.11"]

    init() throws {
        directory = try TestDirectory()
        config = try directory.copyTree(repositoryRoot + "/Examples/seed", as: "seed")
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ToolResult {
        try FixerBinary.run(["-c", config] + Self.version + arguments, environment: environment)
    }

    /// The output with the scratch path replaced, for golden files, and the
    /// tool's version (VersionTests checks it), so that a release changes no golden file.
    func normalized(_ output: [UInt8]) -> [UInt8] {
        let text = String(decoding: output, as: UTF8.self).replacingOccurrences(of: config, with: "SEED")
        return Array(text.replacingOccurrences(of: "\"toolVersion\" : \"\(ToolVersion.current)\"", with: "\"toolVersion\" : \"VERSION\"").utf8)
    }

    /// The bytes with every SGR escape sequence removed.
    static func strippingColor(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x1B, index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "[") {
                index += 2
                while index < bytes.count && bytes[index] != UInt8(ascii: "m") { index += 1 }
                index += 1
                continue
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    static func hasEscape(_ bytes: [UInt8]) -> Bool { bytes.contains(0x1B) }

    // MARK: colour

    @Test func colouredDiffIsTheGoldenAndIsThePlainDiffUnderneath() throws {
        let coloured = try run(["diff", "--color", "always"])
        #expect(coloured.status == 1)
        try expectGolden(coloured.output, "seed.diff.color")
        let plain = try run(["diff"])
        #expect(Self.strippingColor(coloured.output) == plain.output)
        try expectGolden(plain.output, "seed.diff")
    }

    @Test func colouredCheckIsTheGolden() throws {
        let result = try run(["check", "--color", "always"])
        #expect(result.status == 1)
        try expectGolden(normalized(result.output), "seed.check.color")
        #expect(Self.strippingColor(result.output) == (try run(["check"])).output)
    }

    /// auto: colour on a terminal only, never with NO_COLOR set (non-empty)
    /// or TERM=dumb; --color always wins over NO_COLOR, --color never over a
    /// terminal.
    @Test(arguments: [
        ([String](), [String: String](), true),
        ([], ["NO_COLOR": "1"], false),
        ([], ["NO_COLOR": ""], true),
        ([], ["TERM": "dumb"], false),
        (["--color", "never"], [:], false),
        (["--color", "always"], ["NO_COLOR": "1"], true),
    ])
    func colourOnATerminal(flags: [String], environment: [String: String], coloured: Bool) throws {
        var base = ProcessInfo.processInfo.environment
        base["NO_COLOR"] = nil
        base["TERM"] = "xterm"
        let command = ([FixerBinary.path, "-c", config, "diff"] + flags).joined(separator: " ")
        let result = try ExternalTool.run(
            "/usr/bin/script", ["-q", "-e", "-c", command, "/dev/null"], environment: base.merging(environment) { $1 })
        #expect(result.status == 1, "\(result.errors)")
        #expect(result.outputText.contains("+gmail.com               verify servername=hostname"))
        #expect(Self.hasEscape(result.output) == coloured, "\(result.outputText)")
        #expect(!result.outputText.contains("entries read"), "no progress for a small table")
    }

    // MARK: progress

    /// A table above 100,000 entries gets a progress line on a terminal's
    /// standard error, and none when standard error is not a terminal.
    @Test func progressForALargeTableOnlyOnATerminal() throws {
        let entries = (1...100_001).map { "k\($0).example verify servername=hostname\n" }.joined()
        try directory.write("large/main.cf", "smtp_tls_policy_maps = hash:$config_directory/large_policy\n")
        try directory.write("large/large_policy", entries)
        let large = directory.file("large")
        #expect(try ExternalTool.postmap(["hash:\(large)/large_policy"], configDirectory: large).status == 0)
        let command = [FixerBinary.path, "-c", large, "--postfix-version", "3.7.11", "check"].joined(separator: " ")
        let terminal = try ExternalTool.run("/usr/bin/script", ["-q", "-e", "-c", command, "/dev/null"])
        #expect(terminal.status == 0, "\(terminal.errors)")
        #expect(terminal.outputText == "postfix-tls-fix: large_policy: 100001 entries read; checking the entries and the index\r\nnothing to fix\r\n")
        let piped = try FixerBinary.run(["-c", large, "--postfix-version", "3.7.11", "check"])
        #expect(piped.status == 0)
        #expect(piped.errors.isEmpty && piped.outputText == "nothing to fix\n")
    }

    @Test func noColourIntoAPipeByDefault() throws {
        let result = try run(["diff"], environment: ["NO_COLOR": "", "TERM": "xterm"])
        #expect(!Self.hasEscape(result.output))
    }

    // MARK: quiet

    @Test func quietPrintsNothingWhenNothingNeedsAPerson() throws {
        let check = try run(["check", "--quiet"])
        #expect(check.status == 1)
        #expect(check.output.isEmpty && check.errors.isEmpty)
        let apply = try run(["-q", "apply"])
        #expect(apply.status == 0)
        #expect(apply.output.isEmpty && apply.errors.isEmpty)
        #expect(try run(["check", "-q"]).status == 0)
    }

    @Test func quietStillNamesErrorsWithFileAndLine() throws {
        try directory.write("seed/maps/tls_policy", "gmail.com verify servername=hostname servername=nexthop\n")
        let result = try run(["check", "--quiet"])
        #expect(result.status == 2)
        #expect(result.output.isEmpty)
        #expect(result.errors.hasPrefix("postfix-tls-fix: error: maps/tls_policy, line 1: gmail.com: "), "\(result.errors)")
    }

    // MARK: JSON

    @Test func checkDiffAndApplyJSONAreTheGoldens() throws {
        let check = try run(["check", "--format", "json"])
        #expect(check.status == 1)
        try expectGolden(normalized(check.output), "seed.check.json")
        let diff = try run(["--format", "json", "diff"])
        #expect(diff.status == 1)
        try expectGolden(normalized(diff.output), "seed.diff.json")
        let apply = try run(["apply", "--format", "json"])
        #expect(apply.status == 0, "\(apply.errors)")
        try expectGolden(normalized(apply.output), "seed.apply.json")
        let again = try run(["apply", "--format", "json"])
        try expectGolden(normalized(again.output), "seed.apply-again.json")
    }

    /// The JSON diff text is exactly the text output's diff.
    @Test func jsonDiffIsTheTextDiff() throws {
        let json = try JSONSerialization.jsonObject(with: Data(try run(["diff", "--format", "json"]).output)) as? [String: Any]
        let files = try #require(json?["changedFiles"] as? [[String: Any]])
        let text = files.compactMap { $0["diff"] as? String }.joined()
        let plain = try run(["diff"]).outputText
        #expect(plain.hasPrefix(text))
        #expect(plain.dropFirst(text.count) == "would rebuild maps/tls_policy.db (hash: index, source changed)\n")
    }

    @Test func anErrorIsStillAJSONReport() throws {
        try FileManager.default.removeItem(atPath: config + "/main.cf")
        let result = try run(["check", "--format", "json"])
        #expect(result.status == 2)
        try expectGolden(normalized(result.output), "missing-main-cf.check.json")
        #expect(result.errors == "postfix-tls-fix: fatal: \(config)/main.cf: cannot read: No such file or directory\n")
    }

    @Test func refusedApplyListsTheErrorsInJSON() throws {
        try directory.write("seed/maps/tls_policy", "gmail.com verify\nbad.example verify servername=hostname servername=nexthop\n")
        try expectUnchanged(config) {
            let result = try run(["apply", "--format", "json"])
            #expect(result.status == 2)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output)) as? [String: Any])
            #expect(json["changed"] as? Bool == false)
            #expect(json["exitStatus"] as? Int == 2)
            #expect((json["error"] as? String)?.hasSuffix("must be fixed by hand first; nothing written") == true)
            let findings = try #require(json["findings"] as? [[String: Any]])
            #expect(findings.count == 1)
            #expect(findings.first?["file"] as? String == "maps/tls_policy")
            #expect(findings.first?["line"] as? Int == 2)
            #expect(findings.first?["key"] as? String == "bad.example")
            #expect(findings.first?["severity"] as? String == "error")
            #expect(findings.first?["rule"] as? String == "broken-entry")
        }
    }
}
