// CommitJournalTests.swift: the journaled commit of several files, and its
// completion after an interruption: pending renames are done, renames done
// before the crash are recognised, a target edited after the crash stops the
// completion (its staged version is dropped), a journal that others could
// have written is refused, and a target changed before the commit point
// aborts the commit with nothing replaced.

import Foundation
import Glibc
import PostfixTestSupport
import Testing

@testable import FileSafety

@Suite struct CommitJournalTests {
    let directory: TestDirectory
    let journal: CommitJournal

    init() throws {
        directory = try TestDirectory("ptf-journal")
        journal = CommitJournal(path: directory.file(".journal"))
        try directory.write("a", "old a\n")
        try directory.write("b", "old b\n")
    }

    func stage(_ name: String, _ text: String) throws -> StagedFile {
        try AtomicFile.stage(replacing: directory.file(name), contents: Array(text.utf8), metadataForNewFile: nil)
    }

    func text(_ name: String) throws -> String { String(decoding: try readBytes(directory.file(name)), as: UTF8.self) }

    /// Writes the journal for `files` as commit() does before its renames.
    func writeJournal(_ files: [StagedFile]) throws {
        let entries = try files.map { file in
            JournalEntry(
                temporaryPath: file.temporaryPath, targetPath: file.targetPath,
                replacedIdentity: try FileIdentity.of(path: file.targetPath), stagedIdentity: file.stagedIdentity)
        }
        try AtomicFile.stage(
            replacing: journal.path, contents: CommitJournal.encode(entries),
            metadataForNewFile: FileMetadata(mode: 0o600, uid: geteuid(), gid: getegid())
        ).commit()
    }

    @Test func commitReplacesEveryFileAndRemovesTheJournal() throws {
        let a = try stage("a", "new a\n")
        let b = try stage("b", "new b\n")
        try journal.commit([(a, try FileIdentity.of(path: a.targetPath)), (b, try FileIdentity.of(path: b.targetPath))])
        #expect(try text("a") == "new a\n" && text("b") == "new b\n")
        #expect(try directoryEntries(directory.path) == ["a", "b"])
    }

    @Test func recoveryCompletesWhatTheCrashLeftUndone() throws {
        let a = try stage("a", "new a\n")
        let b = try stage("b", "new b\n")
        try writeJournal([a, b])
        try a.commit()  // the crash came after the first rename
        var locked: [String] = []
        let recovery = try journal.recover {
            locked.append($0); return []
        }
        #expect(recovery?.completed == [b.targetPath])
        #expect(recovery?.alreadyReplaced == [a.targetPath])
        #expect(recovery?.abandoned == [])
        #expect(locked == [a.targetPath, b.targetPath])
        #expect(try text("a") == "new a\n" && text("b") == "new b\n")
        #expect(try directoryEntries(directory.path) == ["a", "b"])
        #expect(try journal.recover { _ in [] } == nil)
    }

    @Test func aTargetEditedAfterTheCrashStopsTheCompletion() throws {
        let a = try stage("a", "new a\n")
        let b = try stage("b", "new b\n")
        try writeJournal([a, b])
        try directory.write("b", "edited by hand\n")
        let recovery = try journal.recover { _ in [] }
        #expect(recovery?.completed == [])
        #expect(recovery?.abandoned == [a.targetPath, b.targetPath])
        #expect(try text("a") == "old a\n" && text("b") == "edited by hand\n")
        #expect(try directoryEntries(directory.path) == ["a", "b"])
    }

    @Test func aJournalOthersCouldWriteIsRefused() throws {
        let a = try stage("a", "new a\n")
        try writeJournal([a])
        chmod(journal.path, 0o666)
        let error = #expect(throws: FileSafetyError.self) { try journal.recover { _ in [] } }
        #expect(
            error?.description
                == "cannot use the journal \(journal.path): it belongs to another user, or others may write it; check it and remove it by hand"
        )
        #expect(try text("a") == "old a\n")
    }

    @Test func aJournalPairingAFileWithAnythingButItsTemporaryFileIsRefused() throws {
        let entry = JournalEntry(
            temporaryPath: directory.file("b"), targetPath: directory.file("a"), replacedIdentity: nil,
            stagedIdentity: try #require(try FileIdentity.of(path: directory.file("b"))))
        try AtomicFile.stage(
            replacing: journal.path, contents: CommitJournal.encode([entry]),
            metadataForNewFile: FileMetadata(mode: 0o600, uid: geteuid(), gid: getegid())
        ).commit()
        #expect(throws: FileSafetyError.journalInvalid(path: journal.path, reason: "entry 1 does not pair a temporary file with its target")) {
            try journal.recover { _ in [] }
        }
        #expect(try text("a") == "old a\n" && text("b") == "old b\n")
    }

    @Test func aTargetChangedBeforeTheCommitPointAbortsWithNothingReplaced() throws {
        let expected = try FileIdentity.of(path: directory.file("b"))
        let a = try stage("a", "new a\n")
        let b = try stage("b", "new b\n")
        try directory.write("b", "edited meanwhile\n")
        #expect(throws: FileSafetyError.targetChanged(path: b.targetPath)) {
            try journal.commit([(a, try FileIdentity.of(path: a.targetPath)), (b, expected)])
        }
        #expect(try text("a") == "old a\n" && text("b") == "edited meanwhile\n")
        #expect(!FileManager.default.fileExists(atPath: journal.path))
    }
}
