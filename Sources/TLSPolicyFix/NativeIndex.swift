// NativeIndex.swift: the hash:/btree: index of a postmap source, which the
// tool writes itself through libdb: building one beside the live index, and
// telling whether an index holds exactly the records postmap would build
// from the source. Both work from the TableSource as it is (no copy of its
// records) and read an index in one cursor pass, so checking a million-entry
// table costs about as much as reading its .db once.

import FileSafety
import Foundation
import HashMap
import PostconfModel

enum NativeIndex {
    /// Whether the index at `indexPath` stores exactly the source's records:
    /// the same number, and each index record the one the source stores
    /// under that key (so nothing is missing, added or different).
    ///
    /// Reading the index (libdb's cursor) and looking its records up in the
    /// source take about as long as each other, so they run side by side:
    /// this thread reads and copies records into batches (libdb's buffers
    /// last only until the next record), a second one compares them.
    static func matches(indexPath: String, method: IndexAccessMethod, source: TableSource) throws -> Bool {
        let comparer = BatchComparer(source: source)
        var count = 0
        var same = true
        var batch = RecordBatch()
        do {
            try IndexFile.forEachRecord(path: indexPath, method: method) { key, value in
                count += 1
                guard same else { return }
                batch.append(key, value)
                if batch.isFull {
                    same = comparer.submit(batch)
                    batch = comparer.emptyBatch()
                }
            }
        } catch {
            _ = comparer.finish()
            throw error
        }
        if same { same = comparer.submit(batch) }
        return comparer.finish() && same && count == source.storedRecordCount
    }

    /// Index records copied out of libdb: their bytes, and where each key and
    /// value ends in them.
    private struct RecordBatch: Sendable {
        static let records = 1024
        var bytes: [UInt8] = []
        var ends: [(key: Int, value: Int)] = []

        var isFull: Bool { ends.count == Self.records }

        mutating func append(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
            bytes.append(contentsOf: key)
            let keyEnd = bytes.count
            bytes.append(contentsOf: value)
            ends.append((keyEnd, bytes.count))
        }

        mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
        }

        /// Whether the source stores every record of the batch, looked up 64
        /// at a time (see TableSource.storesRecords).
        func isStored(in source: TableSource) -> Bool {
            bytes.withUnsafeBytes { raw in
                var keys: [UnsafeRawBufferPointer] = []
                var values: [UnsafeRawBufferPointer] = []
                keys.reserveCapacity(64)
                values.reserveCapacity(64)
                var start = 0
                for (index, end) in ends.enumerated() {
                    keys.append(UnsafeRawBufferPointer(rebasing: raw[start..<end.key]))
                    values.append(UnsafeRawBufferPointer(rebasing: raw[end.key..<end.value]))
                    start = end.value
                    if keys.count == 64 || index == ends.count - 1 {
                        guard source.storesRecords(keys: keys, values: values) else { return false }
                        keys.removeAll(keepingCapacity: true)
                        values.removeAll(keepingCapacity: true)
                    }
                }
                return true
            }
        }
    }

    /// The second thread of `matches`: compares the batches handed to it,
    /// in order, and keeps a few emptied ones for reuse. At most four wait,
    /// so the reader never runs far ahead.
    private final class BatchComparer: @unchecked Sendable {
        // Everything below is guarded by `condition`.
        private let condition = NSCondition()
        private let source: TableSource
        private var waiting: [RecordBatch] = []
        private var spare: [RecordBatch] = []
        private var noMoreBatches = false
        private var stopped = false
        private var same = true

        init(source: TableSource) {
            self.source = source
            Thread.detachNewThread { [self] in compareUntilDone() }
        }

        /// Hands a batch over; false once a difference has been found (then
        /// further batches are not needed).
        func submit(_ batch: RecordBatch) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while waiting.count >= 4 && same { condition.wait() }
            if same && !batch.ends.isEmpty {
                waiting.append(batch)
                condition.broadcast()
            }
            return same
        }

        /// An empty batch, reusing one already compared when there is one.
        func emptyBatch() -> RecordBatch {
            condition.lock()
            defer { condition.unlock() }
            return spare.popLast() ?? RecordBatch()
        }

        /// Waits for the comparisons to end; whether every record was stored.
        func finish() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            noMoreBatches = true
            condition.broadcast()
            while !stopped { condition.wait() }
            return same
        }

        private func compareUntilDone() {
            condition.lock()
            while true {
                while waiting.isEmpty && !noMoreBatches { condition.wait() }
                guard !waiting.isEmpty else { break }
                var batch = waiting.removeFirst()
                let needed = same
                condition.unlock()
                let stored = needed && batch.isStored(in: source)
                batch.removeAll()
                condition.lock()
                if needed && !stored { same = false }
                spare.append(batch)
                condition.broadcast()
            }
            stopped = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Builds the index of `source` into a staged file and reads it back:
    /// the records must be exactly those postmap would build.
    static func stage(_ rebuild: IndexRebuild, method: IndexAccessMethod, source: TableSource) throws(ConfigurationError) -> StagedFile {
        do {
            let sourceMetadata = try FileMetadata.of(path: rebuild.sourcePath)
            let (staged, _) = try IndexWriter.build(
                recordCount: source.entryCount,
                recordAt: { source.record(at: $0) },
                replacing: rebuild.indexPath, method: method,
                metadataForNewFile: IndexWriter.postmapNewIndexMetadata(source: sourceMetadata))
            guard try matches(indexPath: staged.temporaryPath, method: method, source: source) else {
                staged.discard()
                throw ConfigurationError.writeFailed(path: rebuild.displayIndexPath, reason: "the new index does not read back as its source")
            }
            return staged
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw .writeFailed(path: rebuild.displayIndexPath, reason: "\(error)")
        }
    }
}
