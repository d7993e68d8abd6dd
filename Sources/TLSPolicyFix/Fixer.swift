// Fixer.swift: carries out a FixPlan without ever leaving a half-done
// configuration behind.
//
// Every new file (source, index, main.cf) is first written next to its target
// and synced; each new index is read back and compared with the source it was
// built from. Only when everything is staged and verified are the files
// renamed into place: indexes first (so the fix is live as soon as Postfix
// sees the first rename), then table sources, then main.cf. A failure before
// the renames leaves every file as it was; concurrent runs are serialized by
// an exclusive lock on the configuration directory.

import FileSafety
import HashMap
import PostconfModel

/// What apply did.
public struct ApplyReport: Sendable {
    public var inspection: Inspection
    /// Files replaced, as display paths.
    public var writtenFiles: [String] = []
    /// Indexes rebuilt, as display paths.
    public var rebuiltIndexes: [String] = []
    public var reloadNeeded: Bool { inspection.plan.reloadNeeded }
}

public enum Fixer {
    /// Inspects the configuration under the directory lock and carries out
    /// the plan. Refuses (writing nothing) when the configuration has errors
    /// or when the Postfix version cannot send SNI.
    public static func apply(directory: String, options: FixOptions) throws(ConfigurationError) -> ApplyReport {
        let lock: FileLock
        do {
            lock = try FileLock.exclusive(path: absolutePath(directory), wait: true)
        } catch {
            throw .unreadable(path: directory, reason: "cannot lock: \(error)")
        }
        defer { lock.release() }

        let configuration = try Configuration.load(directory: directory)
        let inspection = try Inspector.inspect(configuration, options: options)
        var report = ApplyReport(inspection: inspection)
        let errors = inspection.findings.filter { $0.severity == .error }
        if !errors.isEmpty { throw .refusedBecauseOfErrors(errors) }
        if inspection.plan.addsServername {
            guard let version = options.postfixVersion else {
                throw .postfixVersionUnknown(reason: "not given")
            }
            if version < PostfixVersion.sniSupport { throw .postfixTooOld(version) }
        }
        let plan = inspection.plan
        if plan.isEmpty { return report }

        var staged: [(file: StagedFile, display: String, isIndex: Bool)] = []
        // Whatever happens before the renames, the old files stay.
        var committed = false
        defer { if !committed { staged.forEach { $0.file.discard() } } }

        for change in plan.changes {
            do {
                let file = try AtomicFile.stage(replacing: change.path, contents: change.newBytes, metadataForNewFile: nil)
                staged.append((file, change.displayPath, false))
            } catch {
                throw .writeFailed(path: change.displayPath, reason: "\(error)")
            }
        }
        for rebuild in plan.rebuilds {
            let sourceBytes: [UInt8]
            if let change = plan.changes.first(where: { $0.path == rebuild.sourcePath }) {
                sourceBytes = change.newBytes
            } else {
                sourceBytes = try readFileBytes(rebuild.sourcePath)
            }
            staged.append((try stageIndex(rebuild, sourceBytes: sourceBytes), rebuild.displayIndexPath, true))
        }

        do {
            for entry in staged where entry.isIndex {
                try entry.file.commit()
                report.rebuiltIndexes.append(entry.display)
            }
            for entry in staged where !entry.isIndex && entry.file.targetPath != configuration.mainCf.path {
                try entry.file.commit()
                report.writtenFiles.append(entry.display)
            }
            for entry in staged where !entry.isIndex && entry.file.targetPath == configuration.mainCf.path {
                try entry.file.commit()
                report.writtenFiles.append(entry.display)
            }
            committed = true
        } catch {
            throw .writeFailed(path: "rename", reason: "\(error)")
        }
        return report
    }

    /// Builds an index from source bytes into a staged file and reads it
    /// back: the records must be exactly those postmap would build.
    static func stageIndex(_ rebuild: IndexRebuild, sourceBytes: [UInt8]) throws(ConfigurationError) -> StagedFile {
        let source: TableSource
        do {
            source = try TableSource(path: rebuild.sourcePath, bytes: sourceBytes, utf8Checks: rebuild.utf8Checks)
        } catch {
            throw .invalid(error)
        }
        let records = source.entries.map { IndexRecord(key: $0.key, value: $0.value) }
        do {
            let sourceMetadata = try FileMetadata.of(path: rebuild.sourcePath)
            let (staged, _) = try IndexWriter.build(
                records: records, replacing: rebuild.indexPath, method: rebuild.method,
                expectedCount: records.count,
                metadataForNewFile: IndexWriter.postmapNewIndexMetadata(source: sourceMetadata))
            let written = try IndexFile.readAll(path: staged.temporaryPath, method: rebuild.method)
            let expected = source.storedRecords()
            guard written.count == expected.count, written.allSatisfy({ expected[$0.key] == $0.value }) else {
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
