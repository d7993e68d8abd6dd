// TableSource.swift: a postmap(1) source file, read the way postmap reads it.
//
// Each logical line is "key whitespace value": the key ends at the first
// white space that is not inside "..." or escaped by a backslash (the quotes
// and backslashes stay in the key), and the value is the rest with leading and
// trailing white space (including a CR) trimmed. postmap skips, with a
// warning, lines without a value, lines with an unbalanced quote, lines that
// start with white space and (with SMTPUTF8 enabled) lines that are not
// UTF-8; the same lines are skipped here and reported as such.
//
// Keys are compared as postmap stores them: folded by casefold() (see
// PostfixKeyFolding), which with SMTPUTF8 is ICU's full case folding, so
// "straße.de" and "STRASSE.DE" are one key; without it, ASCII lower-casing.

import Dispatch
import KeyFolding

/// One record of a table source, as postmap would store it (before postmap
/// folds the key).
public struct TableEntry: Sendable, Equatable {
    /// The key as written, quotes and backslashes included.
    public var key: [UInt8]
    /// The value: continuation lines joined, outer white space trimmed.
    public var value: [UInt8]
    /// The physical lines the entry came from.
    public var logicalLine: LogicalLine
    /// 1-based number of the entry's first line.
    public var lineNumber: Int
}

/// A line postmap skips, with the reason it gives.
public struct SkippedLine: Sendable, Equatable {
    public enum Reason: Error, Sendable, Equatable {
        case startsWithWhitespace
        case nonUTF8
        case unbalancedQuote
        case missingValue
    }
    public var reason: Reason
    public var lineNumber: Int

    public var message: String {
        switch reason {
        case .startsWithWhitespace: return "logical line must not start with whitespace; postmap ignores it"
        case .nonUTF8: return "non-UTF-8 input; postmap ignores this line"
        case .unbalancedQuote: return "unbalanced '\"'; postmap ignores this line"
        case .missingValue: return "expected format: key whitespace value; postmap ignores this line"
        }
    }
}

/// One record of a table source without copying: its key and value as
/// slices of the file (or, for an entry on several lines, of its joined text).
public struct TableEntrySlices: Sendable {
    public var key: ArraySlice<UInt8>
    public var value: ArraySlice<UInt8>
    public var logicalLine: LogicalLine
    public var lineNumber: Int
}

/// A postmap source file: its lines and the records postmap would build.
///
/// Tables can have millions of entries, so each entry is kept as 20 bytes of
/// offsets into the file (plus its 8-byte slot in the key table); key and
/// value are slices of the file when asked for. `entries`, which copies
/// every record, is for small tables and tests.
public struct TableSource: Sendable {
    public var path: String { storage.path }
    /// Lines postmap would skip with a warning.
    public var skippedLines: [SkippedLine] { storage.skippedLines }
    /// Whether the source was read in postmap's SMTPUTF8 mode.
    public var utf8Checks: Bool { storage.utf8Checks }
    /// Everything, shared by copies of the source: a copy (made for every
    /// entry a reader looks at) retains one reference, not a dozen arrays.
    private let storage: Storage

    private final class Storage: Sendable {
        let path: String
        let skippedLines: [SkippedLine]
        let utf8Checks: Bool
        let text: ConfigText
        let spans: [EntrySpan]
        /// The first entry of each (folded) key: what postmap stores.
        let firstEntries: KeyTable

        init(path: String, skippedLines: [SkippedLine], utf8Checks: Bool, text: ConfigText, spans: [EntrySpan], firstEntries: KeyTable) {
            self.path = path
            self.skippedLines = skippedLines
            self.utf8Checks = utf8Checks
            self.text = text
            self.spans = spans
            self.firstEntries = firstEntries
        }
    }

    /// Where an entry is: its logical line, and its key and value as offsets
    /// into the file (for an entry on several lines, into its joined text).
    /// The two top bits of `line` say whether the entry is on several lines
    /// and whether an earlier entry has the same key, which spares a look
    /// into the line tables and the key table for most entries.
    struct EntrySpan: Sendable {
        static let continued: UInt32 = 1 << 31
        static let repeatedKey: UInt32 = 1 << 30
        static let lineMask: UInt32 = (1 << 30) - 1

        var line: UInt32
        var keyStart: UInt32
        var keyEnd: UInt32
        var valueStart: UInt32
        var valueEnd: UInt32

        var logicalLine: Int { Int(line & Self.lineMask) }
        var isContinued: Bool { line & Self.continued != 0 }
        var hasRepeatedKey: Bool { line & Self.repeatedKey != 0 }
        var key: Range<Int> { Int(keyStart)..<Int(keyEnd) }
        var value: Range<Int> { Int(valueStart)..<Int(valueEnd) }
    }

    public var text: ConfigText { storage.text }

    /// How many records the source has, duplicates included.
    public var entryCount: Int { storage.spans.count }

    /// The records, in file order (duplicates included), copied out.
    public var entries: [TableEntry] {
        (0..<entryCount).map { index in
            let entry = self.entry(at: index)
            return TableEntry(key: Array(entry.key), value: Array(entry.value), logicalLine: entry.logicalLine, lineNumber: entry.lineNumber)
        }
    }

    /// Reads a source. `utf8Checks` is postmap's SMTPUTF8 mode
    /// (`smtputf8_enable = yes`), in which non-UTF-8 lines are skipped.
    public init(path: String, bytes: [UInt8], utf8Checks: Bool) throws(ConfigFileError) {
        guard bytes.count < Int(UInt32.max) else {
            throw ConfigFileError(SourceLocation(path: path), "a table source of 4 GiB or more is not supported")
        }
        let text = ConfigText(bytes: bytes)
        guard text.logicalLines.count <= Int(EntrySpan.lineMask) else {
            throw ConfigFileError(SourceLocation(path: path), "a table source of 2^30 or more entries is not supported")
        }
        if let line = text.firstLineWithNUL {
            throw ConfigFileError(SourceLocation(path: path, line: line), "NUL byte in a table source; Postfix would truncate this line")
        }
        // First every logical line is split (the key's hash computed with
        // it), the two halves of a large table at once; then, in file
        // order, each entry is added to the key table: a repeated key marks
        // the entry, which spares later lookups for all the others.
        let count = text.logicalLines.count
        let halves = count >= 1 << 16 ? 2 : 1
        // The arrays are not zero-filled first: split writes every element,
        // and the pages are first touched by the thread that fills them.
        var hashes: [UInt64] = []
        var skippedByHalf = [[SkippedLine]](repeating: [], count: halves)
        var spans = [EntrySpan](unsafeUninitializedCapacity: count) { spans, spansWritten in
            hashes = [UInt64](unsafeUninitializedCapacity: count) { hashes, hashesWritten in
                skippedByHalf.withUnsafeMutableBufferPointer { skippedByHalf in
                    // Each half writes only its own elements.
                    nonisolated(unsafe) let (spans, hashes, skippedByHalf) = (spans, hashes, skippedByHalf)
                    DispatchQueue.concurrentPerform(iterations: halves) { half in
                        let lines = (count * half / halves)..<(count * (half + 1) / halves)
                        skippedByHalf[half] = TableSource.split(text, lines: lines, utf8Checks: utf8Checks, into: spans, hashes: hashes)
                    }
                }
                hashesWritten = count
            }
            spansWritten = count
        }
        // The skipped lines' spans are dropped, then the entries go into
        // the key table in file order (each half of it on a thread of its
        // own for a large table), which marks every repeated key.
        var entries = 0
        for index in 0..<count where spans[index].keyEnd != 0 {
            (spans[entries], hashes[entries]) = (spans[index], hashes[index])
            entries += 1
        }
        spans.removeLast(count - entries)
        let firstEntries = spans.withUnsafeMutableBufferPointer { spans in
            // Each thread marks only the entries of its half of the table.
            nonisolated(unsafe) let spans = spans
            return hashes.withUnsafeBufferPointer { hashes in
                KeyTable(hashes: UnsafeBufferPointer(rebasing: hashes[..<entries]), halves: halves) { entry, other in
                    guard
                        TableSource.foldedKeysEqual(
                            TableSource.key(of: spans[other], in: text), TableSource.key(of: spans[entry], in: text), utf8: utf8Checks)
                    else { return false }
                    spans[entry].line |= EntrySpan.repeatedKey
                    return true
                }
            }
        }
        let skipped = skippedByHalf.flatMap { $0 }
        self.storage = Storage(path: path, skippedLines: skipped, utf8Checks: utf8Checks, text: text, spans: spans, firstEntries: firstEntries)
    }

    /// Splits the logical lines `lines` of `text`: the entry of logical
    /// line i goes to spans[i] and its key's hash to hashes[i]; a line
    /// postmap skips gets a span with keyEnd 0 (a key is never empty) and
    /// is returned. Touches nothing else, so two calls on different
    /// lines can run at once.
    private static func split(
        _ text: ConfigText, lines: Range<Int>, utf8Checks: Bool,
        into spans: UnsafeMutableBufferPointer<EntrySpan>, hashes: UnsafeMutableBufferPointer<UInt64>
    ) -> [SkippedLine] {
        var skipped: [SkippedLine] = []
        text.bytes.withUnsafeBufferPointer { buffer in
            for index in lines {
                let logical = text.logicalLines[index]
                let outcome: SplitOutcome
                var base = 0
                if logical.startsWithWhitespace {
                    outcome = .skipped(.startsWithWhitespace)
                } else if logical.isContinued {
                    let joined = text.text(of: logical)
                    outcome = joined.withUnsafeBufferPointer { split($0, utf8Checks: utf8Checks) }
                } else {
                    let line = text.lines[logical.firstLine]
                    base = line.start
                    outcome = split(UnsafeBufferPointer(rebasing: buffer[line.start..<line.contentEnd]), utf8Checks: utf8Checks)
                }
                switch outcome {
                case .record(let parts):
                    spans[index] = EntrySpan(
                        line: UInt32(index) | (logical.isContinued ? EntrySpan.continued : 0),
                        keyStart: UInt32(base + parts.key.lowerBound), keyEnd: UInt32(base + parts.key.upperBound),
                        valueStart: UInt32(base + parts.value.lowerBound), valueEnd: UInt32(base + parts.value.upperBound))
                    hashes[index] = parts.keyHash
                case .skipped(let reason):
                    spans[index] = EntrySpan(line: 0, keyStart: 0, keyEnd: 0, valueStart: 0, valueEnd: 0)
                    hashes[index] = 0
                    skipped.append(SkippedLine(reason: reason, lineNumber: text.lineNumber(of: logical)))
                }
            }
        }
        return skipped
    }

    /// One entry's key and value, without copying them.
    public func entry(at index: Int) -> TableEntrySlices {
        TableSource.entry(storage.spans[index], in: storage.text)
    }

    /// One entry's key and value alone, without its line numbers: for
    /// readers that visit entries in no particular order (building an
    /// index), this skips the line tables.
    public func record(at index: Int) -> (key: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        TableSource.record(storage.spans[index], in: storage.text)
    }

    /// One entry's key alone, as written: record(at:).key, without joining
    /// a continued entry's lines where its key is on the first one.
    public func key(at index: Int) -> ArraySlice<UInt8> {
        guard let range = keyRangeInFile(ofEntry: index) else { return record(at: index).key }
        return storage.text.bytes[range]
    }

    /// Where entry `index`'s key is in the file; nil when it is not there
    /// as one run of bytes (a quoted key that goes on after a line break,
    /// which joining the lines removes).
    public func keyRangeInFile(ofEntry index: Int) -> Range<Int>? {
        let span = storage.spans[index]
        guard span.isContinued else { return span.key }
        // A continued entry's spans index its joined text, which starts
        // with the whole of its first line.
        let first = storage.text.lines[storage.text.logicalLines[span.logicalLine].firstLine]
        guard first.start + span.key.upperBound <= first.contentEnd else { return nil }
        return (first.start + span.key.lowerBound)..<(first.start + span.key.upperBound)
    }

    /// The logical line an entry is on.
    public func logicalLine(ofEntry index: Int) -> LogicalLine {
        storage.text.logicalLines[storage.spans[index].logicalLine]
    }

    static func entry(_ span: EntrySpan, in text: ConfigText) -> TableEntrySlices {
        let logical = text.logicalLines[span.logicalLine]
        let bytes = span.isContinued ? text.text(of: logical)[...] : text.bytes[...]
        return TableEntrySlices(key: bytes[span.key], value: bytes[span.value], logicalLine: logical, lineNumber: logical.firstLine + 1)
    }

    /// Key and value alone: for most entries no look at the line tables.
    static func record(_ span: EntrySpan, in text: ConfigText) -> (key: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        let bytes = span.isContinued ? text.text(of: text.logicalLines[span.logicalLine])[...] : text.bytes[...]
        return (bytes[span.key], bytes[span.value])
    }

    static func key(of span: EntrySpan, in text: ConfigText) -> ArraySlice<UInt8> {
        record(span, in: text).key
    }

    /// How many records postmap stores: one per folded key.
    public var storedRecordCount: Int { storage.firstEntries.count }

    /// The entry postmap stores for the key of entry `index` (`key`, from
    /// entry(at:)): the first one with that key once folded, possibly
    /// `index` itself.
    public func storedEntry(forKeyOf index: Int, key: ArraySlice<UInt8>) -> Int {
        guard storage.spans[index].hasRepeatedKey else { return index }
        let utf8 = storage.utf8Checks
        return storage.firstEntries.find(hash: TableSource.foldedHash(key, utf8: utf8)) { candidate in
            TableSource.foldedKeysEqual(TableSource.key(of: storage.spans[candidate], in: storage.text), key, utf8: utf8)
        }!
    }

    /// `key` as postmap stores it from this source and as lookups fold it:
    /// with SMTPUTF8 (utf8Checks) ICU full case folding, else ASCII
    /// lower-casing; nil for a key Postfix skips (not UTF-8 with SMTPUTF8,
    /// which no entry of the source has).
    public func foldedKey(_ key: some Collection<UInt8>) -> [UInt8]? {
        PostfixKeyFolding.fold(key, utf8: storage.utf8Checks)
    }

    /// The records postmap stores from this source: keys folded, the first
    /// of duplicate keys kept (postmap warns about the others).
    public func storedRecords() -> [[UInt8]: [UInt8]] {
        var records: [[UInt8]: [UInt8]] = [:]
        records.reserveCapacity(storedRecordCount)
        for index in 0..<entryCount {
            let entry = entry(at: index)
            guard let key = foldedKey(entry.key) else { continue }
            if records[key] == nil { records[key] = Array(entry.value) }
        }
        return records
    }

    /// Where a line's key and value are, relative to the line, and the
    /// hash of the folded key.
    struct RecordParts {
        var key: Range<Int>
        var value: Range<Int>
        var keyHash: UInt64
    }

    enum SplitOutcome {
        case record(RecordParts)
        case skipped(SkippedLine.Reason)

    }

    /// Splits one logical line into key and value as postmap does.
    static func split(_ line: UnsafeBufferPointer<UInt8>, utf8Checks: Bool) -> SplitOutcome {
        // With SMTPUTF8 a line with a byte >= 0x80 is skipped unless it is
        // UTF-8, and its key may need more than ASCII folding.
        let foldsUTF8 = utf8Checks && hasNonASCIIByte(line)
        if foldsUTF8 && !line.isValidUTF8 {
            return .skipped(.nonUTF8)
        }
        var index = 0
        var inQuotes = false
        var hash = foldedHashSeed
        while index < line.count {
            let byte = line[index]
            if byte == UInt8(ascii: "\\") {
                hash = foldedHashStep(hash, byte)
                index += 1
                if index == line.count { break }
                hash = foldedHashStep(hash, line[index])
            } else if isPostfixSpace(byte) {
                if !inQuotes { break }
                hash = foldedHashStep(hash, byte)
            } else {
                if byte == UInt8(ascii: "\"") { inQuotes.toggle() }
                hash = foldedHashStep(hash, byte)
            }
            index += 1
        }
        if inQuotes { return .skipped(.unbalancedQuote) }
        let keyEnd = index
        var valueStart = keyEnd
        while valueStart < line.count && isPostfixSpace(line[valueStart]) { valueStart += 1 }
        var valueEnd = line.count
        while valueEnd > valueStart && isPostfixSpace(line[valueEnd - 1]) { valueEnd -= 1 }
        if keyEnd == 0 || valueStart == valueEnd { return .skipped(.missingValue) }
        if foldsUTF8 { hash = foldedHash(line[0..<keyEnd], utf8: true) }
        return .record(RecordParts(key: 0..<keyEnd, value: valueStart..<valueEnd, keyHash: hash))
    }

    /// Whether a byte has its high bit set, eight bytes at a time: every
    /// line of a table is looked at, and nearly all are ASCII.
    @inline(__always)
    static func hasNonASCIIByte(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let raw = UnsafeRawBufferPointer(line)
        var offset = 0
        while offset + 8 <= raw.count {
            if raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return true }
            offset += 8
        }
        return raw[offset...].contains { $0 >= 0x80 }
    }

    // FNV-1a over the folded key: keys differing only in case collide on
    // purpose, since postmap stores them as one. An ASCII key is folded
    // byte by byte as it is hashed; a non-ASCII key with SMTPUTF8 is hashed
    // folded by ICU (the same as the ASCII one it may fold to).
    static let foldedHashSeed: UInt64 = 0xcbf2_9ce4_8422_2325

    @inline(__always)
    static func foldedHashStep(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(asciiLowercased(byte))) &* 0x0000_0100_0000_01b3
    }

    static func foldedHash(_ key: some Collection<UInt8>, utf8: Bool) -> UInt64 {
        if utf8 && !PostfixKeyFolding.isASCII(key), let folded = PostfixKeyFolding.fold(key, utf8: true) {
            return folded.reduce(foldedHashSeed, foldedHashStep)
        }
        return key.reduce(foldedHashSeed, foldedHashStep)
    }

    /// Whether postmap stores the two keys as one. Keys equal ignoring
    /// ASCII case are (their other bytes are the same code points); with
    /// SMTPUTF8 so are non-ASCII keys that ICU folds alike.
    static func foldedKeysEqual(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>, utf8: Bool) -> Bool {
        if a.count == b.count && zip(a, b).allSatisfy({ asciiLowercased($0) == asciiLowercased($1) }) { return true }
        guard utf8 && !(PostfixKeyFolding.isASCII(a) && PostfixKeyFolding.isASCII(b)),
            let foldedA = PostfixKeyFolding.fold(a, utf8: true)
        else { return false }
        return foldedA == PostfixKeyFolding.fold(b, utf8: true)
    }
}
