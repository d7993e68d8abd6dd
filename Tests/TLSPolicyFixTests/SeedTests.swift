// SeedTests.swift: the seed's configuration (Examples/seed) end to end with
// the built command and the real postmap: apply makes gmail.com's entry
// `verify servername=hostname`, leaves freebsd.org at dane-only and every
// other byte alone, and a second apply writes nothing.

import Foundation
import PostfixTestSupport
import Testing

struct SeedTests {
    let directory: TestDirectory
    let config: String

    init() throws {
        directory = try TestDirectory()
        config = try directory.copyTree(repositoryRoot + "/Examples/seed", as: "seed")
    }

    func lookup(_ key: String) throws -> String {
        try ExternalTool.postmap(["-q", key, "hash:\(config)/maps/tls_policy"], configDirectory: config).outputText
    }

    @Test func applyFixesTheVerifyEntriesAndNothingElse() throws {
        let before = try readBytes(config + "/maps/tls_policy")
        let result = try FixerBinary.run(["-c", config, "apply"])
        #expect(result.status == 0, "apply failed: \(result.errors)")

        #expect(try lookup("gmail.com") == "verify servername=hostname\n")
        #expect(try lookup(".google.com") == "verify servername=hostname\n")
        #expect(try lookup("GMAIL.COM") == "verify servername=hostname\n")
        #expect(try lookup("freebsd.org") == "dane-only\n")
        #expect(try lookup(".freebsd.org") == "dane-only\n")

        // Every line either is as it was or is it plus " servername=hostname".
        let after = try readBytes(config + "/maps/tls_policy")
        let oldLines = before.split(separator: 0x0A, omittingEmptySubsequences: false)
        let newLines = after.split(separator: 0x0A, omittingEmptySubsequences: false)
        #expect(oldLines.count == newLines.count)
        var changed = 0
        for (old, new) in zip(oldLines, newLines) where old != new {
            #expect(Array(new) == Array(old) + Array(" servername=hostname".utf8))
            #expect(String(decoding: old, as: UTF8.self).hasSuffix(" verify"))
            changed += 1
        }
        #expect(changed == 7)
        #expect(try readBytes(config + "/main.cf") == readBytes(repositoryRoot + "/Examples/seed/main.cf"))
        // It ends by saying how much it did.
        #expect(
            result.outputText.hasSuffix("rebuilt maps/tls_policy.db (hash: index, source changed)\n7 entries changed in 1 file, 1 index rebuilt\n"),
            "\(result.outputText)")
    }

    @Test func secondApplyWritesNothing() throws {
        #expect(try FixerBinary.run(["-c", config, "apply"]).status == 0)
        let files = ["main.cf", "maps/tls_policy", "maps/tls_policy.db"].map { config + "/" + $0 }
        let stamps = try files.map(FileStamp.init)
        let again = try FixerBinary.run(["-c", config, "apply"])
        #expect(again.status == 0)
        #expect(again.outputText == "nothing to do\n")
        #expect(try files.map(FileStamp.init) == stamps)
        #expect(try FileManager.default.contentsOfDirectory(atPath: config + "/maps").sorted() == ["tls_policy", "tls_policy.db"])
    }

    @Test func diffIsTheGoldenDiffAndWritesNothing() throws {
        try expectUnchanged(config) {
            let result = try FixerBinary.run(["-c", config, "diff"])
            #expect(result.status == 1)
            try expectGolden(result.output, "seed.diff")
        }
    }

    @Test func checkListsEachEntryAndExitsOne() throws {
        try expectUnchanged(config) {
            let result = try FixerBinary.run(["-c", config, "check"])
            #expect(result.status == 1)
            try expectGolden(Array(result.outputText.replacingOccurrences(of: config, with: "SEED").utf8), "seed.check")
        }
        #expect(try FixerBinary.run(["-c", config, "apply"]).status == 0)
        let fixed = try FixerBinary.run(["-c", config, "check"])
        #expect(fixed.status == 0)
        #expect(fixed.outputText == "nothing to fix\n")
    }

    @Test func mailConfigIsTheDefaultDirectory() throws {
        let result = try FixerBinary.run(["check"], environment: ["MAIL_CONFIG": config])
        #expect(result.status == 1)
        #expect(result.outputText.contains("maps/tls_policy, line 1: gmail.com: verify without servername"))
    }
}
