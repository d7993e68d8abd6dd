// FixPlan.swift: everything apply would do, computed without writing: the
// byte edits per file and the indexes to rebuild. The planner makes it from
// the inspection's intents; diff prints it, apply carries it out, check
// summarises it.

import HashMap
import PostconfModel

/// New content for one file, as edits of its original bytes.
public struct FileChange: Sendable {
    /// The path to write (symlinks are followed when writing).
    public var path: String
    /// The path as shown in diffs and messages.
    public var displayPath: String
    public var original: ConfigText
    public var edits: ByteEdits

    public var newBytes: [UInt8] { original.bytes.applying(edits) }

    /// The size of newBytes, without making them.
    public var newByteCount: Int {
        edits.reduce(original.bytes.count) { $0 - $1.range.count + $1.replacement.count }
    }
}

/// An index to build from its source.
public struct IndexRebuild: Sendable {
    public enum Reason: String, Sendable {
        case sourceChanged = "source changed"
        case missing = "index missing"
        case stale = "index differs from source"
    }
    public var reference: MapReference
    public var sourcePath: String
    public var indexPath: String
    public var displayIndexPath: String
    /// nativeIndex or postmapIndex: who builds the index.
    public var delivery: TableDelivery

    /// The index's type as Postfix names it ("hash", "lmdb", ...): the
    /// table's own type, or what Postfix 3.11 redirects it to.
    public var indexType: String {
        switch delivery {
        case .nativeIndex(let method): return method.rawValue
        case .postmapIndex(let type, _): return type
        case .readAtStart: return reference.type
        }
    }
    public var reason: Reason
    /// The source as the plan read it (before the plan's edits).
    public var source: TableSource
    /// The entries the plan appends servername to, and the bytes it
    /// appends (with their leading space); nil when the source is unchanged.
    public var appended: (entries: EntrySet, bytes: [UInt8])?
    /// The entries whose servername keyword the plan writes in lower case
    /// (entries on one line only), each with where the keyword is in its
    /// value; its bytes are lower-cased in place.
    public var lowercased: [Int: Range<Int>] = [:]
    /// The configuration directory, for postmap -c when postmap builds the index.
    public var configDirectory: String
}

public struct FixPlan: Sendable {
    public var changes: [FileChange] = []
    public var rebuilds: [IndexRebuild] = []
    /// Whether running Postfix daemons only see the result after `postfix reload`
    /// (main.cf, master.cf and tables without change detection).
    public var reloadNeeded = false
    /// Whether the plan adds servername anywhere (which needs Postfix >= 3.4).
    public var addsServername = false

    public var isEmpty: Bool { changes.isEmpty && rebuilds.isEmpty }
}
