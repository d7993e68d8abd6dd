// InstancesTests.swift: --all-instances handles the primary configuration and
// every instance multi_instance_directories names, each as its own
// configuration; --reload leaves a Postfix that is not running alone.

import Foundation
import PostfixTestSupport
import Testing

struct InstancesTests {
    let directory: TestDirectory

    init() throws {
        directory = try TestDirectory()
        try directory.write(
            "primary/main.cf",
            """
            multi_instance_directories = \(directory.file("out-a")) \(directory.file("out-b"))
            smtp_tls_policy_maps = texthash:$config_directory/policy

            """)
        try directory.write("primary/policy", "primary.test verify\n")
        try directory.write("out-a/main.cf", "smtp_tls_security_level = secure\n")
        try directory.write("out-b/main.cf", "smtp_tls_policy_maps = texthash:$config_directory/policy\n")
        try directory.write("out-b/policy", "b.test dane-only\n")
    }

    @Test func everyInstanceIsCheckedAndFixed() throws {
        let check = try FixerBinary.run(["-c", directory.file("primary"), "check", "--all-instances"])
        #expect(check.status == 1)
        #expect(check.outputText.contains("==> instance \(directory.file("out-a"))"))
        #expect(check.outputText.contains("policy, line 1: primary.test: verify without servername"))
        #expect(check.outputText.contains("main.cf, line 1: smtp_tls_security_level: smtp TLS level secure without smtp_tls_servername"))

        let json = try FixerBinary.run(["-c", directory.file("primary"), "check", "--all-instances", "--format", "json"])
        let reports = try JSONSerialization.jsonObject(with: Data(json.output)) as? [[String: Any]]
        #expect(reports?.count == 3)
        #expect(reports?.map { $0["changed"] as? Bool } == [true, true, false])

        #expect(try FixerBinary.run(["-c", directory.file("primary"), "apply", "--all-instances"]).status == 0)
        #expect(try ExternalTool.postconf(["-h", "smtp_tls_servername"], configDirectory: directory.file("out-a")).outputText == "hostname\n")
        #expect(try readBytes(directory.file("primary/policy")) == Array("primary.test verify servername=hostname\n".utf8))
        #expect(try FixerBinary.run(["-c", directory.file("primary"), "check", "--all-instances"]).status == 0)
    }

    @Test func reloadLeavesAStoppedPostfixAlone() throws {
        let result = try FixerBinary.run(["-c", directory.file("out-a"), "apply", "--reload"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.outputText.contains("Postfix (\(directory.file("out-a"))) is not running; it reads the changes when it starts"))
    }

    @Test func aBrokenInstanceIsReportedAndTheOthersStillRun() throws {
        try directory.write("out-a/main.cf", "no equals sign here\n")
        let json = try FixerBinary.run(["-c", directory.file("primary"), "apply", "--all-instances", "--format", "json"])
        #expect(json.status == 2)
        let reports = try JSONSerialization.jsonObject(with: Data(json.output)) as? [[String: Any]]
        #expect(reports?.count == 3)
        #expect(reports?.map { $0["error"] is NSNull } == [true, false, true])
        #expect(json.errors.contains("main.cf, line 1: missing '=' after attribute name"))
        #expect(try readBytes(directory.file("primary/policy")) == Array("primary.test verify servername=hostname\n".utf8))
    }
}
