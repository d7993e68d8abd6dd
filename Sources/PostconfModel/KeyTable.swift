// KeyTable.swift: the flat hash table of a TableSource's lookup keys, which
// tells for each entry the first entry of its key (postmap keeps the first
// of duplicate keys), built without a Dictionary of a million arrays.

import Dispatch

/// An open-addressing hash table from key hashes to entry numbers: the
/// first entry of each key. Each slot is 8 bytes (32 bits of hash, the entry
/// number + 1), so a million keys take 16 MB and no allocation per key. It
/// is kept in one or two halves, chosen by the hash's top bit, so that two
/// threads can fill it at once: entries of one key always fall in the same
/// half, where they are added in file order, so the first still wins.
struct KeyTable: Sendable {
    private var halves: [Half]

    /// The entries with these key hashes, in file order, in `halves` (1 or
    /// 2) halves. `sameKey(entry, other)` is called, from the thread
    /// filling their half, when entry's hash is that of an earlier entry
    /// `other`; it tells whether their keys are the same (and must then
    /// mark `entry` as a repeat).
    init(hashes: UnsafeBufferPointer<UInt64>, halves count: Int, sameKey: @Sendable (_ entry: Int, _ other: Int) -> Bool) {
        // Each half sized for the entries it gets: at most half full.
        let upper = count == 2 ? hashes.reduce(0) { $0 + Int($1 >> 63) } : 0
        let sizes = [hashes.count - upper, upper]
        halves = [Half](repeating: Half(capacity: 0), count: count)
        halves.withUnsafeMutableBufferPointer { halves in
            // Read by both threads, written by neither; each half is written by its own thread.
            nonisolated(unsafe) let (halves, hashes) = (halves, hashes)
            DispatchQueue.concurrentPerform(iterations: count) { number in
                var half = Half(capacity: sizes[number])
                for entry in hashes.indices where count == 1 || Int(hashes[entry] >> 63) == number {
                    half.insertIfAbsent(entry, hash: hashes[entry]) { sameKey(entry, $0) }
                }
                halves[number] = half
            }
        }
    }

    var count: Int { halves.reduce(0) { $0 + $1.count } }

    /// Calls `isSameKey` with the entries whose key has this hash until it
    /// answers true; returns that entry.
    func find(hash: UInt64, isSameKey: (Int) -> Bool) -> Int? {
        halves[halves.count == 1 ? 0 : Int(hash >> 63)].find(hash: hash, isSameKey: isSameKey)
    }

    private struct Half: Sendable {
        private var slots: [UInt64]
        private let mask: Int
        private(set) var count = 0

        init(capacity: Int) {
            var size = 16
            while size < capacity * 2 { size <<= 1 }
            slots = [UInt64](repeating: 0, count: size)
            mask = size - 1
        }

        func find(hash: UInt64, isSameKey: (Int) -> Bool) -> Int? {
            let tag = hash >> 32
            var slot = Int(truncatingIfNeeded: hash) & mask
            while true {
                let value = slots[slot]
                if value == 0 { return nil }
                if value >> 32 == tag, isSameKey(Int(value & 0xFFFF_FFFF) - 1) {
                    return Int(value & 0xFFFF_FFFF) - 1
                }
                slot = (slot + 1) & mask
            }
        }

        /// Adds `entry` unless an entry with the same key is there already.
        mutating func insertIfAbsent(_ entry: Int, hash: UInt64, isSameKey: (Int) -> Bool) {
            let tag = hash >> 32
            var slot = Int(truncatingIfNeeded: hash) & mask
            while true {
                let value = slots[slot]
                if value == 0 {
                    slots[slot] = tag << 32 | UInt64(entry + 1)
                    count += 1
                    return
                }
                if value >> 32 == tag, isSameKey(Int(value & 0xFFFF_FFFF) - 1) { return }
                slot = (slot + 1) & mask
            }
        }
    }
}
