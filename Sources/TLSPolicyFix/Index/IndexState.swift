// IndexState.swift: whether an existing index holds exactly what postmap
// would build from its source today: for the indexes the tool writes, a
// digest of the .db against one of the source; for postmap's, what postmap
// itself lists (or looks up, for cdb).

import HashMap
import PostconfModel
import PostfixTools

enum IndexState {
    /// Whether the index is current, and what postmap warned while reading it.
    static func isCurrent(_ table: IndexedTable, lockTimeout: Duration) throws(IndexError) -> (current: Bool, warnings: [String]) {
        switch table.delivery {
        case .nativeIndex(let method):
            do {
                return (try NativeIndex.matches(indexPath: table.indexPath, method: method, source: table.source, lockTimeout: lockTimeout), [])
            } catch {
                throw .unreadable(path: table.displayIndexPath, cause: error)
            }
        case .postmapIndex(let type, _):
            do {
                let readBack = try Postmap.indexHolds(
                    table.source.storedRecords(), type: type, path: table.sourcePath, configDirectory: table.configDirectory)
                return (readBack.holds, readBack.warnings)
            } catch {
                throw .postmapFailed(path: table.displayIndexPath, cause: error)
            }
        case .readAtStart:
            return (true, [])
        }
    }
}
