// IndexWriter.swift: builds a new .db exactly as postmap would (same access
// method, page size, key folding, trailing NULs, first duplicate wins) but
// into a staged temporary file, so the live index is replaced by one rename
// and Postfix daemons see the change at once (the old inode's link count
// drops to 0) instead of a file being rewritten under them.

import FileSafety
import SystemPackage

/// What a build stored and what it dropped.
public struct IndexBuildReport: Sendable, Equatable {
    /// Records stored (duplicates excluded).
    public var recordCount: Int
    /// Folded keys whose later occurrences were dropped, in input order (a
    /// key appears once per dropped occurrence, as postmap warns once each).
    public var duplicateKeys: [[UInt8]]

    public init(recordCount: Int = 0, duplicateKeys: [[UInt8]] = []) {
        self.recordCount = recordCount
        self.duplicateKeys = duplicateKeys
    }
}

public enum IndexWriter {
    /// Writes `records` into a new database staged beside `indexPath` and
    /// returns it uncommitted: the caller commits or discards it. The new
    /// file takes the existing index's owner and mode, or
    /// `metadataForNewFile` when there is no index yet (see
    /// postmapNewIndexMetadata). `expectedCount` is not needed any more (the
    /// records are counted) and is kept for source compatibility. No lock is
    /// taken (see rebuild).
    public static func build(
        records: some Sequence<IndexRecord>,
        replacing indexPath: String,
        method: IndexAccessMethod,
        expectedCount: Int,
        metadataForNewFile: FileMetadata
    ) throws -> (staged: StagedFile, report: IndexBuildReport) {
        let all = Array(records)
        return try build(
            recordCount: all.count, recordAt: { (all[$0].key[...], all[$0].value[...]) },
            replacing: indexPath, method: method, metadataForNewFile: metadataForNewFile)
    }

    /// Writes records 0..<recordCount, read through `recordAt` (key as
    /// written, not yet lower-cased; value), into a new staged database, as
    /// `build(records:...)` does. Records may be read more than once and in
    /// any order, which lets a large table be written without copying it.
    ///
    /// Speed: libdb's cost is its page cache. postmap inserts in file order,
    /// which touches the hash table's pages at random, so unless the whole
    /// table fits in the cache most of the time goes into evicting and
    /// re-reading pages. Here hash records are inserted in the order of the
    /// bucket their key will end up in (libdb's own hash function on the
    /// stored key), so the pages being filled and split move forward
    /// through the file instead of jumping around it. Measured with libdb
    /// alone on 1M records: file order, 8 MB cache 12 s; bucket order, 8 MB
    /// cache 2.4 s (a 64 MB cache saves another 20%). The order changes
    /// nothing in the result: duplicates keep their file order (the first
    /// still wins) and lookups do not depend on insertion order.
    public static func build(
        recordCount: Int,
        recordAt: (Int) -> (key: ArraySlice<UInt8>, value: ArraySlice<UInt8>),
        replacing indexPath: String,
        method: IndexAccessMethod,
        metadataForNewFile: FileMetadata
    ) throws -> (staged: StagedFile, report: IndexBuildReport) {
        var payloadBytes = 0
        for index in 0..<recordCount {
            let record = recordAt(index)
            try validate(key: record.key, value: record.value, index: index, indexPath: indexPath)
            payloadBytes += record.key.count + record.value.count
        }
        let sizing = Sizing(recordCount: recordCount, payloadBytes: payloadBytes, method: method)
        let order = method == .hash ? bucketOrder(recordCount: recordCount, bucketBits: sizing.bucketBits, recordAt: recordAt) : nil
        var recordCountStored = 0
        var duplicates: [(index: Int, key: [UInt8])] = []
        let staged = try AtomicFile.stage(
            replacing: indexPath, metadataForNewFile: metadataForNewFile
        ) { tempPath, _ in
            let database = try BerkeleyDatabase(path: tempPath, method: method)
            try database.configureForCreation(
                pageSize: PostmapConventions.pageSize,
                hashElements: UInt32(PostmapConventions.minimumHashElements), cacheBytes: sizing.cacheBytes)
            try database.create()
            // Reused for every record: allocation would otherwise be a
            // noticeable part of building a large table.
            var key: [UInt8] = []
            var value: [UInt8] = []
            for position in 0..<recordCount {
                let index = order.map { Int($0[position] & 0xFFFF_FFFF) } ?? position
                let record = recordAt(index)
                key.removeAll(keepingCapacity: true)
                value.removeAll(keepingCapacity: true)
                PostmapConventions.appendStoredKey(record.key, to: &key)
                PostmapConventions.appendStoredValue(record.value, to: &value)
                let stored = try database.insert(
                    key: &key, value: &value,
                    operation: "store record \(index + 1) of the new \(method.rawValue) database for \(indexPath) in")
                if stored {
                    recordCountStored += 1
                } else {
                    duplicates.append((index, Array(key.dropLast())))
                }
            }
            // Closing flushes the cache to the file; AtomicFile then fsyncs it.
            try database.close()
        }
        duplicates.sort { $0.index < $1.index }
        return (staged, IndexBuildReport(recordCount: recordCountStored, duplicateKeys: duplicates.map(\.key)))
    }

    /// Record numbers sorted by the hash bucket their stored key falls in
    /// once the table has 2^bucketBits buckets, each as bucket << 32 | number
    /// (so equal buckets keep file order).
    private static func bucketOrder(
        recordCount: Int, bucketBits: Int, recordAt: (Int) -> (key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)
    ) -> [UInt64] {
        let mask = UInt32((1 << bucketBits) - 1)
        var order = [UInt64](repeating: 0, count: recordCount)
        for index in 0..<recordCount {
            let bucket = PostmapConventions.libdbHash(storedKeyOf: recordAt(index).key) & mask
            order[index] = UInt64(bucket) << 32 | UInt64(index)
        }
        order.sort()
        return order
    }

    /// Builds and commits in one step, holding an exclusive flock on the
    /// existing index meanwhile, the lock postmap takes, so a concurrent
    /// postmap or rebuild of the same map is serialized with this one. Do
    /// not call it while holding a FileLock on that index yourself.
    @discardableResult
    public static func rebuild(
        records: some Sequence<IndexRecord>,
        replacing indexPath: String,
        method: IndexAccessMethod,
        expectedCount: Int,
        metadataForNewFile: FileMetadata
    ) throws -> IndexBuildReport {
        let resolved = try resolveSymlinks(indexPath)
        var lock: FileLock?
        do {
            lock = try FileLock.exclusive(path: resolved, wait: true)
        } catch FileSafetyError.systemCallFailed(_, _, .noSuchFileOrDirectory) {
            lock = nil  // a new index: nothing to serialize with yet
        }
        defer { lock?.release() }
        let (staged, report) = try build(
            records: records, replacing: indexPath, method: method,
            expectedCount: expectedCount, metadataForNewFile: metadataForNewFile)
        try staged.commit()
        return report
    }

    /// Refuses records postmap could never have written: keys and values are
    /// C strings to Postfix, so an embedded NUL would silently cut them.
    private static func validate(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>, index: Int, indexPath: String) throws {
        if key.isEmpty {
            throw HashMapError.invalidRecord(path: indexPath, index: index, reason: "the key is empty")
        }
        if key.contains(0) {
            throw HashMapError.invalidRecord(path: indexPath, index: index, reason: "the key contains a NUL byte")
        }
        if value.contains(0) {
            throw HashMapError.invalidRecord(path: indexPath, index: index, reason: "the value contains a NUL byte")
        }
    }

    /// Cache size and the bucket count to order hash inserts by.
    ///
    /// libdb splits a hash bucket whenever a page overflows, so a table ends
    /// with about one bucket per page of records (postmap's 1M-entry table:
    /// 16143 buckets for 84 MB); ordering by that many buckets keeps the
    /// inserts local. h_nelem is left at postmap's value: without a fill
    /// factor libdb ignores it, and with one it pre-allocates buckets that
    /// stay half empty (measured: 1.6 times the file size for 10-25% less
    /// time). The cache is 1/16 of the records' size, between 1 and 16 MB:
    /// in bucket order a larger one gains little, and memory is what a
    /// large table is short of. A btree is filled in file order, which is
    /// random for its pages, and keeps the cache of up to 64 MB it had.
    struct Sizing {
        var bucketBits: Int
        var cacheBytes: UInt32

        init(recordCount: Int, payloadBytes: Int, method: IndexAccessMethod) {
            // Per record on a page: two NULs, two type bytes, two index slots.
            let tableBytes = payloadBytes + 8 * recordCount
            let pages = max(1, tableBytes / Int(PostmapConventions.pageSize))
            bucketBits = max(1, Int.bitWidth - pages.leadingZeroBitCount - 1)
            switch method {
            case .hash: cacheBytes = UInt32(min(16 << 20, max(1 << 20, tableBytes / 16)))
            case .btree: cacheBytes = UInt32(min(64 << 20, max(1 << 20, tableBytes)))
            }
        }
    }
}
