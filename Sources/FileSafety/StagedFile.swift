// StagedFile.swift: a fully written new version of a file that is not yet
// visible. commit() publishes it with one rename(2); discard() (or simply
// dropping it) removes it, so an aborted run leaves no temporary files.

import SystemPackage

public final class StagedFile {
    private enum State { case staged, committed, discarded }

    /// The file that commit() replaces: the symlink-resolved target, so a
    /// symbolic link stays a link and points at the updated file.
    public let targetPath: String
    /// Where the new version is waiting, in the same directory as
    /// `targetPath` so the rename cannot cross file systems.
    public let temporaryPath: String
    /// The staged file's identity, which the target has once committed.
    public let stagedIdentity: FileIdentity
    private var state = State.staged

    init(targetPath: String, temporaryPath: String, stagedIdentity: FileIdentity) {
        self.targetPath = targetPath
        self.temporaryPath = temporaryPath
        self.stagedIdentity = stagedIdentity
    }

    /// Atomically replaces the target with the new version, then fsyncs the
    /// directory so the rename itself survives a crash. If the rename fails
    /// the temporary file is removed and the old file is untouched.
    public func commit() throws {
        switch state {
        case .staged: break
        case .committed: throw FileSafetyError.stagedFileFinished(path: targetPath, state: "committed")
        case .discarded: throw FileSafetyError.stagedFileFinished(path: targetPath, state: "discarded")
        }
        FaultInjection.point("commit: before rename")
        do {
            try SystemCalls.rename(temporaryPath, to: targetPath)
        } catch {
            discard()
            throw error
        }
        state = .committed
        FaultInjection.point("commit: renamed")
        try syncDirectory(of: targetPath)
        FaultInjection.point("commit: directory synced")
    }

    /// Publishes the new version under `path` only if nothing exists there
    /// (link(2) never replaces), for files such as backups that must not
    /// overwrite anything. Returns false, still staged, when `path` exists.
    public func publish(asNewFile path: String) throws -> Bool {
        guard state == .staged else {
            throw FileSafetyError.stagedFileFinished(path: targetPath, state: state == .committed ? "committed" : "discarded")
        }
        if let code = SystemCalls.link(temporaryPath, to: path) {
            if code == .fileExists { return false }
            discard()
            throw FileSafetyError.renameFailed(from: temporaryPath, to: path, errno: code)
        }
        state = .committed
        try SystemCalls.unlinkIfPresent(temporaryPath)
        try syncDirectory(of: path)
        return true
    }

    /// Removes the new version; the target is left as it was. Harmless when
    /// already committed or discarded.
    public func discard() {
        guard state == .staged else { return }
        state = .discarded
        try? SystemCalls.unlinkIfPresent(temporaryPath)
    }

    deinit {
        discard()
    }

    private func syncDirectory(of path: String) throws {
        try StagedFile.syncDirectory(of: path)
    }

    /// fsyncs the directory holding `path`, so that a rename or unlink in it
    /// survives a crash.
    static func syncDirectory(of path: String) throws(FileSafetyError) {
        // Plain string splitting: FilePath's checks cost more than the fsync in debug builds.
        let directory = TemporaryName.split(path).directory
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(directory, .readOnly, options: [.directory, .closeOnExec])
        } catch {
            throw .systemCallFailed(
                operation: "open directory", path: directory,
                errno: error as? Errno ?? .ioError)
        }
        defer { try? fd.close() }
        do {
            try SystemCalls.fsync(fd, path: directory)
        } catch {
            // Some file systems cannot fsync a directory (EINVAL); the rename
            // is then as durable as that file system makes it.
            if case .systemCallFailed(_, _, let code) = error, code == .invalidArgument { return }
            throw error
        }
    }
}
