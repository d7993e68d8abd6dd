// StagingCleanupTests.swift: no temporary file survives a commit, a failed
// write, a discard or an abandoned StagedFile, and a failure leaves the old
// file as it was.

import FileSafety
import Foundation
import HashMap
import PostfixTestSupport
import Testing

private struct InjectedFailure: Error {}

@Suite struct StagingCleanupTests {
    let metadata = FileMetadata(mode: 0o644, uid: 0, gid: 0)

    @Test func commitLeavesOnlyTheTarget() throws {
        let directory = try TestDirectory()
        let target = directory.file("tls_policy")
        let staged = try AtomicFile.stage(
            replacing: target, contents: Array("a.example may\n".utf8), metadataForNewFile: metadata)
        #expect(staged.targetPath == target)
        #expect(staged.temporaryPath.hasPrefix(directory.file(".tls_policy.tmp-\(getpid())-")))
        #expect(
            try directoryEntries(directory.path)
                == [URL(fileURLWithPath: staged.temporaryPath).lastPathComponent])
        try staged.commit()
        #expect(try directoryEntries(directory.path) == ["tls_policy"])
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "a.example may\n")
        #expect(throws: FileSafetyError.self) { try staged.commit() }
    }

    @Test func failingWriteLeavesNothingAndKeepsTheOldFile() throws {
        let directory = try TestDirectory()
        let target = try directory.write("tls_policy", "old\n")
        #expect(throws: InjectedFailure.self) {
            _ = try AtomicFile.stage(replacing: target, metadataForNewFile: metadata) { _, fd in
                _ = try fd.writeAll(Array("half-writ".utf8))
                throw InjectedFailure()
            }
        }
        #expect(try directoryEntries(directory.path) == ["tls_policy"])
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "old\n")
    }

    @Test func failingIndexBuildLeavesNothingAndKeepsTheOldIndex() throws {
        let directory = try TestDirectory()
        let index = directory.file("tls_policy.db")
        try IndexWriter.rebuild(
            records: [IndexRecord(key: "old.example", value: "may")], replacing: index,
            method: .hash, expectedCount: 1, metadataForNewFile: metadata)
        let bad = [
            IndexRecord(key: "good.example", value: "may"),
            IndexRecord(key: Array("bad\u{0}key".utf8), value: Array("may".utf8)),
        ]
        let error = #expect(throws: HashMapError.self) {
            try IndexWriter.rebuild(
                records: bad, replacing: index, method: .hash, expectedCount: 2,
                metadataForNewFile: metadata)
        }
        #expect(error?.description == "cannot store record 2 in \(index): the key contains a NUL byte")
        #expect(try directoryEntries(directory.path) == ["tls_policy.db"])
        #expect(
            try IndexFile.readAll(path: index, method: .hash)
                == [IndexRecord(key: "old.example", value: "may")])
    }

    @Test func discardAndAbandonRemoveTheTemporaryFile() throws {
        let directory = try TestDirectory()
        let index = directory.file("tls_policy.db")
        let (staged, _) = try IndexWriter.build(
            records: [IndexRecord(key: "a", value: "b")], replacing: index, method: .btree,
            expectedCount: 1, metadataForNewFile: metadata)
        #expect(FileManager.default.fileExists(atPath: staged.temporaryPath))
        staged.discard()
        #expect(try directoryEntries(directory.path) == [])

        func abandon() throws {
            _ = try AtomicFile.stage(
                replacing: index, contents: [1, 2, 3], metadataForNewFile: metadata)
        }
        try abandon()
        #expect(try directoryEntries(directory.path) == [])
    }
}
