// PolicySites.swift: the entries of a loaded table as PolicySite values,
// made when asked for. A postmap source can have a million entries; making a
// site for each up front (strings, arrays and a closure apiece) cost more
// time and memory than everything else the tool does with the table. So a
// source's sites stay in the TableSource, and the inspection asks for the
// few things it needs (the value, which entry of a key wins) without making
// a site at all; only findings and edits need more.

import PostconfModel

struct PolicySites: RandomAccessCollection {
    // Plain properties rather than an enum of the two kinds: reading an
    // enum's payload copied (retained) it, several times for each of a
    // million entries.

    /// Sites made by the loader (pattern rules, inline: elements); empty
    /// for a source's.
    private let list: [PolicySite]
    /// The site of `list` that wins for each lookup key.
    private let used: [[UInt8]: Int]
    /// The entries of a postmap source, which keeps the first of duplicate
    /// keys; nil for a list.
    private let source: Source?

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

    /// Sites made by a loader. `lastDuplicateWins` says which site of a
    /// repeated lookup key smtp(8) uses (inline: keeps the last one).
    init(_ sites: [PolicySite], lastDuplicateWins: Bool = false) {
        var used: [[UInt8]: Int] = [:]
        for (index, site) in sites.enumerated() {
            guard let key = site.lookupKey else { continue }
            if lastDuplicateWins || used[key] == nil { used[key] = index }
        }
        (list, self.used, source) = (sites, used, nil)
    }

    /// The entries of a postmap source; `display` is its path for messages.
    init(source: TableSource, display: String) {
        (list, used, self.source) = ([], [:], Source(source, display: display))
    }

    var startIndex: Int { 0 }

    var endIndex: Int { source?.table.entryCount ?? list.count }

    subscript(index: Int) -> PolicySite {
        guard let source else { return list[index] }
        let entry = source.table.entry(at: index)
        let offset = source.text.endOfText(lastLine: entry.logicalLine.lastTextLine)
        return PolicySite(
            key: entry.key.printable, lookupKey: source.table.foldedKey(entry.key), value: Array(entry.value),
            location: SourceLocation(path: source.display, line: entry.lineNumber), addAttribute: { ByteEdit(insert: [0x20] + $0, at: offset) })
    }

    /// What the inspection reads of every site: its value, without copying.
    struct View {
        let index: Int
        let value: ArraySlice<UInt8>
        /// The source entry, for a source's sites.
        fileprivate let entry: TableEntrySlices?
    }

    // The hot accessors below test `source` and read `source!` where it is:
    // binding it (`if let`) retained and released it on every call.

    func view(_ index: Int) -> View {
        guard source != nil else { return View(index: index, value: list[index].value[...], entry: nil) }
        let entry = source!.table.entry(at: index)
        return View(index: index, value: entry.value, entry: entry)
    }

    /// The site smtp(8) uses for this site's lookup key (the site itself
    /// unless the key is repeated), nil for a site without one (a pattern).
    func usedSite(forKeyOf site: View) -> Int? {
        guard source != nil else { return list[site.index].lookupKey.flatMap { used[$0] } }
        return source!.table.storedEntry(forKeyOf: site.index, key: site.entry!.key)
    }

    func lookupKey(of site: View) -> [UInt8]? {
        source == nil ? list[site.index].lookupKey : source!.table.foldedKey(site.entry!.key)
    }

    /// The key as written, for messages.
    func key(of site: View) -> String {
        source == nil ? list[site.index].key : site.entry!.key.printable
    }

    func location(of site: View) -> SourceLocation {
        guard let source else { return list[site.index].location }
        return SourceLocation(path: source.display, line: site.entry!.lineNumber)
    }

    /// The source's path to show; nil for sites that are not a source's.
    var sourceDisplay: String? { source?.display }

    /// For a source's site: where its key is in the file, its line and
    /// where that line starts; nil for other sites, and for a key that is
    /// not one run of bytes in the file (see TableSource.keyRangeInFile).
    func keyInSource(of site: View) -> (range: Range<Int>, line: Int, lineStart: Int)? {
        guard source != nil, let entry = site.entry, let range = source!.table.keyRangeInFile(ofEntry: site.index) else { return nil }
        return (range, entry.lineNumber, source!.text.lines[entry.logicalLine.firstLine].start)
    }

    func location(at index: Int) -> SourceLocation {
        location(of: view(index))
    }

    /// The edit that adds `attribute` ("name=value"). `spacedAttribute` is
    /// the same with a leading space: a source's edits all share that one
    /// array instead of each making its own.
    func edit(of site: View, adding attribute: [UInt8], spacedAttribute: [UInt8]) -> ByteEdit {
        guard source != nil else { return list[site.index].addAttribute(attribute) }
        return ByteEdit(insert: spacedAttribute, at: source!.text.endOfText(lastLine: site.entry!.logicalLine.lastTextLine))
    }
}
