// NativeIndex.swift: the hash:/btree: index of a postmap source, which the
// tool writes itself through libdb: building one beside the live index, and
// telling whether an index holds exactly the records postmap would build
// from the source. Both work from the TableSource as it is (no copy of its
// records) and read an index in one cursor pass, so checking a million-entry
// table costs about as much as reading its .db once.

import FileSafety
import HashMap
import PostconfModel

enum NativeIndex {
    /// Whether the index at `indexPath` stores exactly the source's records:
    /// the same number, and each index record the one the source stores
    /// under that key (so nothing is missing, added or different).
    static func matches(indexPath: String, method: IndexAccessMethod, source: TableSource) throws -> Bool {
        var count = 0
        var same = true
        // libdb's buffers last until the next record, so records are copied
        // into a batch and compared in groups (see TableSource.storesRecords).
        var batch = RecordBatch()
        defer { batch.deallocate() }
        try IndexFile.forEachRecord(path: indexPath, method: method) { key, value in
            count += 1
            guard same else { return }
            if !batch.append(key, value) {
                // Out of room: compare what the batch holds, then this record
                // (alone if it is larger than a whole batch).
                same = batch.check(source)
                if same && !batch.append(key, value) { same = source.storesRecord(key: key, value: value) }
            }
            if same && batch.isFull { same = batch.check(source) }
        }
        if same { same = batch.check(source) }
        return same && count == source.storedRecordCount
    }

    /// Records copied out of libdb, waiting to be compared as a group.
    private struct RecordBatch {
        static let records = 64
        static let bytes = 1 << 16
        private let arena = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 8)
        private var used = 0
        private var keys: [UnsafeRawBufferPointer] = []
        private var values: [UnsafeRawBufferPointer] = []

        var isEmpty: Bool { keys.isEmpty }
        var isFull: Bool { keys.count == Self.records }

        /// Copies a record in; false when it does not fit (then nothing is copied).
        mutating func append(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool {
            guard used + key.count + value.count <= Self.bytes else { return false }
            keys.append(copy(key))
            values.append(copy(value))
            return true
        }

        private mutating func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            let target = UnsafeMutableRawBufferPointer(rebasing: arena[used..<(used + bytes.count)])
            target.copyMemory(from: bytes)
            used += bytes.count
            return UnsafeRawBufferPointer(target)
        }

        /// Compares the records with the source and empties the batch.
        mutating func check(_ source: TableSource) -> Bool {
            defer {
                keys.removeAll(keepingCapacity: true)
                values.removeAll(keepingCapacity: true)
                used = 0
            }
            return keys.isEmpty || source.storesRecords(keys: keys, values: values)
        }

        func deallocate() { arena.deallocate() }
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
