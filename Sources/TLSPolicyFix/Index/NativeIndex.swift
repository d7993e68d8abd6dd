// NativeIndex.swift: the hash:/btree: index of a postmap source, which the
// tool writes itself through libdb: building one beside the live index, and
// telling whether an index holds exactly the records postmap would build
// from the source. Both work from the TableSource as it is (no copy of its
// records) and compare through RecordDigest, so checking a million-entry
// table costs one sequential pass over the source and one cursor pass over
// the .db.

import FileSafety
import HashMap
import PostconfModel

enum NativeIndex {
    /// Whether the index at `indexPath` stores exactly the records postmap
    /// would build from `source`: the first entry of each key (ignoring
    /// case), its key folded.
    static func matches(indexPath: String, method: IndexAccessMethod, source: TableSource, lockTimeout: Duration) throws -> Bool {
        try IndexFile.digest(path: indexPath, method: method, lockTimeout: lockTimeout) == storedDigest(of: EditedTableSource(source: source))
    }

    /// The digest of the records postmap stores from `table`.
    static func storedDigest(of table: EditedTableSource) -> RecordDigest {
        var digest = RecordDigest()
        for index in 0..<table.recordCount {
            let record = table.record(at: index)
            if table.source.storedEntry(forKeyOf: index, key: record.key) == index { digest.add(record, utf8KeyFolding: table.source.utf8Checks) }
        }
        return digest
    }

    /// Builds the index of the edited source into a staged file (which
    /// IndexWriter reads back), doing steps of `meanwhile` while libdb works.
    static func stage(
        _ rebuild: IndexRebuild, index: ResolvedPath, source: ResolvedPath, method: IndexAccessMethod, table: EditedTableSource,
        meanwhile: () -> Bool = { false }
    ) throws(IndexError) -> StagedFile {
        do {
            let sourceMetadata = try source.metadata()
            return try IndexWriter.build(
                from: table,
                replacing: index, method: method,
                metadataForNewFile: IndexWriter.postmapNewIndexMetadata(source: sourceMetadata),
                utf8KeyFolding: table.source.utf8Checks,
                meanwhile: meanwhile
            ).staged
        } catch {
            throw .unreadable(path: rebuild.displayIndexPath, cause: error)
        }
    }
}
