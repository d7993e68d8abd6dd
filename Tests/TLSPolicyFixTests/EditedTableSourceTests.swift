// EditedTableSourceTests.swift: apply builds an index from the parse the
// plan was made from, plus the insertions, instead of parsing the written
// file again. These tests hold that shortcut to what it claims: the pieces
// it writes are exactly the edited file, their records are exactly those
// the index is built from (checked against a whole parse of the new bytes),
// and they are the bytes of the planner's edits, which diff shows.

import FileSafety
import Foundation
import HashMap
import PostconfModel
import PostfixTestSupport
import Testing

@testable import TLSPolicyFix

@Suite struct EditedTableSourceTests {
    static let insertion = Array(" servername=hostname".utf8)

    /// The plan for a hash: table holding `bytes`, from an in-memory
    /// configuration: the source's change (what diff shows) and its rebuild
    /// (what apply writes and indexes).
    static func plan(_ bytes: [UInt8]) throws -> (change: FileChange, rebuild: IndexRebuild) {
        let configuration = try Configuration.load(
            ConfigurationLocation(directory: "/etc/postfix", root: nil),
            files: InMemoryFiles(bytes: [
                "/etc/postfix/main.cf": Array("smtputf8_enable = no\nsmtp_tls_policy_maps = hash:/etc/postfix/policy\n".utf8),
                "/etc/postfix/policy": bytes,
            ]))
        let plan = try Pipeline.preview(configuration, options: FixOptions(postfixVersion: PostfixVersion(3, 7)), for: .preview).plan
        return (try #require(plan.changes.first), try #require(plan.rebuilds.first))
    }

    /// Writes the edited table through PieceWriter into a file and returns its bytes.
    static func written(_ table: EditedTableSource, in directory: TestDirectory) throws -> [UInt8] {
        let path = directory.file("written")
        let file = try AtomicFile.begin(replacing: path, metadataForNewFile: FileMetadata(mode: 0o644, uid: getuid(), gid: getgid()))
        var writer = EditedTableSource.PieceWriter(table: table, fd: file.descriptor, path: file.temporaryPath)
        var pieces = 0
        while try writer.writeNextPiece() { pieces += 1 }
        #expect(pieces > 2)
        try file.finish().commit()
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Every shape of entry (continuations with comments between them, CRLF,
    /// tabs, trailing blanks, upper case, duplicates, skipped lines), over
    /// several pieces, with no final newline.
    static func awkwardTable(entries: Int) -> [UInt8] {
        var text = "  leading white space: postmap skips this line\n"
        for index in 0..<entries {
            switch index % 7 {
            case 0: text += "a\(index).example verify\n"
            case 1: text += "B\(index).Example\tsecure match=nexthop  \r\n"
            case 2: text += "c\(index).example secure\n# comment inside\n\n    match=.c\(index).example\n"
            case 3: text += "d\(index).example dane-only\n"
            case 4: text += "novalue\(index)\n"
            case 5: text += "a\(index - 5).EXAMPLE verify\n"
            default: text += "\"quoted \(index)\" verify ciphers=high\t \n"
            }
        }
        return Array((text + "last.example verify").utf8)
    }

    @Test func piecesAreTheEditedFileAndReadAsTheRecordsTheIndexIsBuiltFrom() throws {
        let directory = try TestDirectory()
        // About 3 MB: several pieces.
        let bytes = Self.awkwardTable(entries: 100_000)
        let (change, rebuild) = try Self.plan(bytes)
        #expect(change.edits.count > 50_000)
        let table = EditedTableSource(rebuild)

        let written = try Self.written(table, in: directory)
        #expect(written == change.newBytes)
        let reparsed = try TableSource(path: "policy", bytes: written, utf8Checks: false)
        #expect(reparsed.entryCount == table.recordCount)
        for index in 0..<table.recordCount {
            let record = table.record(at: index)
            let parsed = reparsed.record(at: index)
            guard Array(record.key) == Array(parsed.key), Array(record.value) + Array(record.appended) == Array(parsed.value) else {
                Issue.record("entry \(index) differs")
                return
            }
        }
        // The index digest postmap's records would give.
        var expected = RecordDigest()
        for (key, value) in reparsed.storedRecords() {
            key.withUnsafeBytes { key in value.withUnsafeBytes { value in expected.add(key: key, value: value) } }
        }
        #expect(NativeIndex.storedDigest(of: table) == expected)
    }

    @Test func byteEditsStayCompactOnlyWhileEveryEditIsTheSameInsertion() {
        var edits = ByteEdits()
        edits.reserveCapacity(10)
        for offset in [3, 9, 27] { edits.append(ByteEdit(insert: Self.insertion, at: offset)) }
        #expect(edits.commonInsertion == Self.insertion)
        #expect(Array(edits) == [3, 9, 27].map { ByteEdit(insert: Self.insertion, at: $0) })
        edits.append(ByteEdit(range: 40..<42, replacement: Array("x".utf8)))
        #expect(edits.commonInsertion == nil)
        #expect(
            Array(edits) == [3, 9, 27].map { ByteEdit(insert: Self.insertion, at: $0) } + [ByteEdit(range: 40..<42, replacement: Array("x".utf8))])
        #expect(edits.range(at: 3) == 40..<42)
        #expect(ByteEdits().commonInsertion == [])
    }
}
