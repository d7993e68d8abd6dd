// EntrySet.swift: a set of a table's entries (sites) by index, one bit each:
// the entries an edit appends servername to. A million-entry table needs
// 125 KB for it, where a list of indexes would take 8 MB.

public struct EntrySet: Sendable, Equatable {
    private var words: [UInt64]
    public private(set) var count = 0

    public init(count entries: Int) {
        words = [UInt64](repeating: 0, count: (entries + 63) / 64)
    }

    public var isEmpty: Bool { count == 0 }

    public mutating func insert(_ index: Int) {
        let bit: UInt64 = 1 << (index % 64)
        if words[index / 64] & bit == 0 { count += 1 }
        words[index / 64] |= bit
    }

    public func contains(_ index: Int) -> Bool {
        index / 64 < words.count && words[index / 64] & (1 << (index % 64)) != 0
    }

    /// The smallest member at or after `index`, nil when there is none.
    public func first(from index: Int) -> Int? {
        var wordIndex = index / 64
        guard wordIndex < words.count else { return nil }
        var word = words[wordIndex] & (~0 << (index % 64))
        while word == 0 {
            wordIndex += 1
            guard wordIndex < words.count else { return nil }
            word = words[wordIndex]
        }
        return wordIndex * 64 + word.trailingZeroBitCount
    }

    /// The members in increasing order.
    public func forEach(_ body: (Int) throws -> Void) rethrows {
        for (wordIndex, word) in words.enumerated() where word != 0 {
            var rest = word
            while rest != 0 {
                try body(wordIndex * 64 + rest.trailingZeroBitCount)
                rest &= rest - 1
            }
        }
    }
}
