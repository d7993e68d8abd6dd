// ByteEdit.swift: edits expressed as byte ranges of the original file.
//
// Every change the tool makes is "replace these bytes of the original with
// those", so everything outside the edited ranges is copied unchanged: this
// is what keeps comments, alignment, CRLF and odd bytes exactly as they were.

/// Replaces `range` of the original bytes with `replacement`. An empty range
/// is an insertion.
public struct ByteEdit: Sendable, Equatable {
    public var range: Range<Int>
    public var replacement: [UInt8]

    @inlinable public init(range: Range<Int>, replacement: [UInt8]) {
        self.range = range
        self.replacement = replacement
    }

    @inlinable public init(insert bytes: [UInt8], at offset: Int) {
        self.init(range: offset..<offset, replacement: bytes)
    }
}

/// A file's edits, in the order they were made. A large table gets the same
/// insertion ("servername=...") at hundreds of thousands of places; as long
/// as every edit is an insertion of one and the same bytes, they are kept as
/// 4-byte offsets (a ByteEdit apiece would be 24 bytes, and more than half
/// the table's own size). Any other edit turns the list into plain ByteEdits.
public struct ByteEdits: RandomAccessCollection, Sendable {
    // Three plain properties rather than an enum of the two forms: reading
    // an enum's payload copied (retained) it on every access, and the diff
    // of a large table reads its edits a few times each, on two threads.
    // Inlinable for the same reason.

    /// The edits, while `insertion` is nil.
    @usableFromInline var edits: [ByteEdit] = []
    /// Where each edit inserts `insertion`, while every edit is such an insertion.
    @usableFromInline var offsets: [UInt32] = []
    /// The bytes every edit inserts; nil when the edits are kept whole.
    @usableFromInline var insertion: [UInt8]?

    public init() {}

    public init(_ edits: some Sequence<ByteEdit>) {
        for edit in edits { append(edit) }
    }

    @inlinable public var startIndex: Int { 0 }

    @inlinable
    public var endIndex: Int { insertion == nil ? edits.count : offsets.count }

    @inlinable
    public subscript(index: Int) -> ByteEdit {
        guard let insertion else { return edits[index] }
        return ByteEdit(insert: insertion, at: Int(offsets[index]))
    }

    /// The range edit `index` replaces, without its replacement (which
    /// readers of many edits need less often).
    @inlinable
    public func range(at index: Int) -> Range<Int> {
        if insertion == nil { return edits[index].range }
        return Int(offsets[index])..<Int(offsets[index])
    }

    /// The edits in file order (by where they start, then where they end):
    /// the list itself when it is in order already, as the tool's edits are
    /// (they are made walking the file), so a large table's are not copied.
    public func inFileOrder() -> ByteEdits {
        func key(_ index: Int) -> (Int, Int) { (range(at: index).lowerBound, range(at: index).upperBound) }
        if (1..<Swift.max(1, count)).allSatisfy({ key($0 - 1) <= key($0) }) { return self }
        return ByteEdits(sorted { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) })
    }

    /// The bytes every edit inserts, when all of them are insertions of the
    /// same bytes (also when there is none: then empty).
    public var commonInsertion: [UInt8]? {
        insertion ?? (edits.isEmpty ? [] : nil)
    }

    public mutating func reserveCapacity(_ count: Int) {
        if insertion == nil { edits.reserveCapacity(count) } else { offsets.reserveCapacity(count) }
    }

    public mutating func append(_ edit: ByteEdit) {
        let compact = edit.range.isEmpty && edit.range.lowerBound <= Int(UInt32.max)
        if let insertion {
            if compact && edit.replacement == insertion {
                offsets.append(UInt32(edit.range.lowerBound))
                return
            }
            // From now on the edits are kept whole.
            edits = offsets.map { ByteEdit(insert: insertion, at: Int($0)) }
            offsets = []
            self.insertion = nil
        } else if edits.isEmpty && compact {
            offsets.reserveCapacity(Swift.max(1, edits.capacity))
            offsets.append(UInt32(edit.range.lowerBound))
            insertion = edit.replacement
            edits = []
            return
        }
        edits.append(edit)
    }

    public mutating func append(contentsOf edits: some Sequence<ByteEdit>) {
        for edit in edits { append(edit) }
    }
}

extension Array where Element == UInt8 {
    /// The bytes with the edits applied. Edits must not overlap; they may come
    /// in any order.
    public func applying(_ edits: some Collection<ByteEdit>) -> [UInt8] {
        let sorted = ByteEdits(edits).inFileOrder()
        var out: [UInt8] = []
        out.reserveCapacity(count + sorted.reduce(0) { $0 + $1.replacement.count })
        var copied = 0
        for edit in sorted {
            precondition(edit.range.lowerBound >= copied, "overlapping edits")
            out.append(contentsOf: self[copied..<edit.range.lowerBound])
            out.append(contentsOf: edit.replacement)
            copied = edit.range.upperBound
        }
        out.append(contentsOf: self[copied...])
        return out
    }
}

extension Array where Element == UInt8 {
    /// Where `needle` last occurs within `range` of these bytes.
    public func lastRange(of needle: [UInt8], in range: Range<Int>) -> Range<Int>? {
        guard !needle.isEmpty, range.count >= needle.count else { return nil }
        var start = range.upperBound - needle.count
        while start >= range.lowerBound {
            if self[start..<start + needle.count].elementsEqual(needle) { return start..<start + needle.count }
            start -= 1
        }
        return nil
    }
}
