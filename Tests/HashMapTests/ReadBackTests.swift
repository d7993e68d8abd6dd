// ReadBackTests.swift: how a new index is checked against what was written
// to it. RecordDigest must tell apart any change to the set of records and
// nothing else; the bulk cursor read must return every record, including
// one too large for its first buffer; and a build that also does steps of
// other work ("meanwhile") must produce the same index.

import FileSafety
import Foundation
import HashMap
import PostfixTestSupport
import Testing

@Suite struct ReadBackTests {
    static func digest(_ records: [(String, String)]) -> RecordDigest {
        var digest = RecordDigest()
        for (key, value) in records {
            Array(key.utf8).withUnsafeBytes { key in
                Array(value.utf8).withUnsafeBytes { value in digest.add(key: key, value: value) }
            }
        }
        return digest
    }

    @Test func digestIgnoresOrderAndSeesEveryChange() {
        let records = [("a.example", "verify"), ("b.example", "secure"), ("c.example", "may")]
        #expect(Self.digest(records) == Self.digest(records.reversed()))
        #expect(Self.digest(records).count == 3)
        // A changed value, a changed key, a record moved between key and
        // value, one missing, one added, one twice.
        #expect(Self.digest(records) != Self.digest([("a.example", "verify servername=hostname")] + records.dropFirst()))
        #expect(Self.digest(records) != Self.digest([("A.example", "verify")] + records.dropFirst()))
        #expect(Self.digest([("ab", "c")]) != Self.digest([("a", "bc")]))
        #expect(Self.digest(records) != Self.digest(Array(records.dropLast())))
        #expect(Self.digest(records) != Self.digest(records + [("d.example", "none")]))
        #expect(Self.digest(records) != Self.digest(records + [records[0]]))
    }

    @Test func sourceRecordsDigestAsTheirStoredForm() {
        var fromSource = RecordDigest()
        let key = Array("Mixed.EXAMPLE".utf8)
        let value = Array("verify".utf8)
        let appended = Array(" servername=hostname".utf8)
        fromSource.add(SourceRecord(key: key[...], value: value[...], appended: appended[...]))
        #expect(fromSource == Self.digest([("mixed.example", "verify servername=hostname")]))
    }

    @Test(arguments: [IndexAccessMethod.hash, .btree])
    func bulkReadReturnsEveryRecordAndOneLargerThanItsBuffer(method: IndexAccessMethod) throws {
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        // 300 KB: more than the first bulk buffer (256 KiB) holds.
        let large = String(repeating: "x", count: 300_000)
        let lines = (0..<5000).map { "host\($0).example verify" } + ["large.example \(large)"]
        try directory.write("policy", lines.joined(separator: "\n") + "\n")
        _ = try postmap.build(method, directory.file("policy"))
        let read = try IndexFile.readAll(path: directory.file("policy.db"), method: method)
        #expect(read.count == 5001)
        #expect(read.first { $0.key == Array("large.example".utf8) }?.value == Array(large.utf8))
        #expect(
            try IndexFile.digest(path: directory.file("policy.db"), method: method)
                == Self.digest(
                    lines.map { line in
                        let parts = line.split(separator: " ", maxSplits: 1)
                        return (String(parts[0]), String(parts[1]))
                    }))
    }

    /// Records 0..<count, each "hostN.example" with "verify" plus an
    /// appended attribute for even N.
    struct Numbered: IndexSource {
        let count: Int
        let keys: [[UInt8]]
        let value = Array("verify".utf8)
        let appended = Array(" servername=hostname".utf8)

        init(count: Int) {
            self.count = count
            keys = (0..<count).map { Array("Host\($0).example".utf8) }
        }

        var recordCount: Int { count }
        func key(at index: Int) -> ArraySlice<UInt8> { keys[index][...] }
        func record(at index: Int) -> SourceRecord {
            SourceRecord(key: keys[index][...], value: value[...], appended: index % 2 == 0 ? appended[...] : [])
        }
    }

    @Test func buildWithStepsMeanwhileStoresTheSameRecords() throws {
        let directory = try TestDirectory()
        let source = Numbered(count: 50_000)
        var steps = 0
        let (staged, report) = try IndexWriter.build(
            from: source, replacing: directory.file("policy.db"), method: .hash,
            metadataForNewFile: FileMetadata(mode: 0o644, uid: 0, gid: 0)
        ) {
            steps += 1
            return steps < 1000
        }
        try staged.commit()
        // Steps are taken until the work says it is done, and no further.
        #expect(steps == 1000)
        #expect(report.recordCount == 50_000)
        let records = try IndexFile.readAll(path: directory.file("policy.db"), method: .hash)
        #expect(records.count == 50_000)
        #expect(
            try IndexFile.lookup(path: directory.file("policy.db"), method: .hash, key: Array("HOST42.example".utf8))
                == Array("verify servername=hostname".utf8))
        #expect(
            try IndexFile.lookup(path: directory.file("policy.db"), method: .hash, key: Array("host43.example".utf8))
                == Array("verify".utf8))
        #expect(try IndexFile.digest(path: directory.file("policy.db"), method: .hash) == report.digest)
    }

    @Test func aRecordWithNULIsRefusedNamingTheFirstInFileOrder() throws {
        let directory = try TestDirectory()
        let records = (0..<2000).map { IndexRecord(key: "host\($0).example", value: $0 == 700 || $0 == 1500 ? "bad\0value" : "verify") }
        #expect {
            _ = try IndexWriter.build(
                records: records, replacing: directory.file("policy.db"), method: .hash, expectedCount: records.count,
                metadataForNewFile: FileMetadata(mode: 0o644, uid: 0, gid: 0))
        } throws: { error in
            "\(error)".contains("record 701") && "\(error)".contains("NUL")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
