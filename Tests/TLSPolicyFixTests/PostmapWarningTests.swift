// PostmapWarningTests.swift: postmap's warnings are not failures. postmap
// exits 0 after "warning:" lines (a duplicate key, first wins; a main.cf
// parameter defined twice, "overriding earlier entry"); only a non-zero exit
// or a "fatal:" line fails. The tool passes the warnings on as notes.

import Foundation
import PostfixTestSupport
import Testing

struct PostmapWarningTests {
    let directory: TestDirectory
    let config: String

    init() throws {
        directory = try TestDirectory()
        config = directory.file("postfix")
    }

    func query(_ key: String, _ map: String) throws -> String {
        try ExternalTool.postmap(["-q", key, map], configDirectory: config).outputText
    }

    @Test(arguments: ["lmdb", "cdb"])
    func duplicateKeysAndTwiceDefinedParametersDoNotStopApply(type: String) throws {
        try directory.write(
            "postfix/main.cf", "smtp_tls_policy_maps = \(type):$config_directory/policy\nsmtp_tls_loglevel = 0\nsmtp_tls_loglevel = 1\n")
        try directory.write("postfix/policy", "a.example verify\nA.example secure\n")
        #expect(try ExternalTool.postmap(["\(type):\(config)/policy"], configDirectory: config).status == 0)
        let apply = try FixerBinary.run(["-c", config, "apply"])
        #expect(apply.status == 0, "\(apply.errors)")
        // postmap, the judge: the first entry wins, now with servername.
        #expect(try query("a.example", "\(type):\(config)/policy") == "verify servername=hostname\n")
        let check = try FixerBinary.run(["-c", config, "check"])
        #expect(check.status == 0, "\(check.outputText)\(check.errors)")
        #expect(check.outputText.contains("policy.\(type): note: \(type):\(config)/policy: postmap: warning: "), "\(check.outputText)")
        #expect(check.outputText.contains("overriding earlier entry: smtp_tls_loglevel"), "\(check.outputText)")
    }

    @Test func aCleanConfigurationWithATwiceDefinedParameterChecksClean() throws {
        try directory.write(
            "postfix/main.cf", "smtp_tls_policy_maps = lmdb:$config_directory/policy\nmyhostname = a.example\nmyhostname = b.example\n")
        try directory.write("postfix/policy", "a.example verify servername=hostname\n")
        #expect(try ExternalTool.postmap(["lmdb:\(config)/policy"], configDirectory: config).status == 0)
        let check = try FixerBinary.run(["-c", config, "check"])
        #expect(check.status == 0, "\(check.outputText)\(check.errors)")
        let json = try FixerBinary.run(["-c", config, "check", "--format", "json"])
        #expect(json.status == 0)
        #expect(json.outputText.contains("\"rule\" : \"postmap-warning\""), "\(json.outputText)")
    }
}
