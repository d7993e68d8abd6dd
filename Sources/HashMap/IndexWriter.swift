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
    /// postmapNewIndexMetadata). `expectedCount` only sizes the hash table
    /// and cache. No lock is taken (see rebuild). libdb writes into the
    /// zero-length temporary file AtomicFile created (DB_CREATE accepts it),
    /// so the file keeps its O_EXCL|O_NOFOLLOW origin.
    public static func build(
        records: some Sequence<IndexRecord>,
        replacing indexPath: String,
        method: IndexAccessMethod,
        expectedCount: Int,
        metadataForNewFile: FileMetadata
    ) throws -> (staged: StagedFile, report: IndexBuildReport) {
        var report = IndexBuildReport()
        let staged = try AtomicFile.stage(
            replacing: indexPath, metadataForNewFile: metadataForNewFile
        ) { tempPath, _ in
            let database = try BerkeleyDatabase(path: tempPath, method: method)
            let sizing = Sizing(expectedCount: expectedCount)
            try database.configureForCreation(
                pageSize: PostmapConventions.pageSize,
                hashElements: sizing.hashElements, cacheBytes: sizing.cacheBytes)
            try database.create()
            // Reused for every record: allocation would otherwise be a
            // noticeable part of building a large table.
            var key: [UInt8] = []
            var value: [UInt8] = []
            for (index, record) in records.enumerated() {
                try validate(record, index: index, indexPath: indexPath)
                key.removeAll(keepingCapacity: true)
                value.removeAll(keepingCapacity: true)
                PostmapConventions.appendStoredKey(record.key, to: &key)
                PostmapConventions.appendStoredValue(record.value, to: &value)
                let stored = try database.insert(
                    key: &key, value: &value,
                    operation: "store record \(index + 1) of the new \(method.rawValue) database for \(indexPath) in")
                if stored {
                    report.recordCount += 1
                } else {
                    report.duplicateKeys.append(Array(key.dropLast()))
                }
            }
            // Closing flushes the cache to the file; AtomicFile then fsyncs it.
            try database.close()
        }
        return (staged, report)
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
    private static func validate(_ record: IndexRecord, index: Int, indexPath: String) throws {
        if record.key.isEmpty {
            throw HashMapError.invalidRecord(path: indexPath, index: index, reason: "the key is empty")
        }
        if record.key.contains(0) {
            throw HashMapError.invalidRecord(path: indexPath, index: index, reason: "the key contains a NUL byte")
        }
        if record.value.contains(0) {
            throw HashMapError.invalidRecord(path: indexPath, index: index, reason: "the value contains a NUL byte")
        }
    }

    /// Hash table and cache size. The cache decides the speed: with too
    /// small a cache libdb spends its time evicting pages (a 64 MB cache
    /// built 1M entries 3x faster than postmap's 16 MB). About 100 bytes per
    /// record, between 1 MB and 64 MB. postmap's 4096 elements is the
    /// minimum hash size; a larger table just avoids splits.
    private struct Sizing {
        var hashElements: UInt32
        var cacheBytes: UInt32

        init(expectedCount: Int) {
            let count = max(0, expectedCount)
            hashElements = UInt32(clamping: max(PostmapConventions.minimumHashElements, count))
            let perRecord = 100
            let (wanted, overflow) = count.multipliedReportingOverflow(by: perRecord)
            cacheBytes = UInt32(min(64 << 20, max(1 << 20, overflow ? Int.max : wanted)))
        }
    }
}
