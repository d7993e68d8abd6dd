// AtomicFile.swift: prepares the new version of a file beside the old one so
// it can replace it in a single rename(2). Readers (Postfix daemons, postmap)
// therefore see either the complete old file or the complete new one, never
// a half-written file, and a crash leaves the old file intact.

import Glibc
import SystemPackage

public enum AtomicFile {
    /// Writes a new version of `targetPath` into a temporary file in the same
    /// directory as the symlink-resolved target and returns it staged: on
    /// disk, fsynced, with its final owner and mode, but not yet visible
    /// under the target's name.
    ///
    /// `write` gets the temporary file's path and a write-only descriptor to
    /// it (mode 0600 while being written, so nobody else can read a partial
    /// file). It may also replace the file at that path itself (e.g. a
    /// library that insists on creating its own file), as long as a regular
    /// file is there when it returns.
    ///
    /// The owner, group and mode are copied from the existing target, or
    /// taken from `metadataForNewFile` when there is none (then it is
    /// required). On any error the temporary file is removed and the error
    /// rethrown.
    public static func stage(
        replacing targetPath: String,
        metadataForNewFile: FileMetadata?,
        write: (_ tempPath: String, _ fd: FileDescriptor) throws -> Void
    ) throws -> StagedFile {
        let resolved = try resolveSymlinks(targetPath)
        let metadata = try existingMetadata(of: resolved) ?? metadataForNewFile
        guard let metadata else {
            throw FileSafetyError.metadataRequiredForNewFile(path: resolved)
        }
        let (tempPath, fd) = try createTemporaryFile(beside: resolved)
        do {
            do {
                try write(tempPath, fd)
            } catch {
                try? fd.close()
                throw error
            }
            // close() can report a deferred write error (NFS), so check it.
            do { try fd.close() } catch {
                throw FileSafetyError.systemCallFailed(
                    operation: "close", path: tempPath, errno: error as? Errno ?? .ioError)
            }
            try finalize(tempPath, metadata: metadata)
        } catch {
            try? SystemCalls.unlinkIfPresent(tempPath)
            throw error
        }
        return StagedFile(targetPath: resolved, temporaryPath: tempPath)
    }

    /// Stages a new version of `targetPath` holding exactly `contents`.
    public static func stage(
        replacing targetPath: String,
        contents: [UInt8],
        metadataForNewFile: FileMetadata?
    ) throws -> StagedFile {
        try stage(replacing: targetPath, metadataForNewFile: metadataForNewFile) { tempPath, fd in
            do {
                _ = try fd.writeAll(contents)
            } catch {
                throw FileSafetyError.systemCallFailed(
                    operation: "write", path: tempPath, errno: error as? Errno ?? .ioError)
            }
        }
    }

    /// The metadata of the file being replaced, or nil when there is none
    /// yet. Anything but a regular file is refused: renaming over a
    /// directory or device is never what the caller meant.
    private static func existingMetadata(of resolvedPath: String) throws -> FileMetadata? {
        let status: Stat
        do {
            status = try Stat(FilePath(resolvedPath), followTargetSymlink: false)
        } catch .noSuchFileOrDirectory {
            return nil
        } catch {
            throw FileSafetyError.systemCallFailed(
                operation: "stat", path: resolvedPath, errno: error)
        }
        guard status.type == .regular else {
            throw FileSafetyError.notRegularFile(path: resolvedPath)
        }
        return FileMetadata(status)
    }

    /// Creates `.<basename>.tmp-<pid>-<random>` next to `resolvedPath`.
    /// O_EXCL|O_NOFOLLOW guarantee we write into a file we just created, not
    /// into something a hostile user planted under that name.
    private static func createTemporaryFile(beside resolvedPath: String) throws -> (String, FileDescriptor) {
        let target = FilePath(resolvedPath)
        guard let base = target.lastComponent else {
            throw FileSafetyError.notRegularFile(path: resolvedPath)
        }
        let directory = target.removingLastComponent()
        var attempts = 0
        while true {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            let name = ".\(base.string).tmp-\(getpid())-\(suffix)"
            let tempPath = directory.appending(name).string
            do {
                let fd = try FileDescriptor.open(
                    tempPath, .writeOnly,
                    options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                    permissions: [.ownerReadWrite])
                return (tempPath, fd)
            } catch Errno.fileExists where attempts < 10 {
                attempts += 1  // a leftover or a collision: pick another name
            } catch {
                throw FileSafetyError.systemCallFailed(
                    operation: "create temporary file", path: tempPath,
                    errno: error as? Errno ?? .ioError)
            }
        }
    }

    /// Gives the written temporary file its final owner and mode and makes it
    /// durable. It is reopened by name because `write` may have replaced the
    /// file we created. fchown comes before fchmod because changing the
    /// owner clears setuid/setgid bits; fsync comes last so the owner and
    /// mode are on disk together with the data before the rename publishes
    /// the file.
    private static func finalize(_ tempPath: String, metadata: FileMetadata) throws {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(tempPath, .readOnly, options: [.noFollow, .closeOnExec])
        } catch {
            throw FileSafetyError.systemCallFailed(
                operation: "reopen", path: tempPath, errno: error as? Errno ?? .ioError)
        }
        defer { try? fd.close() }
        let status: Stat
        do { status = try fd.stat() } catch {
            throw FileSafetyError.systemCallFailed(operation: "stat", path: tempPath, errno: error)
        }
        guard status.type == .regular else {
            throw FileSafetyError.notRegularFile(path: tempPath)
        }
        // Only call fchown when something changes, so an unprivileged user
        // can still replace their own files.
        if status.rawValue.st_uid != metadata.uid || status.rawValue.st_gid != metadata.gid {
            try SystemCalls.fchown(fd, uid: metadata.uid, gid: metadata.gid, path: tempPath)
        }
        try SystemCalls.fchmod(fd, mode: metadata.mode, path: tempPath)
        try SystemCalls.fsync(fd, path: tempPath)
    }
}
