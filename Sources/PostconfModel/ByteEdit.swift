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

    public init(range: Range<Int>, replacement: [UInt8]) {
        self.range = range
        self.replacement = replacement
    }

    public init(insert bytes: [UInt8], at offset: Int) {
        self.init(range: offset..<offset, replacement: bytes)
    }
}

extension Array where Element == UInt8 {
    /// The bytes with the edits applied. Edits must not overlap; they may come
    /// in any order.
    public func applying(_ edits: [ByteEdit]) -> [UInt8] {
        let sorted = edits.sorted { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
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
