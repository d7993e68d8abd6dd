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
        try stage(begin(replacing: targetPath, metadataForNewFile: metadataForNewFile), write: write)
    }

    /// Writes `file` through `write` and finishes it.
    private static func stage(
        _ file: FileBeingStaged, write: (_ tempPath: String, _ fd: FileDescriptor) throws -> Void
    ) throws -> StagedFile {
        do {
            try write(file.temporaryPath, file.descriptor)
        } catch {
            file.abandon()
            throw error
        }
        return try file.finish()
    }

    /// Starts a new version of `targetPath` as `stage(replacing:...)` does,
    /// for a caller that writes it a piece at a time between other work.
    public static func begin(replacing targetPath: String, metadataForNewFile: FileMetadata?) throws -> FileBeingStaged {
        let resolved = try resolveSymlinks(targetPath)
        guard let metadata = try existingMetadata(of: resolved) ?? metadataForNewFile else {
            throw FileSafetyError.metadataRequiredForNewFile(path: resolved)
        }
        return try FileBeingStaged(at: resolved, metadata: metadata)
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

    /// Copies the file at `targetPath` (links followed) to a new file beside
    /// it, named target+suffix, or target+suffix+".1", ".2", ... when that
    /// name is taken: an earlier backup is never replaced. The copy has the
    /// original's bytes, owner, group, mode and modification time. Returns
    /// the backup's path.
    public static func backUp(_ targetPath: String, suffix: String) throws -> String {
        let resolved = try resolveSymlinks(targetPath)
        guard let metadata = try existingMetadata(of: resolved) else {
            throw FileSafetyError.systemCallFailed(operation: "back up", path: resolved, errno: .noSuchFileOrDirectory)
        }
        let staged = try stage(FileBeingStaged(at: resolved, metadata: metadata)) { tempPath, fd in
            try copyContents(of: resolved, to: fd, tempPath: tempPath)
        }
        for number in 0..<1000 {
            let name = resolved + suffix + (number == 0 ? "" : ".\(number)")
            if try staged.publish(asNewFile: name) { return name }
        }
        staged.discard()
        throw FileSafetyError.systemCallFailed(operation: "find a free backup name for", path: resolved, errno: .fileExists)
    }

    /// Copies the file open as `source` (a descriptor: its name may already
    /// name another file) to a new file beside `targetPath`, named
    /// target+suffix or target+suffix+".N", with the target's owner and
    /// mode. Returns its path.
    static func keepCopy(of source: Int32, beside targetPath: String, suffix: String) throws -> String {
        guard let metadata = try existingMetadata(of: targetPath) else {
            throw FileSafetyError.systemCallFailed(operation: "keep a copy beside", path: targetPath, errno: .noSuchFileOrDirectory)
        }
        let input = FileDescriptor(rawValue: dup(source))
        defer { try? input.close() }
        let staged = try stage(FileBeingStaged(at: targetPath, metadata: metadata)) { tempPath, fd in
            try copyContents(from: input, named: targetPath, to: fd, tempPath: tempPath)
        }
        for number in 0..<1000 {
            let name = targetPath + suffix + (number == 0 ? "" : ".\(number)")
            if try staged.publish(asNewFile: name) { return name }
        }
        staged.discard()
        throw FileSafetyError.systemCallFailed(operation: "find a free name beside", path: targetPath, errno: .fileExists)
    }

    /// Copies the bytes and the modification time of `source` into `fd`.
    private static func copyContents(of source: String, to fd: FileDescriptor, tempPath: String) throws {
        let input: FileDescriptor
        do {
            input = try FileDescriptor.open(source, .readOnly, options: [.noFollow, .closeOnExec])
        } catch {
            throw FileSafetyError.systemCallFailed(operation: "open", path: source, errno: error as? Errno ?? .ioError)
        }
        defer { try? input.close() }
        try copyContents(from: input, named: source, to: fd, tempPath: tempPath)
    }

    /// The same from an open file, read from its start.
    private static func copyContents(from input: FileDescriptor, named source: String, to fd: FileDescriptor, tempPath: String) throws {
        guard lseek(input.rawValue, 0, SEEK_SET) == 0 else {
            throw FileSafetyError.systemCallFailed(operation: "read", path: source, errno: Errno(rawValue: errno))
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { try input.read(into: $0, retryOnInterrupt: true) }
            } catch {
                throw FileSafetyError.systemCallFailed(operation: "read", path: source, errno: error as? Errno ?? .ioError)
            }
            if count == 0 { break }
            do {
                _ = try fd.writeAll(buffer[..<count])
            } catch {
                throw FileSafetyError.systemCallFailed(operation: "write", path: tempPath, errno: error as? Errno ?? .ioError)
            }
        }
        var st = stat()
        guard fstat(input.rawValue, &st) == 0 else {
            throw FileSafetyError.systemCallFailed(operation: "stat", path: source, errno: Errno(rawValue: errno))
        }
        // UTIME_OMIT ((1 << 30) - 2) leaves the access time alone; Glibc does not export it.
        var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2), st.st_mtim]
        guard futimens(fd.rawValue, &times) == 0 else {
            throw FileSafetyError.systemCallFailed(operation: "set the times of", path: tempPath, errno: Errno(rawValue: errno))
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

    /// Creates a temporary file (see TemporaryName) next to `resolvedPath`.
    /// O_EXCL|O_NOFOLLOW guarantee we write into a file we just created, not
    /// into something a hostile user planted under that name.
    static func createTemporaryFile(beside resolvedPath: String) throws -> (String, FileDescriptor) {
        let base = TemporaryName.split(resolvedPath).name
        guard !base.isEmpty, base != ".", base != ".." else {
            throw FileSafetyError.notRegularFile(path: resolvedPath)
        }
        var attempts = 0
        while true {
            let tempPath = TemporaryName.sibling(of: resolvedPath, named: TemporaryName.make(for: base))
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
    @discardableResult
    static func finalize(_ tempPath: String, metadata: FileMetadata, attributesOf target: String? = nil) throws -> FileIdentity {
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
        // After the mode: an ACL's mask is the group bits of a mode that
        // already matches it.
        if let target, FileReader.exists(target) { try ExtendedAttributes.copy(from: target, to: fd.rawValue, path: tempPath) }
        FaultInjection.point("stage: owner and mode set")
        try SystemCalls.fsync(fd, path: tempPath)
        FaultInjection.point("stage: synced")
        do {
            return FileIdentity(try fd.stat().rawValue)
        } catch {
            throw FileSafetyError.systemCallFailed(operation: "stat", path: tempPath, errno: error)
        }
    }
}

/// A new version of a file being written: a temporary file beside the
/// target (mode 0600 until finished), which finish() gives its final owner
/// and mode and syncs, and abandon() (or dropping it unfinished) removes.
public final class FileBeingStaged {
    private enum State { case writing, finished, abandoned }

    /// The symlink-resolved target.
    public let targetPath: String
    public let temporaryPath: String
    /// Write-only, to the temporary file.
    public let descriptor: FileDescriptor
    private let metadata: FileMetadata
    private var state = State.writing

    init(at resolved: String, metadata: FileMetadata) throws {
        (temporaryPath, descriptor) = try AtomicFile.createTemporaryFile(beside: resolved)
        targetPath = resolved
        self.metadata = metadata
        FaultInjection.point("stage: temporary file created")
    }

    /// The written file, staged: on disk, synced, with its final owner and
    /// mode. On failure the temporary file is removed.
    public func finish() throws -> StagedFile {
        precondition(state == .writing, "a staged file is finished once")
        state = .finished
        do {
            FaultInjection.point("stage: written")
            // close() can report a deferred write error (NFS), so check it.
            do { try descriptor.close() } catch {
                throw FileSafetyError.systemCallFailed(
                    operation: "close", path: temporaryPath, errno: error as? Errno ?? .ioError)
            }
            let identity = try AtomicFile.finalize(temporaryPath, metadata: metadata, attributesOf: targetPath)
            return StagedFile(targetPath: targetPath, temporaryPath: temporaryPath, stagedIdentity: identity)
        } catch {
            try? SystemCalls.unlinkIfPresent(temporaryPath)
            throw error
        }
    }

    /// Removes the temporary file.
    public func abandon() {
        guard state == .writing else { return }
        state = .abandoned
        try? descriptor.close()
        try? SystemCalls.unlinkIfPresent(temporaryPath)
    }

    deinit {
        abandon()
    }
}
