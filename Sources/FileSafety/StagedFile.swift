// StagedFile.swift: a fully written new version of a file that is not yet
// visible. commit() publishes it with one rename(2) in the directory the
// resolution pinned; discard() (or simply dropping it) removes it, so an
// aborted run leaves no temporary files.

import Glibc
import SystemPackage

public final class StagedFile {
    private enum State { case staged, committed, discarded }

    /// The directory of the target and the new version, as the resolution
    /// pinned it: every step below works on its descriptor.
    let directory: PinnedDirectory
    /// The file that commit() replaces: the symlink-resolved target, so a
    /// symbolic link stays a link and points at the updated file.
    let targetName: String
    /// Where the new version is waiting, in the same directory as the
    /// target so the rename cannot cross file systems.
    let temporaryName: String
    /// The staged file's identity, which the target has once committed.
    public let stagedIdentity: FileIdentity
    private var state = State.staged

    init(in directory: PinnedDirectory, targetName: String, temporaryName: String, stagedIdentity: FileIdentity) {
        self.directory = directory
        self.targetName = targetName
        self.temporaryName = temporaryName
        self.stagedIdentity = stagedIdentity
    }

    /// The target's path, for messages and the journal.
    public var targetPath: String { directory.child(targetName) }
    /// The new version's path, for messages, the journal and other programs.
    public var temporaryPath: String { directory.child(temporaryName) }
    /// The new version through the pinned directory's descriptor, for this
    /// process to open, rename or remove it (and files named after it).
    public var pinnedTemporaryPath: String { directory.pinnedPath(of: temporaryName) }

    /// What is at the target's name now (not following a link), nil when
    /// nothing is.
    public func targetIdentity() throws(FileSafetyError) -> FileIdentity? {
        try directory.identity(of: targetName)
    }

    /// The file at the target's name, opened read-only without blocking or
    /// following a link; -1 when it cannot be.
    func openTarget() -> Int32 {
        directory.open(targetName, O_RDONLY | O_NONBLOCK)
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
            try directory.rename(temporaryName, to: targetName)
        } catch {
            discard()
            throw error
        }
        state = .committed
        FaultInjection.point("commit: renamed")
        try directory.sync()
        FaultInjection.point("commit: directory synced")
    }

    /// Publishes the new version as `name` in the same directory, only if
    /// nothing exists there (link(2) never replaces), for files such as
    /// backups that must not overwrite anything. Returns false, still
    /// staged, when `name` exists.
    public func publish(asNewFileNamed name: String) throws -> Bool {
        guard state == .staged else {
            throw FileSafetyError.stagedFileFinished(path: targetPath, state: state == .committed ? "committed" : "discarded")
        }
        if let code = directory.link(temporaryName, to: name) {
            if code == .fileExists { return false }
            discard()
            throw FileSafetyError.renameFailed(from: temporaryPath, to: directory.child(name), errno: code)
        }
        state = .committed
        try directory.unlinkIfPresent(temporaryName)
        try directory.sync()
        return true
    }

    /// Removes the new version; the target is left as it was. Harmless when
    /// already committed or discarded.
    public func discard() {
        guard state == .staged else { return }
        state = .discarded
        try? directory.unlinkIfPresent(temporaryName)
    }

    deinit {
        discard()
    }
}
