// ApplyError.swift: why apply stopped, and what it had done by then. Every
// case but `interrupted` means every file is as it was. Each keeps the
// file as the admin sees it and the underlying error.

import FileSafety
import PostfixTools

public enum ApplyError: Error, Sendable, CustomStringConvertible {
    /// A file apply needs to examine or lock cannot be read.
    case unreadable(path: String, reason: String)
    /// Writing (or staging, or locking for writing) failed; nothing was replaced.
    case writeFailed(path: String, cause: any Error)
    /// An input changed while apply ran; nothing was replaced.
    case changedMeanwhile(path: String)
    /// Apply refused to write this file (see WritePolicy); nothing was written.
    case refused(path: String, reason: String)
    /// An index could not be built or read back; nothing was replaced.
    case index(IndexError)
    /// Apply stopped after replacing some files; the journal lets the next
    /// apply complete the change.
    case interrupted(reason: String)
    /// The files were written, but `postfix reload` failed.
    case reloadFailed(PostfixToolError)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .writeFailed(let path, let cause):
            return "\(path): \(cause); nothing replaced"
        case .changedMeanwhile(let path):
            return "\(path): changed by another program while apply was running; run apply again; nothing replaced"
        case .refused(let path, let reason):
            return "\(path): \(reason); nothing written"
        case .index(let error):
            return "\(error.path): \(error); nothing replaced"
        case .interrupted(let reason):
            return "apply interrupted: \(reason); run apply again to complete it"
        case .reloadFailed(let cause):
            return "the fix is written, but Postfix was not reloaded: \(cause); run `postfix reload` by hand"
        }
    }
}

/// A message for writeFailed whose cause is the tool's own words.
struct Reason: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
