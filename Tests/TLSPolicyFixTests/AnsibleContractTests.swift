// AnsibleContractTests.swift: the JSON contract that Examples/ansible's
// module reads, checked against the real binary: every field the module
// names exists with the type it expects, each command it runs exits with a
// status it handles, and `changed` means what the module reports (apply
// would change / did change something), so that a second run reports every
// host ok. (Tests/ansible/run-ansible-test.sh runs the role itself with
// ansible-core.)

import Foundation
import PostfixTestSupport
import Testing

struct AnsibleContractTests {
    let directory: TestDirectory
    let config: String

    static let module = repositoryRoot + "/Examples/ansible/roles/postfix_tls_fix/library/postfix_tls_fix.py"

    init() throws {
        directory = try TestDirectory()
        config = try directory.copyTree(repositoryRoot + "/Examples/seed", as: "seed")
    }

    /// The tool as the module runs it, with the version given.
    func run(_ subcommand: String) throws -> (status: Int32, report: [String: Any]) {
        let result = try FixerBinary.run(
            ["-c", config, "--color", "never", "--postfix-version", "3.7.11", subcommand, "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.output)) as? [String: Any])
        return (result.status, report)
    }

    /// The report fields the module reads: `report["NAME"]`,
    /// `check["NAME"]` (and the other reports), `f["NAME"]`, `i["NAME"]`
    /// and `.get("NAME")`.
    static func fieldsTheModuleReads() throws -> Set<String> {
        let text = String(decoding: try readBytes(module), as: UTF8.self)
        var fields: Set<String> = []
        for pattern in [#"(?:report|check|diff|applied|f|i)\["(\w+)"\]"#, #"\.get\("(\w+)"\)"#] {
            let regex = try NSRegularExpression(pattern: pattern)
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                fields.insert(String(text[Range(match.range(at: 1), in: text)!]))
            }
        }
        return fields
    }

    /// Every field the module reads is in the check, diff and apply
    /// reports (top level, or in findings / changedFiles entries).
    @Test func everyFieldTheModuleReadsIsThere() throws {
        let fields = try Self.fieldsTheModuleReads()
        #expect(
            fields.isSuperset(of: ["changed", "reloadNeeded", "schemaVersion", "findings", "severity", "text", "changedFiles", "diff"]),
            "the module reads \(fields.sorted())")
        var reports: [[String: Any]] = []
        for subcommand in ["check", "diff", "apply"] {
            reports.append(try run(subcommand).report)
        }
        try directory.write("seed/maps/tls_policy", "gmail.com verify\nmysql.example verify\n")
        try directory.write("seed/main.cf", "smtp_tls_policy_maps = hash:$config_directory/maps/tls_policy, mysql:/etc/postfix/mysql.cf\n")
        reports.append(try run("check").report)
        for report in reports {
            var available = Set(report.keys)
            for list in ["findings", "changedFiles"] {
                for entry in report[list] as? [[String: Any]] ?? [] { available.formUnion(entry.keys) }
            }
            #expect(fields.isSubset(of: available), "\(report["command"] ?? ""): missing \(fields.subtracting(available).sorted())")
        }
        // The severities the module selects exist: the last report has a
        // manual finding (the mysql: table).
        let severities = (reports.last?["findings"] as? [[String: Any]] ?? []).compactMap { $0["severity"] as? String }
        #expect(severities.contains("manual"), "\(severities)")
    }

    /// check (rc 0/1), diff (rc 0/1), apply (rc 0): `changed` is true until
    /// apply has run, apply reports it changed files with their diff, and
    /// afterwards every command reports changed false.
    @Test func changedIsWhatThePlaybookReports() throws {
        let check = try run("check")
        #expect(check.status == 1)
        #expect(check.report["schemaVersion"] as? Int == 1)
        #expect(check.report["changed"] as? Bool == true)
        let diff = try run("diff")
        #expect(diff.status == 1)
        #expect(diff.report["changed"] as? Bool == true)
        let diffFiles = try #require(diff.report["changedFiles"] as? [[String: Any]])
        #expect(diffFiles.count == 1)
        #expect((diffFiles.first?["diff"] as? String)?.hasPrefix("--- a/maps/tls_policy\n+++ b/maps/tls_policy\n") == true)

        let apply = try run("apply")
        #expect(apply.status == 0)
        #expect(apply.report["changed"] as? Bool == true)
        #expect(apply.report["reloadNeeded"] as? Bool == false)
        let applied = try #require(apply.report["changedFiles"] as? [[String: Any]])
        #expect(applied.map { $0["path"] as? String } == ["maps/tls_policy"])
        #expect(applied.first?["diff"] as? String == diffFiles.first?["diff"] as? String)
        #expect((apply.report["rebuiltIndexes"] as? [[String: Any]])?.first?["path"] as? String == "maps/tls_policy.db")

        for subcommand in ["check", "diff", "apply"] {
            let again = try run(subcommand)
            #expect(again.status == 0, "\(subcommand)")
            #expect(again.report["changed"] as? Bool == false, "\(subcommand)")
        }
    }

    /// A main.cf change is the one case that needs `postfix reload`.
    @Test func reloadNeededOnlyWhenMainCfChanges() throws {
        try directory.write("seed/main.cf", "smtp_tls_security_level = verify\n")
        let apply = try run("apply")
        #expect(apply.status == 0)
        #expect(apply.report["reloadNeeded"] as? Bool == true)
        #expect((apply.report["changedFiles"] as? [[String: Any]])?.map { $0["path"] as? String } == ["main.cf"])
    }

    /// A configuration with errors fails the check task (rc 2) and still
    /// gives the module a report to print.
    @Test func errorsFailTheCheckTaskWithAReport() throws {
        try directory.write("seed/maps/tls_policy", "gmail.com verify servername=hostname servername=nexthop\n")
        let check = try run("check")
        #expect(check.status == 2)
        #expect(check.report["changed"] is Bool)
        let texts = (check.report["findings"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        #expect(texts.contains { $0.hasPrefix("maps/tls_policy, line 1: error: gmail.com: ") }, "\(texts)")
    }
}
