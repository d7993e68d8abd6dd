// InsertPipeline.swift: feeds libdb from a thread of its own while the
// caller's thread prepares the records.
//
// Building a large index is libdb's work (its puts: about 1.5 s for a
// million records) plus ours (reading each record from the source in bucket
// order, folding its key, copying it out). On two cores the two overlap:
// the caller's thread fills batches of records in their stored form, the
// inserter's thread puts them, then closes the database and reads it back.
// The threads share nothing but the batches they hand each other (so no
// reference count is touched by both at once, which would cost more than
// the overlap gains).

import Dispatch

/// Records in their stored form (key folded, key and value NUL-terminated),
/// one after another in one buffer.
struct StoredRecordBatch: Sendable {
    static let capacity = 1024

    var bytes: [UInt8] = []
    /// Where each record's key and value end in `bytes`, its number in the
    /// source, and its share of a RecordDigest (hashed here, on the thread
    /// that prepares batches, as the inserter's thread has more to do).
    var records: [(keyEnd: Int, valueEnd: Int, index: Int, digestShare: UInt64)] = []

    var isFull: Bool { records.count == Self.capacity }

    /// Appends a record IndexWriter.problem(with:) found nothing wrong
    /// with; `utf8` is smtputf8_enable, which decides how keys fold.
    mutating func append(_ record: SourceRecord, index: Int, utf8: Bool) {
        let keyStart = bytes.count
        let stored = PostmapConventions.appendStoredKey(record.key, utf8: utf8, to: &bytes)
        precondition(stored, "record \(index + 1): a key postmap skips was not caught")
        let keyEnd = bytes.count
        PostmapConventions.appendStoredValue(record.value, appended: record.appended, to: &bytes)
        let valueEnd = bytes.count
        // Without the NULs, as the index is read back.
        let share = bytes.withUnsafeBytes { bytes in
            RecordDigest.recordShare(
                key: UnsafeRawBufferPointer(rebasing: bytes[keyStart..<keyEnd - 1]),
                value: UnsafeRawBufferPointer(rebasing: bytes[keyEnd..<valueEnd - 1]))
        }
        records.append((keyEnd, valueEnd, index, share))
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
    }
}

/// What the inserter's thread did.
struct InsertOutcome: Sendable {
    /// The records stored.
    var digest = RecordDigest()
    /// The records not stored because an earlier one has the same key.
    var duplicates: [(index: Int, key: [UInt8])] = []
}

/// The inserter's thread and the batches waiting for it.
final class BatchInserter: @unchecked Sendable {
    /// At most this many batches wait, so the preparing thread never runs
    /// far ahead (and memory stays about a megabyte), yet libdb has enough
    /// to do while that thread does a step of other work.
    private static let waitingLimit = 16

    private struct Queue {
        /// Batches to insert; nil marks the end.
        var waiting: [StoredRecordBatch?] = []
        /// Inserted batches, emptied, for reuse.
        var spare: [StoredRecordBatch] = []
    }

    // The database is used by the inserter's thread only, from init on.
    private let database: BerkeleyDatabase
    private let indexPath: String
    /// Guarded by `queueLock` (a semaphore rather than a Mutex: the thread
    /// sanitizer understands libdispatch's, so the tests can check this).
    private var queue = Queue()
    private let queueLock = DispatchSemaphore(value: 1)
    private let free = DispatchSemaphore(value: BatchInserter.waitingLimit)
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    // Written by the inserter's thread before it signals `finished`.
    private var outcome: Result<InsertOutcome, any Error> = .success(InsertOutcome())

    /// Starts the thread. `database` must be created and not used by the
    /// caller any more; `indexPath` names the index in messages.
    init(database: BerkeleyDatabase, indexPath: String) {
        self.database = database
        self.indexPath = indexPath
        DispatchQueue.global(qos: .userInitiated).async { [self] in run() }
    }

    /// Hands a full batch over (waits while too many are waiting).
    func submit(_ batch: StoredRecordBatch) {
        free.wait()
        withQueue { $0.waiting.append(batch) }
        ready.signal()
    }

    /// Hands a full batch over unless too many are waiting; false then.
    func trySubmit(_ batch: StoredRecordBatch) -> Bool {
        guard free.wait(timeout: .now()) == .success else { return false }
        withQueue { $0.waiting.append(batch) }
        ready.signal()
        return true
    }

    /// An empty batch, reusing an inserted one when there is one.
    func emptyBatch() -> StoredRecordBatch {
        withQueue { $0.spare.popLast() } ?? StoredRecordBatch()
    }

    /// Marks the end of the records: the thread stores what it has, closes
    /// the database and reads the file back.
    func endOfRecords() {
        free.wait()
        withQueue { $0.waiting.append(nil) }
        ready.signal()
    }

    /// Waits until the thread is done (after endOfRecords); throws what went wrong.
    func finish() throws -> InsertOutcome {
        finished.wait()
        return try outcome.get()
    }

    private func withQueue<Result>(_ body: (inout Queue) -> Result) -> Result {
        queueLock.wait()
        defer { queueLock.signal() }
        return body(&queue)
    }

    private func take() -> StoredRecordBatch? {
        ready.wait()
        let batch = withQueue { $0.waiting.removeFirst() }
        free.signal()
        return batch
    }

    private func giveBack(_ batch: StoredRecordBatch) {
        var batch = batch
        batch.removeAll()
        withQueue { $0.spare.append(batch) }
    }

    private func run() {
        var result = InsertOutcome()
        var failure: (any Error)?
        while let batch = take() {
            // After a failure, batches are still taken (so the other thread
            // never waits forever) but not inserted.
            if failure == nil {
                do {
                    try insert(batch, into: &result)
                } catch {
                    failure = error
                }
            }
            giveBack(batch)
        }
        if failure == nil {
            do {
                // Closing flushes the cache to the file; the caller fsyncs it.
                try database.close()
                guard try IndexFile.digest(path: database.path, method: database.method) == result.digest else {
                    throw HashMapError.readBackMismatch(path: indexPath)
                }
            } catch {
                failure = error
            }
        }
        outcome = failure.map { .failure($0) } ?? .success(result)
        finished.signal()
    }

    private func insert(_ batch: StoredRecordBatch, into result: inout InsertOutcome) throws {
        try batch.bytes.withUnsafeBytes { bytes in
            var start = 0
            for record in batch.records {
                let key = UnsafeRawBufferPointer(rebasing: bytes[start..<record.keyEnd])
                let value = UnsafeRawBufferPointer(rebasing: bytes[record.keyEnd..<record.valueEnd])
                start = record.valueEnd
                let stored = try database.insert(
                    key: key, value: value,
                    operation: "store record \(record.index + 1) of the new \(database.method.rawValue) database for \(indexPath) in")
                if stored {
                    result.digest.add(share: record.digestShare)
                } else {
                    result.duplicates.append((record.index, Array(key.dropLast())))  // without its NUL
                }
            }
        }
    }
}
