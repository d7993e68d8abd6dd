// AtomicFile.swift: prepares the new version of a file beside the old one so
// it can replace it in a single rename(2). Readers (Postfix daemons, postmap)
// therefore see either the complete old file or the complete new one, never
// a half-written file, and a crash leaves the old file intact.

import Glibc
import SystemPackage

public enum AtomicFile {
    /// Writes a new version of `target` into a temporary file in the
    /// directory the resolution pinned (the target's links were followed
    /// then, once) and returns it staged: on disk, fsynced, with its final
    /// owner and mode, but not yet visible under the target's name. Every
    /// step works on that directory's descriptor: nothing renamed or linked
    /// on the way to it afterwards changes where the file goes.
    ///
    /// `write` gets the file being written: its descriptor (write-only,
    /// mode 0600 while being written, so nobody else can read a partial
    /// file) and its names. It may also replace the file itself (a library
    /// that insists on creating its own file, given `pinnedTemporaryPath`),
    /// as long as a regular file is there when it returns.
    ///
    /// The owner, group and mode are copied from the existing target, or
    /// taken from `metadataForNewFile` when there is none (then it is
    /// required). On any error the temporary file is removed and the error
    /// rethrown.
    public static func stage(
        replacing target: ResolvedPath,
        metadataForNewFile: FileMetadata?,
        write: (FileBeingStaged) throws -> Void
    ) throws -> StagedFile {
        try stage(begin(replacing: target, metadataForNewFile: metadataForNewFile), write: write)
    }

    /// The same for a path this process names: it is resolved once, here.
    /// `write` gets a path that reaches the temporary file through the
    /// pinned directory, and its descriptor.
    public static func stage(
        replacing targetPath: String,
        metadataForNewFile: FileMetadata?,
        write: (_ tempPath: String, _ fd: FileDescriptor) throws -> Void
    ) throws -> StagedFile {
        try stage(replacing: resolve(targetPath), metadataForNewFile: metadataForNewFile) { file in
            try write(file.pinnedTemporaryPath, file.descriptor)
        }
    }

    /// Writes `file` through `write` and finishes it.
    private static func stage(_ file: FileBeingStaged, write: (FileBeingStaged) throws -> Void) throws -> StagedFile {
        do {
            try write(file)
        } catch {
            file.abandon()
            throw error
        }
        return try file.finish()
    }

    /// Starts a new version of `target` as `stage(replacing:...)` does, for
    /// a caller that writes it a piece at a time between other work.
    public static func begin(replacing target: ResolvedPath, metadataForNewFile: FileMetadata?) throws -> FileBeingStaged {
        let name = try target.fileName()
        guard !target.isDanglingLink else { throw FileSafetyError.danglingSymlink(link: target.path, missingTarget: target.path) }
        guard let metadata = try existingMetadata(of: name, in: target.directory) ?? metadataForNewFile else {
            throw FileSafetyError.metadataRequiredForNewFile(path: target.path)
        }
        return try FileBeingStaged(in: target.directory, replacing: name, metadata: metadata)
    }

    public static func begin(replacing targetPath: String, metadataForNewFile: FileMetadata?) throws -> FileBeingStaged {
        try begin(replacing: resolve(targetPath), metadataForNewFile: metadataForNewFile)
    }

    /// Stages a new version of `target` holding exactly `contents`.
    public static func stage(replacing target: ResolvedPath, contents: [UInt8], metadataForNewFile: FileMetadata?) throws -> StagedFile {
        try stage(replacing: target, metadataForNewFile: metadataForNewFile) { file in
            do {
                _ = try file.descriptor.writeAll(contents)
            } catch {
                throw FileSafetyError.systemCallFailed(operation: "write", path: file.temporaryPath, errno: error as? Errno ?? .ioError)
            }
        }
    }

    public static func stage(replacing targetPath: String, contents: [UInt8], metadataForNewFile: FileMetadata?) throws -> StagedFile {
        try stage(replacing: resolve(targetPath), contents: contents, metadataForNewFile: metadataForNewFile)
    }

    /// `path` resolved once on this machine. A link whose target is
    /// missing is an error naming the link, as before anything is written.
    private static func resolve(_ path: String) throws -> ResolvedPath {
        let target = try ResolvedPath.resolving(path)
        if target.isDanglingLink { throw FileSafetyError.danglingSymlink(link: path, missingTarget: target.path) }
        return target
    }

    /// Copies the file `staged` replaces (as it is now) to a new file in
    /// its directory, named target+suffix, or target+suffix+".1", ".2", ...
    /// when that name is taken: an earlier backup is never replaced. The
    /// copy has the original's bytes, owner, group, mode and modification
    /// time. Returns the backup, or nil when there is no file to back up.
    public static func backUp(replacedBy staged: StagedFile, suffix: String) throws -> KeptCopy? {
        let directory = staged.directory
        let name = staged.targetName
        let input = directory.open(name, O_RDONLY | O_NONBLOCK)
        guard input >= 0 else {
            if errno == ENOENT { return nil }
            throw FileSafetyError.systemCallFailed(operation: "open", path: staged.targetPath, errno: Errno(rawValue: errno))
        }
        defer { close(input) }
        return try keepCopy(of: input, in: directory, named: name, suffix: suffix)
    }

    /// Copies the file open as `source` (a descriptor: its name may already
    /// name another file) to a new file beside `name` in `directory`, named
    /// name+suffix or name+suffix+".N", with the owner and mode of the file
    /// now at `name`. Returns the copy.
    static func keepCopy(of source: Int32, in directory: PinnedDirectory, named name: String, suffix: String) throws -> KeptCopy {
        guard let metadata = try existingMetadata(of: name, in: directory) else {
            throw FileSafetyError.systemCallFailed(operation: "keep a copy beside", path: directory.child(name), errno: .noSuchFileOrDirectory)
        }
        let input = FileDescriptor(rawValue: dup(source))
        defer { try? input.close() }
        let staged = try stage(FileBeingStaged(in: directory, replacing: name, metadata: metadata)) { file in
            try copyContents(from: input, named: directory.child(name), to: file.descriptor, tempPath: file.temporaryPath)
        }
        for number in 0..<1000 {
            let copy = name + suffix + (number == 0 ? "" : ".\(number)")
            if try staged.publish(asNewFileNamed: copy) { return KeptCopy(directory: directory, name: copy) }
        }
        staged.discard()
        throw FileSafetyError.systemCallFailed(operation: "find a free name beside", path: directory.child(name), errno: .fileExists)
    }

    /// Copies the bytes and the modification time of `input`, read from
    /// its start, into `fd`.
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
    /// directory or device is never what the caller meant, and a link here
    /// is not the file the resolution found.
    private static func existingMetadata(of name: String, in directory: PinnedDirectory) throws -> FileMetadata? {
        guard let status = try directory.status(of: name) else { return nil }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw FileSafetyError.notRegularFile(path: directory.child(name)) }
        return FileMetadata(mode: status.st_mode & 0o7777, uid: status.st_uid, gid: status.st_gid)
    }

    /// Creates a temporary file (see TemporaryName) beside `name` in
    /// `directory`. O_EXCL|O_NOFOLLOW guarantee we write into a file we just
    /// created, not into something a hostile user planted under that name.
    static func createTemporaryFile(in directory: PinnedDirectory, beside name: String) throws -> (String, FileDescriptor) {
        guard !name.isEmpty, name != ".", name != ".." else { throw FileSafetyError.notRegularFile(path: directory.child(name)) }
        var attempts = 0
        while true {
            let temporaryName = TemporaryName.make(for: name)
            let fd = directory.open(temporaryName, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            if fd >= 0 { return (temporaryName, FileDescriptor(rawValue: fd)) }
            let code = Errno(rawValue: errno)
            if code == .fileExists && attempts < 10 {
                attempts += 1  // a leftover or a collision: pick another name
                continue
            }
            throw FileSafetyError.systemCallFailed(operation: "create temporary file", path: directory.child(temporaryName), errno: code)
        }
    }

    /// Gives the written temporary file its final owner and mode and makes it
    /// durable. It is reopened (in its pinned directory) because `write`
    /// may have replaced the file we created. fchown comes before fchmod
    /// because changing the owner clears setuid/setgid bits; fsync comes
    /// last so the owner and mode are on disk together with the data before
    /// the rename publishes the file.
    static func finalize(_ file: FileBeingStaged, metadata: FileMetadata) throws -> FileIdentity {
        let tempPath = file.temporaryPath
        let opened = file.directory.open(file.temporaryName, O_RDONLY)
        guard opened >= 0 else {
            throw FileSafetyError.systemCallFailed(operation: "reopen", path: tempPath, errno: Errno(rawValue: errno))
        }
        let fd = FileDescriptor(rawValue: opened)
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
        if try file.directory.status(of: file.targetName) != nil {
            try ExtendedAttributes.copy(
                from: file.directory.pinnedPath(of: file.targetName), named: file.targetPath, to: fd.rawValue, path: tempPath)
        }
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

/// A copy keepCopy made (a backup): its name in the directory it was made
/// in, which is where remove() removes it, whatever that directory's path
/// leads to by then.
public struct KeptCopy: Sendable {
    let directory: PinnedDirectory
    let name: String

    /// Its path, for messages and reports.
    public var path: String { directory.child(name) }

    /// Removes the copy (an apply that failed before its commit point).
    public func remove() { try? directory.unlinkIfPresent(name) }
}

/// A new version of a file being written: a temporary file beside the
/// target in its pinned directory (mode 0600 until finished), which
/// finish() gives its final owner and mode and syncs, and abandon() (or
/// dropping it unfinished) removes.
public final class FileBeingStaged {
    private enum State { case writing, finished, abandoned }

    /// The directory of the target, as the resolution pinned it.
    let directory: PinnedDirectory
    let targetName: String
    let temporaryName: String
    /// Write-only, to the temporary file.
    public let descriptor: FileDescriptor
    private let metadata: FileMetadata
    private var state = State.writing

    init(in directory: PinnedDirectory, replacing targetName: String, metadata: FileMetadata) throws {
        self.directory = directory
        self.targetName = targetName
        (temporaryName, descriptor) = try AtomicFile.createTemporaryFile(in: directory, beside: targetName)
        self.metadata = metadata
        FaultInjection.point("stage: temporary file created")
    }

    /// The target's path (links followed), for messages and the journal.
    public var targetPath: String { directory.child(targetName) }
    /// The temporary file's path, for messages and for other programs.
    public var temporaryPath: String { directory.child(temporaryName) }
    /// The temporary file through the pinned directory's descriptor, for a
    /// library in this process that opens it by name.
    public var pinnedTemporaryPath: String { directory.pinnedPath(of: temporaryName) }

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
            let identity = try AtomicFile.finalize(self, metadata: metadata)
            return StagedFile(in: directory, targetName: targetName, temporaryName: temporaryName, stagedIdentity: identity)
        } catch {
            try? directory.unlinkIfPresent(temporaryName)
            throw error
        }
    }

    /// Removes the temporary file.
    public func abandon() {
        guard state == .writing else { return }
        state = .abandoned
        try? descriptor.close()
        try? directory.unlinkIfPresent(temporaryName)
    }

    deinit {
        abandon()
    }
}
