// DuplicateAndCaseTests.swift: keys are folded to lower case and the first of
// several records with the same folded key wins, as with postmap; the dropped
// ones are reported.

import FileSafety
import HashMap
import PostfixTestSupport
import Testing

@Suite struct DuplicateAndCaseTests {
    let records = [
        IndexRecord(key: "Dup.Example", value: "first"),
        IndexRecord(key: "Other.Example", value: "may"),
        IndexRecord(key: "DUP.EXAMPLE", value: "second"),
        IndexRecord(key: "dup.example", value: "third"),
        IndexRecord(key: "[Upper.CASE]:25", value: "verify"),
    ]

    @Test(arguments: [IndexAccessMethod.hash, .btree])
    func firstDuplicateWinsAndIsReported(method: IndexAccessMethod) throws {
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        let index = directory.file("policy.db")
        let (staged, report) = try IndexWriter.build(
            records: records, replacing: index, method: method, expectedCount: records.count,
            metadataForNewFile: FileMetadata(mode: 0o644, uid: 0, gid: 0))
        try staged.commit()

        #expect(report.recordCount == 3)
        #expect(report.duplicateKeys == [Array("dup.example".utf8), Array("dup.example".utf8)])
        #expect(
            sorted(try IndexFile.readAll(path: index, method: method))
                == sorted([
                    IndexRecord(key: "dup.example", value: "first"),
                    IndexRecord(key: "other.example", value: "may"),
                    IndexRecord(key: "[upper.case]:25", value: "verify"),
                ]))
        #expect(
            try IndexFile.lookup(path: index, method: method, key: Array("DUP.example".utf8))
                == Array("first".utf8))
        #expect(
            try IndexFile.lookup(
                path: index, method: method, key: Array("Dup.Example".utf8), foldCase: false) == nil)
        #expect(try postmap.query("[UPPER.case]:25", method, directory.file("policy")) == "verify")

        // postmap itself, on the same input, keeps the same record and warns
        // once per dropped duplicate.
        let source = directory.file("reference")
        try directory.write(
            "reference",
            records.map {
                "\(String(decoding: $0.key, as: UTF8.self)) \(String(decoding: $0.value, as: UTF8.self))\n"
            }.joined())
        let warnings = try postmap.build(method, source)
        #expect(
            warnings.components(separatedBy: "duplicate entry: \"dup.example\"").count - 1
                == report.duplicateKeys.count)
        #expect(
            sorted(try postmap.dump(method, source))
                == sorted(try postmap.dump(method, directory.file("policy"))))
    }
}
