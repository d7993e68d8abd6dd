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
    private var state = State.staged

    init(targetPath: String, temporaryPath: String) {
        self.targetPath = targetPath
        self.temporaryPath = temporaryPath
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
        do {
            try SystemCalls.rename(temporaryPath, to: targetPath)
        } catch {
            discard()
            throw error
        }
        state = .committed
        try syncDirectory()
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

    private func syncDirectory() throws {
        var directory = FilePath(targetPath).removingLastComponent()
        if directory.isEmpty { directory = "." }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(directory, .readOnly, options: [.directory, .closeOnExec])
        } catch {
            throw FileSafetyError.systemCallFailed(
                operation: "open directory", path: directory.string,
                errno: error as? Errno ?? .ioError)
        }
        defer { try? fd.close() }
        do {
            try SystemCalls.fsync(fd, path: directory.string)
        } catch {
            // Some file systems cannot fsync a directory (EINVAL); the rename
            // is then as durable as that file system makes it.
            if case .systemCallFailed(_, _, let code) = error, code == .invalidArgument { return }
            throw error
        }
    }
}
