// IndexError.swift: why an index could not be read, built or checked. Each
// case names the index as the admin sees it and keeps the cause: libdb's
// error, postmap's own words, or the file system's.

import PostfixTools

public enum IndexError: Error, Sendable, CustomStringConvertible {
    /// The index (or its source's metadata) could not be read or written.
    case unreadable(path: String, cause: any Error)
    /// postmap failed, or built something other than asked.
    case postmapFailed(path: String, cause: PostfixToolError)

    public var path: String {
        switch self {
        case .unreadable(let path, _), .postmapFailed(let path, _): return path
        }
    }

    /// The cause alone, as the messages that name the path themselves print it.
    public var description: String {
        switch self {
        case .unreadable(_, let cause): return "\(cause)"
        case .postmapFailed(_, let cause): return cause.description
        }
    }
}
