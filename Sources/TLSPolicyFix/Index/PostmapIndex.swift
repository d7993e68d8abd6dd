// PostmapIndex.swift: stages an index that Postfix's own postmap builds
// (lmdb:, cdb:, or a hash: table that Postfix 3.11 redirects), with the same
// guarantees as the indexes the tool writes itself: built beside the target
// from a temporary copy of the new source, read back and compared with that
// source, and only then ready to be renamed into place.

import FileSafety
import Glibc
import HashMap
import PostconfModel
import PostfixTools

enum PostmapIndex {
    static func stage(
        _ rebuild: IndexRebuild, index: ResolvedPath, source sourceFile: ResolvedPath, sourceBytes: [UInt8],
        expected: [[UInt8]: [UInt8]], warnings: inout [String]
    ) throws(IndexError) -> StagedFile {
        guard case .postmapIndex(let type, let suffix) = rebuild.delivery else {
            preconditionFailure("not a postmap-built index")
        }
        let configDirectory = rebuild.configDirectory
        var postmapWarnings: [String] = []
        defer { warnings += postmapWarnings }
        do {
            let sourceMetadata = try sourceFile.metadata()
            return try AtomicFile.stage(
                replacing: index, metadataForNewFile: IndexWriter.postmapNewIndexMetadata(source: sourceMetadata)
            ) { file in
                // postmap TYPE:FILE writes FILE<suffix>: build from a temporary
                // source (owned like the real one, since postmap runs as the
                // source's owner) and move the result onto the staged path.
                // postmap, another process, is given names; this process
                // moves and removes its output through the pinned directory.
                let source = try AtomicFile.stage(replacing: sourceFile, contents: sourceBytes, metadataForNewFile: nil)
                defer { source.discard() }
                let built = source.pinnedTemporaryPath + suffix
                defer { unlink(built) }
                let build = try Postmap.run(["\(type):\(source.temporaryPath)"], configDirectory: configDirectory, timeout: Postmap.buildTimeout)
                let readBack = try Postmap.indexHolds(expected, type: type, path: source.temporaryPath, configDirectory: configDirectory)
                guard readBack.holds else { throw PostfixToolError.wrongResult("the new index does not read back as its source") }
                // Name the table, not the temporary copy postmap read.
                for warning in build.warnings + readBack.warnings {
                    let named = warning.split(separator: source.temporaryPath, omittingEmptySubsequences: false).joined(separator: rebuild.sourcePath)
                    if !postmapWarnings.contains(named) { postmapWarnings.append(named) }
                }
                guard rename(built, file.pinnedTemporaryPath) == 0 else {
                    throw PostfixToolError.systemCallFailed(
                        operation: "cannot rename \(source.temporaryPath + suffix) to \(file.temporaryPath)", errno: errno)
                }
            }
        } catch {
            throw .unreadable(path: rebuild.displayIndexPath, cause: error)
        }
    }
}
