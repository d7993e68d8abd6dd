// RecordDigest.swift: an order-independent fingerprint of a set of index
// records, to tell whether an index holds exactly the records it should
// without looking each one up.
//
// Comparing a million-record index with its source record by record means a
// random read into the source's key table per record, which costs as much
// as reading the index. A digest is built in one sequential pass on each
// side instead: the number of records and the sum (modulo 2^64) of a keyed
// hash of each record. Two different sets of records give the same digest
// with a chance of about 2^-64. The hash is Swift's Hasher (SipHash with a
// random key per process), so digests are only comparable within one run,
// and nobody can craft records that collide without knowing the key.

import KeyFolding

public struct RecordDigest: Sendable, Equatable {
    /// How many records were added.
    public private(set) var count = 0
    private var sum: UInt64 = 0

    public init() {}

    /// Adds one record: a key as stored (folded, without its NUL) and its
    /// value (without its NUL).
    public mutating func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        add(share: Self.recordShare(key: key, value: value))
    }

    /// Adds a record as a source gives it: the key is folded as postmap
    /// stores it (`utf8KeyFolding`: smtputf8_enable, see PostfixKeyFolding),
    /// the value is `value` followed by `appended`. A key postmap skips
    /// (not UTF-8 with smtputf8) adds nothing, as postmap stores nothing.
    public mutating func add(_ record: SourceRecord, utf8KeyFolding: Bool = false) {
        if utf8KeyFolding && !PostfixKeyFolding.isASCII(record.key) {
            guard let key = PostfixKeyFolding.fold(record.key, utf8: true) else { return }
            key.withUnsafeBytes { key in
                record.value.withUnsafeBytes { value in
                    record.appended.withUnsafeBytes { appended in
                        add(share: Self.recordShare(key: key, value: value, appended: appended))
                    }
                }
            }
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: record.key.count) { key in
            for (offset, byte) in record.key.enumerated() { key[offset] = PostmapConventions.folded(byte) }
            record.value.withUnsafeBytes { value in
                record.appended.withUnsafeBytes { appended in
                    add(share: Self.recordShare(key: UnsafeRawBufferPointer(key), value: value, appended: appended))
                }
            }
        }
    }

    /// Adds a record whose share was computed beforehand (by recordShare),
    /// perhaps on another thread.
    mutating func add(share: UInt64) {
        sum &+= share
        count += 1
    }

    /// What a record adds to the sum: its keyed hash.
    static func recordShare(
        key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        appended: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) -> UInt64 {
        var hasher = Hasher()
        // The key's length first, so that no other split of the same bytes
        // into key and value hashes alike. Hasher takes bytes as a stream:
        // value and appended hash as the one value they make.
        hasher.combine(key.count)
        hasher.combine(bytes: key)
        hasher.combine(bytes: value)
        hasher.combine(bytes: appended)
        return UInt64(UInt(bitPattern: hasher.finalize()))
    }
}
