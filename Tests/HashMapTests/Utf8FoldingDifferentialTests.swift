// Utf8FoldingDifferentialTests.swift: key folding against the real postmap,
// over a corpus of non-ASCII keys (Tests/Fixtures/tables/utf8-case-folding:
// German sharp s, Turkish dotted and dotless i, Greek final sigma, ligatures,
// Kelvin and Angstrom signs, fullwidth, Cherokee, Deseret, invalid UTF-8),
// with smtputf8_enable = yes (postmap folds with ICU, casefold.c) and = no
// (ASCII only), for every index type the tool keeps current:
//
// - what the tool expects postmap to store (TableSource.storedRecords, which
//   the lmdb:/cdb: read-back compares with) equals `postmap -s` (cdb cannot
//   be listed: there, the lookups below see every stored key);
// - every spelling of every key looked up with `postmap -q -` gets the answer
//   our folding predicts (PostfixKeyFolding), invalid UTF-8 included;
// - for hash: and btree:, the index IndexWriter builds holds what postmap's
//   holds, answers postmap -q as postmap's does, reports the same duplicates,
//   and its digest is what RecordDigest computes from the source (how check
//   tells a current index from a stale one).

import FileSafety
import Foundation
import HashMap
import KeyFolding
import PostconfModel
import PostfixTestSupport
import Testing

@Suite struct Utf8FoldingDifferentialTests {
    static let corpus = fixturesDirectory + "/tables/utf8-case-folding"

    /// Spellings that fold, or not, to the corpus's keys; the corpus's keys
    /// as written are added to them.
    static let validSpellings: [String] = [
        "straße.de", "STRASSE.de", "STRAẞE.DE", "strasse.de", "Strasse.De", "STRAßE.DE",
        "BÜCHER.DE", "bücher.de", "BUCHER.de", "ärger.de", "ÄRGER.DE",
        "İSTANBUL.tr", "istanbul.tr", "ISTANBUL.TR", "ıSTANBUL.tr", "i\u{307}stanbul.tr", "I\u{307}STANBUL.tr",
        "σίσυφοσ.gr", "ΣΊΣΥΦΟΣ.GR", "Σίσυφος.gr", "σίσυφος.gr", "αι.gr", "ᾼ.GR", "ᾳ.gr", "ΐ.gr", "ι\u{308}\u{301}.gr",
        "FISH.example", "fish.EXAMPLE", "ﬁSH.example", "FF.example", "ff.example", "ST.example", "ﬅ.example",
        "եւ.am", "ԵՒ.am", "k-kelvin.example", "K-KELVIN.example", "\u{212A}-KELVIN.example",
        "å-angstrom.example", "Å-ANGSTROM.example", "full.example", "ｆｕｌｌ.example", "ＦＵＬＬ.EXAMPLE",
        "ᎠᎡ.example", "ꭰꭱ.example", "ꭰᎡ.example", "𐐨𐐩.example", "𐐀𐐩.example", "𐐀𐐁.EXAMPLE",
        "CAFÉ.example", "café.example", "cafe\u{301}.example", "PLAIN.example",
    ]
    static let invalidSpellings: [[UInt8]] = [
        Array("lone".utf8) + [0x80] + Array(".example".utf8),
        Array("LONE".utf8) + [0x80] + Array(".EXAMPLE".utf8),
        Array("ff".utf8) + [0xFF] + Array(".example".utf8),
        Array("LATIN1-STRA".utf8) + [0xDF] + Array("E.de".utf8),
        Array("overlong".utf8) + [0xC0, 0xAF] + Array(".example".utf8),
        Array("surrogate".utf8) + [0xED, 0xA0, 0x80] + Array(".example".utf8),
    ]
    static let spellings: [[UInt8]] = validSpellings.map { Array($0.utf8) } + invalidSpellings

    static func queries(_ source: TableSource) -> [[UInt8]] {
        var seen = Set<[UInt8]>()
        return (spellings + source.entries.map(\.key)).filter { seen.insert($0).inserted }
    }

    /// A configuration directory with smtputf8_enable set explicitly.
    static func config(_ directory: TestDirectory, utf8: Bool) throws -> String {
        try directory.makeConfigDirectory(mainCf: "compatibility_level = 3.6\nsmtputf8_enable = \(utf8 ? "yes" : "no")\n")
    }

    /// "key<TAB>value" lines (postmap -s, postmap -q -) as records.
    static func records(_ output: [UInt8]) -> [[UInt8]: [UInt8]] {
        var records: [[UInt8]: [UInt8]] = [:]
        for line in output.split(separator: 0x0A) {
            guard let tab = line.firstIndex(of: 0x09) else { continue }
            #expect(records[Array(line[..<tab])] == nil, "\(Array(line).printable) listed twice")
            records[Array(line[..<tab])] = Array(line[(tab + 1)...])
        }
        return records
    }

    /// postmap -q - with every query on stdin: query as given -> value.
    static func lookUp(_ queries: [[UInt8]], map: String, config: String) throws -> [[UInt8]: [UInt8]] {
        let result = try ExternalTool.postmap(["-q", "-", map], configDirectory: config, input: queries.flatMap { $0 + [0x0A] })
        #expect(result.status == 0 || result.status == 1, "\(result.errors)")
        return records(result.output)
    }

    /// The answers our folding predicts from the records postmap stores.
    static func predictedAnswers(_ queries: [[UInt8]], stored: [[UInt8]: [UInt8]], utf8: Bool) -> [[UInt8]: [UInt8]] {
        var answers: [[UInt8]: [UInt8]] = [:]
        for query in queries {
            if let key = PostfixKeyFolding.fold(query, utf8: utf8), let value = stored[key] { answers[query] = value }
        }
        return answers
    }

    static func text(_ records: [[UInt8]: [UInt8]]) -> String {
        records.map { "\($0.key.printable)\t\($0.value.printable)" }.sorted().joined(separator: "\n")
    }

    @Test(arguments: ["hash", "btree", "lmdb", "cdb"], [true, false])
    func storedKeysAndLookupsMatchPostmap(type: String, utf8: Bool) throws {
        let directory = try TestDirectory()
        let config = try Self.config(directory, utf8: utf8)
        let bytes = try readBytes(Self.corpus)
        let table = try directory.write("table", bytes)
        let build = try ExternalTool.postmap(["\(type):\(table)"], configDirectory: config)
        #expect(build.status == 0, "\(build.errors)")
        #expect(build.errors.contains("non-UTF-8 input") == utf8)

        let source = try TableSource(path: table, bytes: bytes, utf8Checks: utf8)
        let expected = source.storedRecords()
        // The corpus does exercise the difference.
        #expect(expected[Array("strasse.de".utf8)] == Array((utf8 ? "secure" : "verify").utf8))
        #expect((expected[Array("straße.de".utf8)] == nil) == utf8)
        if type != "cdb" {
            let dump = try ExternalTool.postmap(["-s", "\(type):\(table)"], configDirectory: config)
            #expect(dump.status == 0, "\(dump.errors)")
            let listed = Self.records(dump.output)
            #expect(listed == expected, "ours:\n\(Self.text(expected))\npostmap -s:\n\(Self.text(listed))")
        }
        let queries = Self.queries(source)
        let answers = try Self.lookUp(queries, map: "\(type):\(table)", config: config)
        let predicted = Self.predictedAnswers(queries, stored: expected, utf8: utf8)
        #expect(answers == predicted, "predicted:\n\(Self.text(predicted))\npostmap -q -:\n\(Self.text(answers))")
        // Every stored key is found under its stored (folded) form: folding is idempotent.
        #expect(try Self.lookUp(Array(expected.keys), map: "\(type):\(table)", config: config) == expected)
    }

    @Test(arguments: [IndexAccessMethod.hash, .btree], [true, false])
    func ourIndexMatchesPostmaps(method: IndexAccessMethod, utf8: Bool) throws {
        let directory = try TestDirectory()
        let config = try Self.config(directory, utf8: utf8)
        let bytes = try readBytes(Self.corpus)
        let theirs = try directory.write("theirs/table", bytes)
        let build = try ExternalTool.postmap(["\(method.rawValue):\(theirs)"], configDirectory: config)
        #expect(build.status == 0, "\(build.errors)")
        let source = try TableSource(path: theirs, bytes: bytes, utf8Checks: utf8)

        // What the tool does: every entry postmap reads, in file order.
        let ours = directory.file("ours/table")
        try directory.makeDirectory("ours")
        try directory.write("ours/table", bytes)
        let report = try IndexWriter.rebuild(
            records: source.entries.map { IndexRecord(key: $0.key, value: $0.value) },
            replacing: ours + method.fileSuffix, method: method, expectedCount: source.entryCount,
            metadataForNewFile: FileMetadata(mode: 0o644, uid: 0, gid: 0), utf8KeyFolding: utf8)

        let theirRecords = try IndexFile.readAll(path: theirs + method.fileSuffix, method: method)
        let ourRecords = try IndexFile.readAll(path: ours + method.fileSuffix, method: method)
        #expect(Set(ourRecords) == Set(theirRecords))
        #expect(report.recordCount == theirRecords.count)
        let warned = build.errors.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "duplicate entry: \"") else { return nil }
            return String(line[range.upperBound...].dropLast())
        }
        #expect(report.duplicateKeys.map { String(decoding: $0, as: UTF8.self) } == warned)

        // postmap -q answers alike from both, and IndexFile.lookup as postmap does.
        let queries = Self.queries(source)
        let theirAnswers = try Self.lookUp(queries, map: "\(method.rawValue):\(theirs)", config: config)
        let ourAnswers = try Self.lookUp(queries, map: "\(method.rawValue):\(ours)", config: config)
        #expect(ourAnswers == theirAnswers, "ours:\n\(Self.text(ourAnswers))\ntheirs:\n\(Self.text(theirAnswers))")
        for query in queries {
            let found = try IndexFile.lookup(path: ours + method.fileSuffix, method: method, key: query, utf8KeyFolding: utf8)
            #expect(found == theirAnswers[query], "IndexFile.lookup \(query.printable)")
        }

        // check's comparison: postmap's index has the digest of the source's stored records.
        var digest = RecordDigest()
        for index in 0..<source.entryCount where source.storedEntry(forKeyOf: index, key: source.entry(at: index).key) == index {
            let entry = source.entry(at: index)
            digest.add(SourceRecord(key: entry.key, value: entry.value), utf8KeyFolding: utf8)
        }
        #expect(try IndexFile.digest(path: theirs + method.fileSuffix, method: method) == digest)
    }

    /// With smtputf8_enable = yes postmap skips a key that is not UTF-8;
    /// the writer refuses one rather than store what postmap never would.
    @Test func writerRefusesNonUTF8KeysInUTF8Mode() throws {
        let directory = try TestDirectory()
        let records = [IndexRecord(key: Array("bad".utf8) + [0xFF], value: Array("secure".utf8))]
        #expect(throws: HashMapError.self) {
            try IndexWriter.rebuild(
                records: records, replacing: directory.file("t.db"), method: .hash, expectedCount: 1,
                metadataForNewFile: FileMetadata(mode: 0o644, uid: 0, gid: 0), utf8KeyFolding: true)
        }
        let report = try IndexWriter.rebuild(
            records: records, replacing: directory.file("t.db"), method: .hash, expectedCount: 1,
            metadataForNewFile: FileMetadata(mode: 0o644, uid: 0, gid: 0), utf8KeyFolding: false)
        #expect(report.recordCount == 1)
    }
}
