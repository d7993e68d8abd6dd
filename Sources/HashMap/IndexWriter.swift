// IndexWriter.swift: builds a new .db exactly as postmap would (same access
// method, page size, key folding (ICU's with smtputf8_enable = yes), trailing
// NULs, first duplicate wins) but
// into a staged temporary file, so the live index is replaced by one rename
// and Postfix daemons see the change at once (the old inode's link count
// drops to 0) instead of a file being rewritten under them.

import FileSafety
import KeyFolding
import SystemPackage

/// What a build stored and what it dropped.
public struct IndexBuildReport: Sendable, Equatable {
    /// Records stored (duplicates excluded).
    public var recordCount: Int
    /// Folded keys whose later occurrences were dropped, in input order (a
    /// key appears once per dropped occurrence, as postmap warns once each).
    public var duplicateKeys: [[UInt8]]
    /// The digest of the records stored, to compare with the index read back.
    public var digest: RecordDigest

    public init(recordCount: Int = 0, duplicateKeys: [[UInt8]] = [], digest: RecordDigest = RecordDigest()) {
        self.recordCount = recordCount
        self.duplicateKeys = duplicateKeys
        self.digest = digest
    }
}

/// One record to write, as `IndexWriter.build` reads it: the key as written
/// (not yet folded), and the value, stored as `value` followed by
/// `appended` (so that an edited record need not be copied out whole).
public struct SourceRecord {
    public var key: ArraySlice<UInt8>
    public var value: ArraySlice<UInt8>
    public var appended: ArraySlice<UInt8>

    public init(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>, appended: ArraySlice<UInt8> = []) {
        self.key = key
        self.value = value
        self.appended = appended
    }
}

/// The records an index is built from, read in place: in any order and
/// more than once, which lets a large table be written without copying it.
public protocol IndexSource {
    var recordCount: Int { get }
    /// Record `index`'s key alone (what ordering the inserts needs, where
    /// it can be had more cheaply than the whole record).
    func key(at index: Int) -> ArraySlice<UInt8>
    func record(at index: Int) -> SourceRecord
}

/// Records held in an array.
private struct IndexRecords: IndexSource {
    let records: [IndexRecord]

    var recordCount: Int { records.count }
    func key(at index: Int) -> ArraySlice<UInt8> { records[index].key[...] }
    func record(at index: Int) -> SourceRecord { SourceRecord(key: records[index].key[...], value: records[index].value[...]) }
}

public enum IndexWriter {
    /// Writes `records` into a new database staged beside `indexPath` and
    /// returns it uncommitted: the caller commits or discards it. The new
    /// file takes the existing index's owner and mode, or
    /// `metadataForNewFile` when there is no index yet (see
    /// postmapNewIndexMetadata). `expectedCount` is not needed any more (the
    /// records are counted) and is kept for source compatibility. No lock is
    /// taken (see rebuild). `utf8KeyFolding` is smtputf8_enable of the
    /// configuration whose postmap and daemons read the index: it decides
    /// how keys are folded (see PostfixKeyFolding).
    public static func build(
        records: some Sequence<IndexRecord>,
        replacing indexPath: String,
        method: IndexAccessMethod,
        expectedCount: Int,
        metadataForNewFile: FileMetadata,
        utf8KeyFolding: Bool = false
    ) throws -> (staged: StagedFile, report: IndexBuildReport) {
        try build(
            from: IndexRecords(records: Array(records)),
            replacing: indexPath, method: method, metadataForNewFile: metadataForNewFile,
            utf8KeyFolding: utf8KeyFolding)
    }

    /// Writes the records of `source` into a new staged database, as
    /// `build(records:...)` does, and reads the file back: it must hold
    /// exactly the records stored.
    ///
    /// libdb runs on a thread of its own (see InsertPipeline) while this
    /// thread prepares the records. Whenever libdb has enough records
    /// waiting, and after the last one, this thread calls `meanwhile`: it
    /// does a step of other work (that shares nothing with the database)
    /// and returns whether there is more. So other work, such as writing
    /// the table's new source, costs no time of its own.
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
    ///
    /// With `utf8KeyFolding` (smtputf8_enable = yes) keys are folded by ICU
    /// as casefold() folds them, and a key or value that is not UTF-8 is an
    /// invalid record: postmap would skip it (TableSource already has).
    public static func build(
        from source: some IndexSource,
        replacing indexPath: String,
        method: IndexAccessMethod,
        metadataForNewFile: FileMetadata,
        utf8KeyFolding: Bool = false,
        meanwhile: () -> Bool = { false }
    ) throws -> (staged: StagedFile, report: IndexBuildReport) {
        try build(
            from: source, replacing: ResolvedPath.resolving(indexPath), method: method, metadataForNewFile: metadataForNewFile,
            utf8KeyFolding: utf8KeyFolding, meanwhile: meanwhile)
    }

    /// The same for an index a run has resolved: the new database is
    /// written in the directory the resolution pinned.
    public static func build(
        from source: some IndexSource,
        replacing index: ResolvedPath,
        method: IndexAccessMethod,
        metadataForNewFile: FileMetadata,
        utf8KeyFolding: Bool = false,
        meanwhile: () -> Bool = { false }
    ) throws -> (staged: StagedFile, report: IndexBuildReport) {
        let indexPath = index.path
        let utf8 = utf8KeyFolding
        let recordCount = source.recordCount
        let sizing = Sizing(recordCount: recordCount, payloadBytes: estimatedPayload(of: source), method: method)
        let order = method == .hash ? bucketOrder(of: source, bucketBits: sizing.bucketBits, utf8: utf8) : nil
        var outcome = InsertOutcome()
        let staged = try AtomicFile.stage(
            replacing: index, metadataForNewFile: metadataForNewFile
        ) { file in
            let database = try BerkeleyDatabase(path: file.temporaryPath, method: method, openPath: file.pinnedTemporaryPath)
            try database.configureForCreation(
                pageSize: PostmapConventions.pageSize,
                hashElements: UInt32(PostmapConventions.minimumHashElements), cacheBytes: sizing.cacheBytes)
            try database.create()
            let inserter = BatchInserter(database: database, indexPath: indexPath)
            var moreToDoMeanwhile = true
            func handOver(_ batch: StoredRecordBatch) {
                while moreToDoMeanwhile {
                    if inserter.trySubmit(batch) { return }
                    moreToDoMeanwhile = meanwhile()
                }
                inserter.submit(batch)
            }
            var invalid: (any Error)?
            var batch = inserter.emptyBatch()
            for position in 0..<recordCount {
                let index = order.map { Int($0[position]) } ?? position
                let record = source.record(at: index)
                guard problem(with: record, utf8: utf8) == nil else {
                    // Named as a scan in file order finds it.
                    invalid = firstInvalidRecord(of: source, indexPath: indexPath, utf8: utf8)
                    break
                }
                batch.append(record, index: index, utf8: utf8)
                if batch.isFull {
                    handOver(batch)
                    batch = inserter.emptyBatch()
                }
            }
            if !batch.records.isEmpty { inserter.submit(batch) }
            inserter.endOfRecords()
            while invalid == nil && moreToDoMeanwhile { moreToDoMeanwhile = meanwhile() }
            outcome = try inserter.finish()
            if let invalid { throw invalid }
        }
        outcome.duplicates.sort { $0.index < $1.index }
        return (staged, IndexBuildReport(recordCount: outcome.digest.count, duplicateKeys: outcome.duplicates.map(\.key), digest: outcome.digest))
    }

    /// The bytes of the keys and values, from at most about 4096 records
    /// spread over the source: the sizing needs no more than an estimate.
    private static func estimatedPayload(of source: some IndexSource) -> Int {
        let stride = max(1, source.recordCount / 4096)
        var sampled = 0
        var bytes = 0
        for index in Swift.stride(from: 0, to: source.recordCount, by: stride) {
            let record = source.record(at: index)
            bytes += record.key.count + record.value.count + record.appended.count
            sampled += 1
        }
        return sampled == 0 ? 0 : bytes * source.recordCount / sampled
    }

    /// Record numbers in the order of the hash bucket their stored key falls
    /// in once the table has 2^bucketBits buckets, file order within a
    /// bucket. A counting sort; each record's bucket is kept between
    /// counting and placing, since hashing every key twice cost more. Kept
    /// in 2 bytes where they fit (tables up to some 256 MB), as this array
    /// adds to apply's peak memory.
    private static func bucketOrder(of source: some IndexSource, bucketBits: Int, utf8: Bool) -> [UInt32] {
        bucketBits <= 16
            ? bucketOrder(of: source, bucketBits: bucketBits, utf8: utf8, keepingBucketsAs: UInt16.self)
            : bucketOrder(of: source, bucketBits: bucketBits, utf8: utf8, keepingBucketsAs: UInt32.self)
    }

    private static func bucketOrder<Bucket: FixedWidthInteger & UnsignedInteger>(
        of source: some IndexSource, bucketBits: Int, utf8: Bool, keepingBucketsAs: Bucket.Type
    ) -> [UInt32] {
        let mask = UInt32((1 << bucketBits) - 1)
        let recordCount = source.recordCount
        var next = [Int](repeating: 0, count: (1 << bucketBits) + 1)
        let buckets = [Bucket](unsafeUninitializedCapacity: recordCount) { buckets, count in
            for index in 0..<recordCount {
                let bucket = PostmapConventions.libdbHash(storedKeyOf: source.key(at: index), utf8: utf8) & mask
                buckets[index] = Bucket(truncatingIfNeeded: bucket)
                next[Int(bucket) + 1] += 1
            }
            count = recordCount
        }
        for bucket in 1..<next.count { next[bucket] += next[bucket - 1] }
        return [UInt32](unsafeUninitializedCapacity: recordCount) { order, count in
            for index in 0..<recordCount {
                let bucket = Int(buckets[index])
                order[next[bucket]] = UInt32(index)
                next[bucket] += 1
            }
            count = recordCount
        }
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
        metadataForNewFile: FileMetadata,
        utf8KeyFolding: Bool = false,
        lockTimeout: Duration = FileLock.defaultTimeout
    ) throws -> IndexBuildReport {
        let resolved = try resolveSymlinks(indexPath)
        var lock: FileLock?
        do throws(FileSafetyError) {
            lock = try FileLock.exclusive(path: resolved, timeout: lockTimeout)
        } catch {
            guard case .systemCallFailed(_, _, .noSuchFileOrDirectory) = error else { throw error }
            lock = nil  // a new index: nothing to serialize with yet
        }
        defer { lock?.release() }
        let (staged, report) = try build(
            records: records, replacing: indexPath, method: method,
            expectedCount: expectedCount, metadataForNewFile: metadataForNewFile, utf8KeyFolding: utf8KeyFolding)
        try staged.commit()
        return report
    }

    /// Why postmap could never have written the record, or nil: keys and
    /// values are C strings to Postfix, so an empty key or an embedded NUL
    /// cannot be; with `utf8` (smtputf8_enable = yes) postmap skips a key
    /// or value that is not UTF-8. Nearly every record is ASCII: one pass
    /// over key and value finds both NULs and bytes >= 0x80.
    private static func problem(with record: SourceRecord, utf8: Bool) -> String? {
        if record.key.isEmpty { return "the key is empty" }
        let key = scan(record.key)
        let value = scan(record.value)
        let appended = scan(record.appended)
        if key.nul { return "the key contains a NUL byte" }
        if value.nul || appended.nul { return "the value contains a NUL byte" }
        guard utf8 else { return nil }
        if key.high && !PostfixKeyFolding.isValidUTF8(record.key) {
            return "the key is not UTF-8, which postmap skips with smtputf8_enable = yes"
        }
        if (value.high && !PostfixKeyFolding.isValidUTF8(record.value))
            || (appended.high && !PostfixKeyFolding.isValidUTF8(record.appended))
        {
            return "the value is not UTF-8, which postmap skips with smtputf8_enable = yes"
        }
        return nil
    }

    /// Whether the bytes hold a NUL, and a byte >= 0x80, in one pass.
    @inline(__always)
    private static func scan(_ bytes: ArraySlice<UInt8>) -> (nul: Bool, high: Bool) {
        var lowest: UInt8 = 0xFF
        var high: UInt8 = 0
        for byte in bytes {
            lowest = min(lowest, byte)
            high |= byte
        }
        return (lowest == 0, high & 0x80 != 0)
    }

    /// The error for the first record, in file order, that has a problem.
    private static func firstInvalidRecord(of source: some IndexSource, indexPath: String, utf8: Bool) -> HashMapError? {
        for index in 0..<source.recordCount {
            if let reason = problem(with: source.record(at: index), utf8: utf8) {
                return .invalidRecord(path: indexPath, index: index, reason: reason)
            }
        }
        return nil
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
