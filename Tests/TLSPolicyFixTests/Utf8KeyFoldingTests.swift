// Utf8KeyFoldingTests.swift: tables with non-ASCII keys, black-box. With
// smtputf8_enable = yes (here the compatibility_level 3.6 default, not set
// explicitly) postmap and every lookup fold keys with ICU full case folding
// (casefold.c): "straße.de" is stored and looked up as "strasse.de". An index
// the tool writes or expects must fold the same way, or the destination's
// policy is silently lost (postmap -q finds nothing) and a clean index built
// by postmap looks stale.

import Foundation
import PostfixTestSupport
import Testing

struct Utf8KeyFoldingTests {
    let directory: TestDirectory
    let config: String

    init() throws {
        directory = try TestDirectory()
        config = directory.file("postfix")
    }

    static let source = Array(
        """
        # non-ASCII destinations
        straße.de secure
        BÜCHER.de verify
        ΣΊΣΥΦΟΣ.gr secure match=nexthop
        ﬁsh.example verify

        """.utf8)

    func query(_ key: String, _ map: String) throws -> String {
        try ExternalTool.postmap(["-q", key, map], configDirectory: config).outputText
    }

    func makeConfig(type: String, mainCf extra: String = "", source: [UInt8] = Self.source) throws {
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = \(type):$config_directory/policy\n" + extra)
        try directory.write("postfix/policy", source)
        let build = try ExternalTool.postmap(["\(type):\(config)/policy"], configDirectory: config)
        // Warnings (duplicate entry) are expected where the source has them.
        #expect(build.status == 0, "\(build.errors)")
    }

    /// apply rebuilds an index in which the fixed entries are found under
    /// every spelling smtp(8) may look them up with.
    @Test(arguments: ["hash", "btree", "lmdb", "cdb"])
    func applyKeepsNonASCIIKeysFindable(type: String) throws {
        try makeConfig(type: type)
        let result = try FixerBinary.run(["-c", config, "apply"])
        #expect(result.status == 0, "\(result.errors)")
        let map = "\(type):\(config)/policy"
        for key in ["straße.de", "STRASSE.de", "strasse.de", "STRAẞE.DE"] {
            #expect(try query(key, map) == "secure servername=hostname\n", "postmap -q \(key)")
        }
        #expect(try query("bücher.de", map) == "verify servername=hostname\n")
        #expect(try query("σίσυφος.gr", map) == "secure match=nexthop servername=hostname\n")
        #expect(try query("FISH.example", map) == "verify servername=hostname\n")
        let again = try FixerBinary.run(["-c", config, "check"])
        #expect(again.status == 0, "\(again.outputText)")
    }

    /// A table postmap built, already fixed: nothing to do, index current.
    /// The last key repeats the first under full folding (postmap keeps the
    /// first), which only a model that folds like postmap gets right for
    /// cdb, whose index is checked by looking the expected keys up.
    @Test(arguments: ["hash", "btree", "lmdb", "cdb"])
    func checkFindsPostmapBuiltIndexCurrent(type: String) throws {
        try makeConfig(
            type: type,
            source: Array(
                """
                straße.de secure servername=hostname
                BÜCHER.de verify servername=hostname
                ΣΊΣΥΦΟΣ.gr secure servername=hostname
                STRASSE.DE verify servername=hostname

                """.utf8))
        try expectUnchanged(config) {
            let check = try FixerBinary.run(["-c", config, "check"])
            #expect(check.status == 0, "\(check.outputText)\(check.errors)")
            #expect(!check.outputText.contains("differs"), "\(check.outputText)")
        }
    }

    /// Keys equal only under full case folding are one key: the second is
    /// never used (postmap warns "duplicate entry"), and every spelling
    /// finds the first. (hash: and btree: only: for lmdb: and cdb: apply
    /// runs postmap, and fails on any warning it prints.)
    @Test(arguments: ["hash", "btree"])
    func keysEqualUnderFullFoldingAreDuplicates(type: String) throws {
        try makeConfig(type: type, source: Array("straße.de secure\nSTRASSE.DE verify\n".utf8))
        let check = try FixerBinary.run(["-c", config, "check"])
        #expect(
            check.outputText.contains("policy, line 2: note: STRASSE.DE: never used: policy, line 1 has the same key and wins"),
            "\(check.outputText)")
        let result = try FixerBinary.run(["-c", config, "apply"])
        #expect(result.status == 0, "\(result.errors)")
        for key in ["straße.de", "STRASSE.DE"] {
            #expect(try query(key, "\(type):\(config)/policy") == "secure servername=hostname\n", "postmap -q \(key)")
        }
        #expect(try FixerBinary.run(["-c", config, "check"]).status == 0)
    }

    /// With smtputf8_enable = no, postmap folds ASCII only: "straße.de"
    /// and "strasse.de" are different keys, and non-UTF-8 keys are stored.
    @Test func asciiOnlyFoldingWithoutSmtputf8() throws {
        try makeConfig(
            type: "hash", mainCf: "smtputf8_enable = no\n",
            source: Array("straße.de secure\nSTRASSE.DE verify\n".utf8) + Array("bad".utf8) + [0xFF] + Array(".de verify\n".utf8))
        let result = try FixerBinary.run(["-c", config, "apply"])
        #expect(result.status == 0, "\(result.errors)")
        let map = "hash:\(config)/policy"
        #expect(try query("straße.de", map) == "secure servername=hostname\n")
        #expect(try query("strasse.de", map) == "verify servername=hostname\n")
        #expect(try query("STRAẞE.de", map) == "")
        // Not UTF-8, so not an argument: asked on stdin (postmap -q -).
        let bad = Array("BAD".utf8) + [0xFF] + Array(".de".utf8)
        let answer = try ExternalTool.postmap(["-q", "-", map], configDirectory: config, input: bad + [0x0A])
        #expect(answer.output == bad + Array("\tverify servername=hostname\n".utf8), "\(answer.errors)")
        #expect(try FixerBinary.run(["-c", config, "check"]).status == 0)
    }
}
