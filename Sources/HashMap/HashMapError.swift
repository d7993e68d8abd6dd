// HashMapError.swift: the errors of reading and writing Berkeley DB indexes.
// Each message names the file and, for libdb failures, carries db_strerror's
// text plus the diagnostics libdb itself reported (e.g. "unexpected file type
// or format"), which are what tell an administrator what is wrong.

import CLibDB

public enum HashMapError: Error, CustomStringConvertible, Sendable {
    /// A libdb call failed. `operation` is a verb phrase ("open hash
    /// database"), `code` libdb's return value and `messages` the last
    /// distinct diagnostics libdb reported through its error callback.
    case libdb(operation: String, path: String, code: Int32, messages: [String])
    /// The file is a Berkeley DB of another access method (e.g. btree read as hash).
    case wrongAccessMethod(path: String, expected: IndexAccessMethod, actual: String)
    /// The file is shorter than its own metadata page says. libdb does not
    /// notice this when the cut falls on a page boundary: it reads the
    /// missing pages as empty and silently returns fewer records.
    case truncated(path: String, size: Int64, expectedSize: Int64)
    /// A record cannot be stored in postmap's format.
    case invalidRecord(path: String, index: Int, reason: String)
    /// The file was replaced again and again while we tried to open it.
    case keepsChanging(path: String)
    /// A database just written does not read back as the records stored.
    case readBackMismatch(path: String)

    public var description: String {
        switch self {
        case let .libdb(operation, path, code, messages):
            let detail = messages.isEmpty ? "" : " (libdb: \(messages.joined(separator: "; ")))"
            return "cannot \(operation) \(path): \(String(cString: db_strerror(code)))\(detail)"
        case let .wrongAccessMethod(path, expected, actual):
            return "cannot read \(path) as a \(expected.rawValue) database: it is a Berkeley DB \(actual) database"
        case let .truncated(path, size, expectedSize):
            return "cannot read \(path): the file is truncated (\(size) bytes, but its metadata page describes \(expectedSize) bytes)"
        case let .invalidRecord(path, index, reason):
            return "cannot store record \(index + 1) in \(path): \(reason)"
        case let .keepsChanging(path):
            return "cannot open \(path): it kept being replaced while it was being opened"
        case let .readBackMismatch(path):
            return "the new database for \(path) does not read back as the records written to it"
        }
    }
}
