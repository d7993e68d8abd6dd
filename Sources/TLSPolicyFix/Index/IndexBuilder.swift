// IndexBuilder.swift: builds the index of a table as the plan leaves it
// into a staged file beside the live one, and reads it back: the tool's own
// libdb writer for hash:/btree:, postmap for the other types (which build
// from a file, so they get the new source's bytes, parsed for the records
// the index must hold, and what postmap warns is handed back).

import FileSafety
import PostconfModel

enum IndexBuilder {
    /// `meanwhile` is given steps to do while libdb works (writing the new
    /// source); it returns false when it has none left. `index` and
    /// `source` are the index and its source as the run resolved them: the
    /// new index is written in the directory that resolution pinned.
    static func stage(
        _ rebuild: IndexRebuild, index: ResolvedPath, source sourceFile: ResolvedPath, table: EditedTableSource,
        newSourceBytes: () -> [UInt8], warnings: inout [String], meanwhile: () -> Bool
    ) throws(IndexError) -> StagedFile {
        guard case .nativeIndex(let method) = rebuild.delivery else {
            while meanwhile() {}
            let bytes = newSourceBytes()
            let source: TableSource
            do {
                source = try TableSource(path: rebuild.sourcePath, bytes: bytes, utf8Checks: rebuild.source.utf8Checks)
            } catch {
                throw .unreadable(path: rebuild.displayIndexPath, cause: error)
            }
            return try PostmapIndex.stage(
                rebuild, index: index, source: sourceFile, sourceBytes: bytes, expected: source.storedRecords(), warnings: &warnings)
        }
        return try NativeIndex.stage(rebuild, index: index, source: sourceFile, method: method, table: table, meanwhile: meanwhile)
    }
}
