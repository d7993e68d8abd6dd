// ApplyError.swift: why apply stopped, and what it had done by then. Every
// case but `interrupted` means every file is as it was. Each keeps the
// file as the admin sees it and the underlying error.

import FileSafety
import PostfixTools

public enum ApplyError: Error, Sendable, CustomStringConvertible {
    /// The configuration directory cannot be resolved, or an input read
    /// again (the system's words).
    case unreadable(path: String, reason: String)
    /// An input cannot be examined or read again before writing.
    case inputUnreadable(path: String, cause: any Error)
    /// The configuration directory's lock cannot be taken.
    case cannotLockDirectory(path: String, cause: any Error)
    /// A writer's lock on a target cannot be taken; nothing was replaced.
    case cannotLock(path: String, cause: any Error)
    /// Writing (or staging) failed; nothing was replaced.
    case writeFailed(path: String, cause: any Error)
    /// A backup (--backup) cannot be made; nothing was replaced.
    case cannotBackUp(path: String, cause: any Error)
    /// An input changed while apply ran; nothing was replaced.
    case changedMeanwhile(path: String)
    /// Apply refused to write this file (see WritePolicy); nothing was written.
    case refused(path: String, reason: String)
    /// A target's symbolic links cannot be followed; nothing was written.
    case unresolvable(path: String, cause: any Error)
    /// An existing index is not the database main.cf says; nothing was written.
    case notADatabase(path: String, type: String, cause: any Error)
    /// An index could not be built or read back; nothing was replaced.
    case index(IndexError)
    /// The journaled commit stopped after its commit point: `done` says
    /// what was replaced (and whether that needs a reload); the next apply
    /// completes the rest.
    case interrupted(cause: FileSafetyError, done: ApplyReport)
    /// An interrupted earlier apply cannot be completed.
    case recoveryFailed(cause: any Error)
    /// A file apply wrote was replaced by another program right after;
    /// `done` says what apply had replaced.
    case replacedMeanwhile(path: String, done: ApplyReport)
    /// Another program changed files while apply replaced them (each
    /// changed old version is kept beside its file, "" when it could not
    /// be), or had them open for writing; paths as the admin knows them.
    /// `done` says what apply had replaced.
    case changedWhileReplaced(changes: [LateChange], done: ApplyReport)
    /// Another program has a file open for writing that apply would
    /// replace (a postmap waiting for the index lock).
    case openForWriting(path: String, by: [FileUser])
    /// The files were written, but `postfix reload` failed.
    case reloadFailed(PostfixToolError)

    /// What an apply stopped after its commit point had replaced; nil for
    /// every other case (nothing was).
    public var done: ApplyReport? {
        switch self {
        case .interrupted(_, let done), .replacedMeanwhile(_, let done), .changedWhileReplaced(_, let done): return done
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .inputUnreadable(let path, let cause):
            return "\(path): cannot read: \(cause)"
        case .cannotLockDirectory(let path, let cause):
            return "\(path): cannot read: cannot lock: \(cause)"
        case .cannotLock(let path, let cause):
            return "\(path): cannot lock: \(cause); nothing replaced"
        case .writeFailed(let path, let cause):
            return "\(path): \(cause); nothing replaced"
        case .cannotBackUp(let path, let cause):
            return "\(path): cannot back it up: \(cause); nothing replaced"
        case .changedMeanwhile(let path):
            return "\(path): changed by another program while apply was running; run apply again; nothing replaced"
        case .refused(let path, let reason):
            return "\(path): \(reason); nothing written"
        case .unresolvable(let path, let cause):
            return "\(path): \(cause); nothing written"
        case .notADatabase(let path, let type, let cause):
            return
                "\(path): the existing index is not a readable \(type) database (\(cause)); move it away if it is not needed, then run apply again; nothing written"
        case .index(let error):
            return "\(error.path): \(error); nothing replaced"
        case .interrupted(let cause, _):
            return "apply interrupted: \(cause); run apply again to complete it"
        case .recoveryFailed(let cause):
            if case .journalInvalid = cause as? FileSafetyError {  // running again cannot help: the journal is unusable
                return "cannot complete the earlier apply: \(cause); nothing written"
            }
            return "apply interrupted: cannot complete the earlier apply: \(cause); run apply again to complete it"
        case .replacedMeanwhile(let path, _):
            return "apply interrupted: \(path) was replaced by another program right after this one wrote it; run apply again to complete it"
        case .changedWhileReplaced(let changes, _):
            return changes.map(Self.describe).joined(separator: "; ")
        case .openForWriting(let path, let users):
            return
                "\(path): open for writing by \(Self.list(users)), which would rewrite it from what it read once apply is done; run apply again when it has finished; nothing replaced"
        case .reloadFailed(let cause):
            return "the fix is written, but Postfix was not reloaded: \(cause); run `postfix reload` by hand"
        }
    }
}

extension ApplyError {
    private static func list(_ users: [FileUser]) -> String {
        users.map(\.description).joined(separator: ", ")
    }

    private static func describe(_ change: LateChange) -> String {
        var parts: [String] = []
        if let kept = change.keptPath {
            parts.append(
                "\(change.targetPath) was changed by another program while apply replaced it; "
                    + (kept.isEmpty ? "that version could not be kept" : "that version is kept as \(kept)")
                    + ": merge its change by hand, then run apply again")
        }
        if !change.writers.isEmpty {
            parts.append(
                "\(change.targetPath) was open for writing by \(list(change.writers)) while apply replaced it; it may rebuild the new file from what it read: run apply again when it has finished"
            )
        }
        return parts.joined(separator: "; ")
    }
}

/// A message for writeFailed whose cause is the tool's own words.
struct Reason: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
