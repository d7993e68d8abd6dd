// PostmapInteropTests.swift: the reader and the writer against the real
// postmap, for both access methods: what postmap writes we read identically,
// and what we write postmap reads identically.

import FileSafety
import HashMap
import PostfixTestSupport
import Testing

@Suite struct PostmapInteropTests {
    @Test(arguments: [IndexAccessMethod.hash, .btree])
    func readerMatchesPostmapDump(method: IndexAccessMethod) throws {
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        let fixture = PolicyFixture.standard()
        let source = try directory.write("tls_policy", fixture.sourceText)
        let warnings = try postmap.build(method, source)
        #expect(warnings.contains("duplicate entry: \"dup.example\""))

        let records = try IndexFile.readAll(path: source + method.fileSuffix, method: method)
        let dump = try postmap.dump(method, source)
        #expect(records.count > 500)
        #expect(sorted(records) == sorted(dump))
        // And the fixture's model of postmap's parsing is right.
        #expect(sorted(records) == sorted(fixture.expectedIndex))
        if method == .btree {
            // A btree cursor walks keys in byte order, as postmap -s does.
            #expect(records == dump)
        }
    }

    @Test(arguments: [IndexAccessMethod.hash, .btree])
    func postmapReadsWhatWeWrite(method: IndexAccessMethod) throws {
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        let fixture = PolicyFixture.standard()

        let reference = try directory.makeDirectory("postmap")
        try directory.write("postmap/tls_policy", fixture.sourceText)
        try postmap.build(method, "\(reference)/tls_policy")

        let ours = try directory.makeDirectory("ours")
        let index = "\(ours)/tls_policy\(method.fileSuffix)"
        let report = try IndexWriter.rebuild(
            records: fixture.records, replacing: index, method: method,
            expectedCount: fixture.records.count,
            metadataForNewFile: FileMetadata(mode: 0o644, uid: 0, gid: 0))
        #expect(report.recordCount == fixture.expectedIndex.count)
        #expect(report.duplicateKeys == [Array("dup.example".utf8), Array("dup.example".utf8)])

        // Every key, asked in its original mixed case, gets postmap's answer.
        let keys = fixture.entries.map(\.key)
        let answers = try postmap.queryAll(keys, method, "\(ours)/tls_policy")
        let expected = Dictionary(
            fixture.expectedIndex.map { (String(decoding: $0.key, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)) },
            uniquingKeysWith: { first, _ in first })
        let expectedAnswers = Dictionary(
            keys.map { ($0, expected[$0.lowercased()]!) }, uniquingKeysWith: { first, _ in first })
        #expect(answers == expectedAnswers)
        // Single queries, as an administrator would run them.
        #expect(
            try postmap.query(".EXAMPLE.net", method, "\(ours)/tls_policy")
                == "verify    servername=hostname\tciphers=high")
        #expect(try postmap.query("dup.example", method, "\(ours)/tls_policy") == "may")
        #expect(
            try postmap.query("Host3.Example.COM", method, "\(ours)/tls_policy")
                == "secure match=nexthop:dot-nexthop")
        #expect(try postmap.query("absent.example", method, "\(ours)/tls_policy") == nil)

        let theirDump = try postmap.dump(method, "\(reference)/tls_policy")
        let ourDump = try postmap.dump(method, "\(ours)/tls_policy")
        #expect(sorted(ourDump) == sorted(theirDump))
        #expect(ourDump.count == fixture.expectedIndex.count)
    }

    /// Byte for byte what db5.3_dump sees: access method, page size, and
    /// every key and value with its trailing NUL. (postmap -q and -s would
    /// not notice a missing NUL: Postfix accepts both.)
    @Test(arguments: [IndexAccessMethod.hash, .btree])
    func onDiskRecordsMatchPostmap(method: IndexAccessMethod) throws {
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        let fixture = PolicyFixture.standard(count: 60)
        let source = try directory.write("policy", fixture.sourceText)
        try postmap.build(method, source)
        let ours = directory.file("ours.db")
        try IndexWriter.rebuild(
            records: fixture.records, replacing: ours, method: method,
            expectedCount: fixture.records.count,
            metadataForNewFile: FileMetadata(mode: 0o644, uid: 0, gid: 0))

        let theirDump = try databaseDump(source + ".db")
        let ourDump = try databaseDump(ours)
        #expect(theirDump.contains("type=\(method.rawValue)"))
        #expect(theirDump.contains("db_pagesize=4096"))
        #expect(theirDump.contains(" example.com\\00"))
        #expect(ourDump == theirDump)
    }

    @Test func lookupTriesKeyWithAndWithoutNul() throws {
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        // postmap -n stores keys and values without the trailing NUL.
        let plain = try directory.write("plain", "Plain.Example verify\n")
        let result = try postmap.run(["-n", "hash:\(plain)"])
        #expect(result.status == 0)
        #expect(
            try IndexFile.lookup(path: plain + ".db", method: .hash, key: Array("PLAIN.example".utf8))
                == Array("verify".utf8))
        #expect(
            try IndexFile.readAll(path: plain + ".db", method: .hash)
                == [IndexRecord(key: "plain.example", value: "verify")])

        let terminated = try directory.write("terminated", "Terminated.Example secure\n")
        try postmap.build(.hash, terminated)
        #expect(
            try IndexFile.lookup(path: terminated + ".db", method: .hash, key: Array("terminated.example".utf8))
                == Array("secure".utf8))
        #expect(try IndexFile.lookup(path: terminated + ".db", method: .hash, key: Array("other".utf8)) == nil)
    }
}

/// `db5.3_dump -p` output lines (header and records).
private func databaseDump(_ path: String) throws -> [String] {
    let result = try ExternalTool.run("/usr/bin/db5.3_dump", ["-p", path])
    #expect(result.status == 0)
    return result.outputText.split(separator: "\n").map(String.init)
}
