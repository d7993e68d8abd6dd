// LoadedTable.swift: a policy table as loading leaves it: its entries
// ("sites"), where they are written, how running Postfix sees a change to
// it, and its index. What the inspection reads and the planner edits.

import HashMap
import PostconfModel

/// How running Postfix sees a table's new content.
public enum TableDelivery: Sendable, Equatable {
    /// hash:/btree: indexes, written by the tool; noticed by running daemons.
    case nativeIndex(IndexAccessMethod)
    /// Indexes built by postmap TYPE:PATH (lmdb:, cdb:, or hash: redirected
    /// by Postfix 3.11's non_bdb_migration_level); noticed by running daemons.
    case postmapIndex(type: String, suffix: String)
    /// Read when a daemon starts: edits need `postfix reload`.
    case readAtStart
}

/// One policy entry where it is written.
struct PolicySite {
    /// The key or pattern as written, for messages.
    var key: String
    /// The key smtp(8) matches exactly (lower-cased), nil for pattern rules.
    var lookupKey: [UInt8]?
    var value: [UInt8]
    var location: SourceLocation
    /// The edit that adds "name=value" (no leading space) to this entry.
    var addAttribute: @Sendable ([UInt8]) -> ByteEdit
}

/// A table ready for inspection.
struct LoadedTable {
    var reference: MapReference
    /// The file the sites' edits address (the source, or main.cf/master.cf for inline:).
    var path: String
    var text: ConfigText
    var sites: PolicySites
    var delivery: TableDelivery
    /// The postmap source, for tables with an index.
    var source: TableSource?
    /// Where the index is, for tables with one.
    var indexPath: String?
    /// inline: keeps the last of duplicate keys; every other kind the first.
    var lastDuplicateWins = false
}

enum TableLoad {
    case loaded(LoadedTable)
    /// A kind the tool does not edit, with the reason.
    case notEditable(String)
    /// A problem to report instead of the table.
    case problem(Finding)
}

extension LoadedTable {
    /// The table and its index, for the index check; nil for a table without one.
    func indexed(in configuration: Configuration) -> IndexedTable? {
        guard let indexPath, let source else { return nil }
        return IndexedTable(
            sourcePath: path, indexPath: indexPath, displayIndexPath: configuration.displayPath(indexPath),
            delivery: delivery, source: source, configDirectory: configuration.directory)
    }
}

extension ConfigText {
    /// Where to append to an entry: the end of its last text line, before
    /// trailing white space or CR, so the line end stays as it was.
    func endOfText(lastLine index: Int) -> Int {
        let line = lines[index]
        var end = line.contentEnd
        while end > line.start && isPostfixSpace(bytes[end - 1]) { end -= 1 }
        return end
    }
}
