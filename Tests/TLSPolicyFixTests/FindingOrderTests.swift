// FindingOrderTests.swift: findings are shown by file (paths in byte order)
// and line, whatever order the inspection met them in; check counts them
// per file, and `check --summary` shows those counts instead of every
// fixable line, still listing what needs a person.

import Foundation
import PostconfModel
import PostfixTestSupport
import TLSPolicyFix
import Testing

struct FindingOrderTests {
    static func finding(_ path: String, _ line: Int?, _ severity: Finding.Severity = .fixable) -> Finding {
        Finding(severity, .missingServername, at: SourceLocation(path: path, line: line), "m")
    }

    @Test func byFileThenLineWholeFileFirstTiesAsFound() {
        let found = [
            Self.finding("zeta", 3), Self.finding("zeta", 1), Self.finding("alpha", 9, .error),
            Self.finding("main.cf", 2), Self.finding("zeta", nil, .note), Self.finding("alpha", 9, .note),
        ]
        let ordered = FindingOrder.byFileAndLine(found).map { "\($0.location) \($0.severity)" }
        #expect(
            ordered == [
                "alpha, line 9 error", "alpha, line 9 note", "main.cf, line 2 fixable",
                "zeta note", "zeta, line 1 fixable", "zeta, line 3 fixable",
            ])
    }

    @Test func inOrderAlreadyIsReturnedAsItIs() {
        let found = (1...1000).map { Self.finding("policy", $0) }
        #expect(FindingOrder.byFileAndLine(found) == found)
    }

    @Test func countsPerFile() {
        let found = [Self.finding("a", 1), Self.finding("a", 2, .error), Self.finding("b", 1, .note), Self.finding("a", 3, .manual)]
        let files = FileFindingCounts.of(found)
        #expect(files.map(\.path) == ["a", "b"])
        #expect(files.map(\.counts.description) == ["1 fixable, 1 to fix by hand, 1 error", "1 note"])
    }

    /// Two tables named in reverse order, and main.cf: check lists them by
    /// file and counts each.
    @Test func checkListsByFileAndCountsEach() throws {
        let directory = try TestDirectory("ptf-order")
        let config = directory.file("postfix")
        try directory.write(
            "postfix/main.cf",
            "smtp_tls_policy_maps = texthash:$config_directory/zeta, texthash:$config_directory/alpha\nlmtp_tls_security_level = verify\n")
        try directory.write("postfix/zeta", "z2.example verify\nz1.example secure\n")
        try directory.write("postfix/alpha", "a.example verify\nbroken.example verify servername=\n")
        let check = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check"])
        #expect(check.status == 2, "\(check.errors)")
        let places = check.outputText.split(separator: "\n").map { $0.split(separator: ":").first.map(String.init) ?? "" }
        #expect(
            Array(places.prefix(5)) == ["alpha, line 1", "alpha, line 2", "main.cf, line 2", "zeta, line 1", "zeta, line 2"],
            "\(check.outputText)")
        #expect(
            check.outputText.contains(
                "findings by file:\n  alpha: 1 fixable, 1 error\n  main.cf: 1 fixable\n  zeta: 2 fixable\n"), "\(check.outputText)")

        let summary = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check", "--summary"])
        #expect(summary.status == 2)
        let lines = summary.outputText.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("alpha, line 2: error: broken.example:") == true, "\(summary.outputText)")
        #expect(lines.dropFirst().first == "findings by file:", "\(summary.outputText)")
        #expect(!summary.outputText.contains("verify without servername"), "\(summary.outputText)")

        let json = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "check", "--summary", "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.output)) as? [String: Any])
        #expect((report["findings"] as? [Any])?.count == 1)
        let byFile = try #require(report["findingsByFile"] as? [[String: Any]])
        #expect(byFile.map { $0["file"] as? String } == ["alpha", "main.cf", "zeta"])
        #expect(byFile.map { $0["fixable"] as? Int } == [1, 1, 2])
    }
}
