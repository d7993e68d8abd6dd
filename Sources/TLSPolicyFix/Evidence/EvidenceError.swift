// EvidenceError.swift: why the Evidence stage could not read the queue or
// the mail log, or could not schedule a message again. None of these stops
// check, diff or apply: the fix stands without its evidence, and the
// command says what it could not read.

import Glibc
import PostfixTools

public enum EvidenceError: Error, Sendable, CustomStringConvertible {
    /// postqueue -j failed or printed something else.
    case queueUnreadable(PostfixToolError)
    /// postmap -q could not search transport_maps.
    case transportsUnreadable(PostfixToolError)
    /// --maillog FILE could not be read (errno).
    case mailLogUnreadable(path: String, errno: Int32)
    /// --maillog FILE is a FIFO, a device or a directory.
    case mailLogNotARegularFile(path: String)
    /// postqueue -i failed for a message.
    case retryFailed(queueID: String, PostfixToolError)

    public var description: String {
        switch self {
        case .queueUnreadable(let cause): return "cannot read the mail queue: \(cause)"
        case .transportsUnreadable(let cause): return "cannot search transport_maps: \(cause)"
        case .mailLogUnreadable(let path, let code): return "cannot read the mail log \(path): \(String(cString: strerror(code)))"
        case .mailLogNotARegularFile(let path): return "cannot read the mail log \(path): not a regular file"
        case .retryFailed(let queueID, let cause): return "cannot schedule message \(queueID) for delivery: \(cause)"
        }
    }
}
