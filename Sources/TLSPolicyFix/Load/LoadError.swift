// LoadError.swift: why a configuration could not be read as Postfix reads
// it. Each case names the file (and, for a parse error, the line) and keeps
// the underlying error.

import FileSafety
import PostconfModel

public enum LoadError: Error, Sendable, CustomStringConvertible {
    /// A file that cannot be read (missing, not a regular file, no permission).
    case unreadable(path: String, cause: FileSafetyError)
    /// A file Postfix itself would refuse (e.g. main.cf without '=').
    case invalid(ConfigFileError)
    /// An index whose state (current, stale) cannot be told.
    case unreadableIndex(path: String, cause: IndexError)

    public var description: String {
        switch self {
        case .unreadable(let path, let cause):
            return "\(path): cannot read: \(Self.reason(cause))"
        case .invalid(let error):
            return error.description
        case .unreadableIndex(let path, let cause):
            return "\(path): cannot read: \(cause)"
        }
    }

    /// The system's words for a read failure, without the path (which the
    /// message already starts with).
    static func reason(_ cause: FileSafetyError) -> String {
        switch cause {
        case .systemCallFailed(_, _, let errno): return errno.description
        case .notRegularFile: return "not a regular file"
        default: return cause.description
        }
    }
}
