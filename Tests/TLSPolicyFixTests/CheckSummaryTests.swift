// CheckSummaryTests.swift: check's last line counts every kind of finding
// and suggests the apply that does what check described: the same location
// and every option that changes what a fix writes; it does not suggest a
// plain apply that would refuse (errors; a table outside the configuration
// directory) but says what to do instead.

import Foundation
import PostfixTestSupport
import Testing

struct CheckSummaryTests {
    let directory: TestDirectory
    let config: String

    init() throws {
        directory = try TestDirectory("ptf-summary")
        config = directory.file("postfix")
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = texthash:$config_directory/policy\n")
    }

    func lastLine(_ arguments: [String]) throws -> (status: Int32, line: String) {
        let result = try FixerBinary.run(arguments)
        return (result.status, String(result.outputText.split(separator: "\n").last ?? ""))
    }

    @Test func theSuggestedApplyKeepsEveryOptionThatChangesTheFix() throws {
        try directory.write("postfix/policy", "a.example verify\npin.example fingerprint match=AA:BB\n")
        let check = try lastLine(["-c", config, "--postfix-version", "3.7.11", "--servername", "nexthop", "--include-fingerprint", "check"])
        #expect(check.status == 1)
        #expect(
            check.line
                == "2 fixes pending: run `postfix-tls-fix -c \(config) --postfix-version 3.7.11 --servername nexthop --include-fingerprint apply`")
    }

    @Test func countsIncludeErrorsManualFixesAndNotesAndErrorsComeFirst() throws {
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = hash:$config_directory/policy, mysql:/etc/postfix/mysql.cf\n")
        try directory.write("postfix/policy", "a.example verify\nb.example bogus\nA.example secure\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        let check = try lastLine(["-c", config, "--postfix-version", "3.7.11", "check"])
        #expect(check.status == 2)
        #expect(check.line.hasPrefix("1 fix pending, 1 error, 1 to fix by hand, 1 note; "), "\(check.line)")
        #expect(
            check.line.hasSuffix(
                "apply refuses while errors stand: correct them by hand, then run `postfix-tls-fix -c \(config) --postfix-version 3.7.11 apply`"),
            "\(check.line)")
    }

    @Test func aTableOutsideTheConfigurationDirectoryNeedsAllowPath() throws {
        let outside = try directory.write("elsewhere/policy", "a.example verify\n")
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = texthash:\(outside)\n")
        let check = try lastLine(["-c", config, "--postfix-version", "3.7.11", "check"])
        #expect(
            check.line
                == "1 fix pending: apply writes \(outside), outside \(config): review it, then run `postfix-tls-fix -c \(config) --postfix-version 3.7.11 apply --allow-path \(outside)`",
            "\(check.line)")
        #expect(try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "apply", "--allow-path", outside]).status == 0)
    }

    @Test func notesAloneAreNothingToFixButCounted() throws {
        try directory.write("postfix/main.cf", "smtp_tls_policy_maps = hash:$config_directory/policy\n")
        try directory.write("postfix/policy", "a.example verify servername=hostname\nA.example may\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        let check = try lastLine(["-c", config, "--postfix-version", "3.7.11", "check"])
        #expect(check.status == 0)
        #expect(check.line == "nothing to fix; 1 note")
    }
}
