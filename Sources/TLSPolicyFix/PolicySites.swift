// PolicySites.swift: the entries of a loaded table as PolicySite values,
// made when asked for. A postmap source can have a million entries; making a
// site for each up front (strings, arrays and a closure apiece) cost more
// time and memory than everything else the tool does with the table. So a
// source's sites stay in the TableSource, and the inspection asks for the
// few things it needs (the value, which entry of a key wins) without making
// a site at all; only findings and edits need more.

import PostconfModel

struct PolicySites: RandomAccessCollection {
    private enum Storage {
        /// Sites made by the loader (pattern rules, inline: elements), with
        /// the site that wins for each lookup key.
        case list([PolicySite], used: [[UInt8]: Int])
        /// The entries of a postmap source, which keeps the first of duplicate keys.
        case source(Source)
    }

    /// A source and its display path, behind one reference: the sites are
    /// copied around, and this keeps each copy to one retain.
    private final class Source: Sendable {
        let table: TableSource
        /// The table's text, kept here so that reading it is not a copy.
        let text: ConfigText
        let display: String

        init(_ table: TableSource, display: String) {
            self.table = table
            self.text = table.text
            self.display = display
        }
    }

    private let storage: Storage

    /// Sites made by a loader. `lastDuplicateWins` says which site of a
    /// repeated lookup key smtp(8) uses (inline: keeps the last one).
    init(_ sites: [PolicySite], lastDuplicateWins: Bool = false) {
        var used: [[UInt8]: Int] = [:]
        for (index, site) in sites.enumerated() {
            guard let key = site.lookupKey else { continue }
            if lastDuplicateWins || used[key] == nil { used[key] = index }
        }
        storage = .list(sites, used: used)
    }

    /// The entries of a postmap source; `display` is its path for messages.
    init(source: TableSource, display: String) {
        storage = .source(Source(source, display: display))
    }

    var startIndex: Int { 0 }

    var endIndex: Int {
        switch storage {
        case .list(let sites, _): return sites.count
        case .source(let source): return source.table.entryCount
        }
    }

    subscript(index: Int) -> PolicySite {
        switch storage {
        case .list(let sites, _):
            return sites[index]
        case .source(let source):
            let entry = source.table.entry(at: index)
            let offset = PolicyTables.endOfText(lastLine: entry.logicalLine.lastTextLine, in: source.text)
            return PolicySite(
                key: entry.key.printable, lookupKey: entry.key.asciiLowercased(), value: Array(entry.value),
                location: SourceLocation(path: source.display, line: entry.lineNumber), addAttribute: { ByteEdit(insert: [0x20] + $0, at: offset) })
        }
    }

    /// What the inspection reads of every site: its value, without copying.
    struct View {
        let index: Int
        let value: ArraySlice<UInt8>
        /// The source entry, for a source's sites.
        fileprivate let entry: TableEntrySlices?
    }

    func view(_ index: Int) -> View {
        switch storage {
        case .list(let sites, _): return View(index: index, value: sites[index].value[...], entry: nil)
        case .source(let source):
            let entry = source.table.entry(at: index)
            return View(index: index, value: entry.value, entry: entry)
        }
    }

    /// The site smtp(8) uses for this site's lookup key (the site itself
    /// unless the key is repeated), nil for a site without one (a pattern).
    func usedSite(forKeyOf site: View) -> Int? {
        switch storage {
        case .list(let sites, let used): return sites[site.index].lookupKey.flatMap { used[$0] }
        case .source(let source): return source.table.storedEntry(forKeyOf: site.index, key: site.entry!.key)
        }
    }

    func lookupKey(of site: View) -> [UInt8]? {
        switch storage {
        case .list(let sites, _): return sites[site.index].lookupKey
        case .source: return site.entry!.key.asciiLowercased()
        }
    }

    /// The key as written, for messages.
    func key(of site: View) -> String {
        switch storage {
        case .list(let sites, _): return sites[site.index].key
        case .source: return site.entry!.key.printable
        }
    }

    func location(of site: View) -> SourceLocation {
        switch storage {
        case .list(let sites, _): return sites[site.index].location
        case .source(let source): return SourceLocation(path: source.display, line: site.entry!.lineNumber)
        }
    }

    /// For a source's site: where its key is in the file (the key is on
    /// the entry's first line, continued or not), its line, where that line
    /// starts, and the path to show; nil for other sites.
    func keyInSource(of site: View) -> (range: Range<Int>, line: Int, lineStart: Int, display: String)? {
        guard case .source(let source) = storage, let entry = site.entry else { return nil }
        let lineStart = source.text.lines[entry.logicalLine.firstLine].start
        // A continued entry's slices index its joined text, which starts
        // with the whole of its first line.
        let offset = entry.logicalLine.isContinued ? lineStart : 0
        return (entry.key.startIndex + offset..<entry.key.endIndex + offset, entry.lineNumber, lineStart, source.display)
    }

    func location(at index: Int) -> SourceLocation {
        location(of: view(index))
    }

    /// The edit that adds `attribute` ("name=value"). `spacedAttribute` is
    /// the same with a leading space: a source's edits all share that one
    /// array instead of each making its own.
    func edit(of site: View, adding attribute: [UInt8], spacedAttribute: [UInt8]) -> ByteEdit {
        switch storage {
        case .list(let sites, _): return sites[site.index].addAttribute(attribute)
        case .source(let source):
            return ByteEdit(insert: spacedAttribute, at: PolicyTables.endOfText(lastLine: site.entry!.logicalLine.lastTextLine, in: source.text))
        }
    }
}
