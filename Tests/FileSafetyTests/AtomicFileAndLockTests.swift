// AtomicFileAndLockTests.swift: symbolic link resolution, exact copying of owner and
// mode into a replacement, error wording, and flock cooperation with postmap.

import FileSafety
import Foundation
import Glibc
import PostfixTestSupport
import Testing

@Suite struct FileSafetyTests {
    @Test func resolvesChainsOfRelativeAndAbsoluteLinks() throws {
        let directory = try TestDirectory()
        let real = try directory.makeDirectory("real")
        try directory.write("real/policy", "x\n")
        #expect(symlink("\(real)/policy", directory.file("absolute")) == 0)
        #expect(symlink("absolute", directory.file("relative")) == 0)
        #expect(try resolveSymlinks(directory.file("relative")) == "\(real)/policy")
        #expect(try resolveSymlinks("\(real)/policy") == "\(real)/policy")
        #expect(try resolveSymlinks(directory.file("not-yet")) == directory.file("not-yet"))
        #expect(try FileMetadata.of(path: directory.file("relative")).mode == 0o644)
    }

    @Test func danglingLinksAndLoopsAreErrors() throws {
        let directory = try TestDirectory()
        #expect(symlink("missing", directory.file("dangling")) == 0)
        let dangling = #expect(throws: FileSafetyError.self) {
            try resolveSymlinks(directory.file("dangling"))
        }
        #expect(
            dangling?.description
                == "cannot resolve symbolic link \(directory.file("dangling")): its target \(directory.file("missing")) does not exist")
        #expect(throws: FileSafetyError.self) {
            try AtomicFile.stage(
                replacing: directory.file("dangling"), contents: [],
                metadataForNewFile: FileMetadata(mode: 0o644, uid: 0, gid: 0))
        }

        #expect(symlink("loop-b", directory.file("loop-a")) == 0)
        #expect(symlink("loop-a", directory.file("loop-b")) == 0)
        let loop = #expect(throws: FileSafetyError.self) { try resolveSymlinks(directory.file("loop-a")) }
        #expect(loop?.description == "cannot resolve \(directory.file("loop-a")): more than 40 levels of symbolic links")
    }

    @Test func replacementCopiesOwnerAndSpecialModeBitsExactly() throws {
        let directory = try TestDirectory()
        let target = try directory.write("script", "old\n")
        #expect(chown(target, 1234, 2345) == 0)
        #expect(chmod(target, 0o2750) == 0)  // after chown: chown clears setgid
        let staged = try AtomicFile.stage(
            replacing: target, contents: Array("new\n".utf8), metadataForNewFile: nil)
        // Staged: already final owner and mode, but not yet visible.
        #expect(
            try FileMetadata.of(path: staged.temporaryPath)
                == FileMetadata(mode: 0o2750, uid: 1234, gid: 2345))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "old\n")
        try staged.commit()
        #expect(try FileMetadata.of(path: target) == FileMetadata(mode: 0o2750, uid: 1234, gid: 2345))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "new\n")
    }

    @Test func newFileNeedsMetadata() throws {
        let directory = try TestDirectory()
        let target = directory.file("new")
        let error = #expect(throws: FileSafetyError.self) {
            try AtomicFile.stage(replacing: target, contents: [1], metadataForNewFile: nil)
        }
        #expect(error?.description.contains(target) == true)
        #expect(try directoryEntries(directory.path) == [])
    }

    @Test func renameFailureNamesBothPathsAndRemovesTheTemporaryFile() throws {
        let directory = try TestDirectory()
        let target = try directory.write("tls_policy", "old\n")
        let staged = try AtomicFile.stage(
            replacing: target, contents: Array("new\n".utf8), metadataForNewFile: nil)
        // The target turns into a non-empty directory before the commit.
        try FileManager.default.removeItem(atPath: target)
        try directory.makeDirectory("tls_policy/inside")
        let error = #expect(throws: FileSafetyError.self) { try staged.commit() }
        #expect(
            error?.description
                == "cannot rename \(staged.temporaryPath) to \(target): Is a directory")
        #expect(try directoryEntries(directory.path) == ["tls_policy"])
    }

    @Test func exclusiveLockExcludesOthersAndPostmapWaitsForIt() throws {
        let directory = try TestDirectory()
        let config = try directory.makeConfigDirectory()
        let source = try directory.write("tls_policy", "a.example may\n")
        #expect(try ExternalTool.postmap(["hash:\(source)"], configDirectory: config).status == 0)
        let index = source + ".db"

        let lock = try FileLock.exclusive(path: index, timeout: .zero)
        let busy = #expect(throws: FileSafetyError.self) { try FileLock.exclusive(path: index, timeout: .zero) }
        #expect(busy?.description == "cannot lock \(index): it is locked by another process")
        #expect(throws: FileSafetyError.self) { try FileLock.shared(path: index, timeout: .zero) }

        // postmap -q takes a shared lock on the .db, so it waits for ours.
        let started = Date()
        let released = DispatchSemaphore(value: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.4) {
            lock.release()
            released.signal()
        }
        #expect(try ExternalTool.postmap(["-q", "a.example", "hash:\(source)"], configDirectory: config).outputText == "may\n")
        #expect(Date().timeIntervalSince(started) >= 0.35)
        released.wait()
        lock.release()  // a second release is harmless
        let again = try FileLock.exclusive(path: index, timeout: .zero)
        again.release()
    }
}
