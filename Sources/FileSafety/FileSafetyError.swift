// FileSafetyError.swift: the errors FileSafety throws. Every message names
// the path involved, the operation that failed and, for system calls, the
// strerror text, because these messages reach administrators editing
// /etc/postfix who must be able to act on them without a debugger.

import SystemPackage

public enum FileSafetyError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A system call on `path` failed; `operation` is a verb phrase such as
    /// "open", "fsync" or "change the owner of".
    case systemCallFailed(operation: String, path: String, errno: Errno)
    /// rename(2) of a staged file over its target failed.
    case renameFailed(from: String, to: String, errno: Errno)
    /// `link` is a symbolic link (possibly reached through others) whose
    /// target `missingTarget` does not exist.
    case danglingSymlink(link: String, missingTarget: String)
    /// More than `limit` symbolic links were followed from `path`.
    case tooManySymlinks(path: String, limit: Int)
    /// The target does not exist yet and the caller gave no metadata for it.
    case metadataRequiredForNewFile(path: String)
    /// A path that should lie inside the --root image does not start with it.
    case outsideRoot(path: String, root: String)
    /// The path exists but is not a regular file (a directory, a device...).
    case notRegularFile(path: String)
    /// A non-blocking lock request found the lock held by someone else.
    case lockBusy(path: String)
    /// The lock stayed held by someone else for longer than `timeout`.
    case lockTimedOut(path: String, timeout: Duration)
    /// A lock file that this tool, as the caller, did not create and so
    /// cannot trust: someone else could hold it for ever (`reason` says how).
    case untrustedLockFile(path: String, reason: String)
    /// commit() or discard() after the staged file was already finished.
    case stagedFileFinished(path: String, state: String)
    /// The file changed (another writer) after its old version was read.
    case targetChanged(path: String)
    /// Other processes hold the target open for writing (a postmap waiting
    /// for the index lock): nothing was replaced.
    case openForWriting(path: String, by: [FileUser])
    /// A commit journal that cannot be trusted or understood.
    case journalInvalid(path: String, reason: String)
    /// A journaled commit failed after its commit point: `completed` were
    /// replaced, the rest not yet; CommitJournal.recover() completes it.
    case commitInterrupted(journal: String, completed: [String], cause: String)

    public var description: String {
        switch self {
        case let .systemCallFailed(operation, path, errno):
            return "cannot \(operation) \(path): \(errno.description)"
        case let .renameFailed(from, to, errno):
            return "cannot rename \(from) to \(to): \(errno.description)"
        case let .danglingSymlink(link, missingTarget):
            return "cannot resolve symbolic link \(link): its target \(missingTarget) does not exist"
        case let .tooManySymlinks(path, limit):
            return "cannot resolve \(path): more than \(limit) levels of symbolic links"
        case let .metadataRequiredForNewFile(path):
            return "cannot create \(path): it does not exist yet and no owner, group and mode were given for a new file"
        case let .outsideRoot(path, root):
            return "cannot use \(path): it is outside the root \(root)"
        case let .notRegularFile(path):
            return "cannot use \(path): not a regular file"
        case let .lockBusy(path):
            return "cannot lock \(path): it is locked by another process"
        case let .lockTimedOut(path, timeout):
            return "cannot lock \(path): locked by another process for more than \(Self.seconds(timeout)) (--lock-timeout)"
        case let .untrustedLockFile(path, reason):
            return "cannot use the lock file \(path): \(reason); remove it if no apply is running"
        case let .stagedFileFinished(path, state):
            return "cannot finish the new version of \(path): it was already \(state)"
        case let .targetChanged(path):
            return "\(path) was changed by another program while this one was preparing its new version"
        case let .openForWriting(path, users):
            return "\(path): open for writing by \(users.map(\.description).joined(separator: ", ")), which may rewrite it once apply is done"
        case let .journalInvalid(path, reason):
            return "cannot use the journal \(path): \(reason); check it and remove it by hand"
        case let .commitInterrupted(journal, completed, cause):
            let done = completed.isEmpty ? "no file" : completed.joined(separator: ", ")
            return "\(cause); replaced so far: \(done); the journal \(journal) lets the next run complete the change"
        }
    }

    /// "2 seconds", "0.5 seconds", "1 second".
    public static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        if attoseconds == 0 { return "\(whole) second\(whole == 1 ? "" : "s")" }
        return "\(Double(whole) + Double(attoseconds) / 1e18) seconds"
    }
}
