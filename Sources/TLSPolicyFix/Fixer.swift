// Fixer.swift: carries out a FixPlan without ever leaving a half-done
// configuration behind.
//
// The steps, in order (the README's "Safety" section says what a crash at
// each one leaves):
//  1. Lock the configuration directory (one apply at a time) and complete an
//     apply that a crash interrupted after its commit point (CommitJournal).
//  2. Inspect, and refuse what WritePolicy forbids, before writing anything.
//  3. Take the locks of Postfix's own writers: postconf's (main.cf.tmp,
//     master.cf.tmp) for the Postfix files, postmap's (flock on the index)
//     for each index. Re-read every input and stop when one changed.
//  4. Stage every new file beside its target, synced, with the old owner
//     and mode. An index is built from the plan's parse of its source (see
//     EditedTableSource) and read back; its changed source is written
//     meanwhile, each piece parsed again and checked against the records
//     the index holds.
//  5. Backups, if asked for.
//  6. Commit through the journal: indexes first (Postfix reads only these,
//     so the fix is live at the first rename and no index ever disagrees
//     with what it was built from), then table sources, then main.cf, then
//     master.cf (those two need a reload, which comes after).
//  7. Check that every target is now the staged file.
// Any failure before the commit point leaves every file as it was.

import FileSafety
import HashMap
import PostconfModel

#if canImport(Glibc)
import Glibc
#endif

/// What apply did.
public struct ApplyReport: Sendable {
    public var inspection: Inspection
    /// Files replaced, as display paths.
    public var writtenFiles: [String] = []
    /// Indexes rebuilt, as display paths.
    public var rebuiltIndexes: [String] = []
    /// Backups made (--backup), as paths.
    public var backups: [String] = []
    /// Files an interrupted earlier apply had not yet replaced, replaced now.
    public var completedFromInterruptedApply: [String] = []
    /// Files an interrupted earlier apply would have replaced but that were
    /// edited since; left as they are (this run planned from them).
    public var abandonedFromInterruptedApply: [String] = []
    /// Temporary files of killed earlier runs that were removed.
    public var removedTemporaryFiles: [String] = []
    public var reloadNeeded: Bool { inspection.plan.reloadNeeded }
}

public enum Fixer {
    /// The journal of an apply in its commit phase, in the configuration directory.
    public static let journalName = ".postfix-tls-fix.journal"

    /// Inspects the configuration under the directory lock and carries out
    /// the plan. Refuses (writing nothing) when the configuration has errors,
    /// when the Postfix version cannot send SNI, or when WritePolicy forbids
    /// a write.
    public static func apply(
        directory: String, root: String? = nil, options: FixOptions, writeOptions: WriteOptions = WriteOptions()
    ) throws(ConfigurationError) -> ApplyReport {
        guard let canonicalDirectory = WritePolicy.canonicalPath(ConfigurationLocation(directory: directory, root: root).directory) else {
            throw .unreadable(path: directory, reason: String(cString: strerror(errno)))
        }
        let lock: FileLock
        do {
            lock = try FileLock.exclusive(path: canonicalDirectory, wait: true)
        } catch {
            throw .unreadable(path: directory, reason: "cannot lock: \(error)")
        }
        defer { lock.release() }
        FaultInjection.point("apply: directory locked")

        // What a killed earlier run may have left: a journal to complete,
        // and postconf lock files (removed the way postconf itself expects).
        let journal = CommitJournal(path: joinPath(canonicalDirectory, journalName))
        let postfixLockFiles = ["main.cf", "master.cf"].map { joinPath(canonicalDirectory, $0) }.filter { pathExists($0 + ".tmp") }
        var recovery = JournalRecovery()
        if pathExists(journal.path) || !postfixLockFiles.isEmpty {
            try WritePolicy.checkDirectory(canonicalDirectory, display: directory)
        }
        if pathExists(journal.path) {
            do {
                recovery = try journal.recover { target in try writerLocks(for: target, in: canonicalDirectory) } ?? recovery
            } catch {
                throw .applyInterrupted(reason: "cannot complete the earlier apply: \(error)")
            }
        }
        for file in postfixLockFiles {
            (try? FileLock.postfixEdit(of: file))?.release()
        }

        let configuration = try Configuration.load(directory: directory, root: root)
        let inspection = try Inspector.inspect(configuration, options: options)
        var report = ApplyReport(inspection: inspection)
        report.completedFromInterruptedApply = recovery.completed
        report.abandonedFromInterruptedApply = recovery.abandoned
        let errors = inspection.findings { $0 == .error }
        if !errors.isEmpty { throw .refusedBecauseOfErrors(errors) }
        if inspection.plan.addsServername {
            guard let version = options.postfixVersion else {
                throw .postfixVersionUnknown(reason: "not given")
            }
            if version < PostfixVersion.sniSupport { throw .postfixTooOld(version) }
        }
        let plan = inspection.plan
        if plan.isEmpty { return report }

        let targets = writeTargets(plan, configuration: configuration)
        try WritePolicy.checkDirectory(canonicalDirectory, display: directory)
        try WritePolicy.check(targets, configDirectory: canonicalDirectory, options: writeOptions)
        // An existing index is replaced only when it is what main.cf says it
        // is: never clobber a file the tool cannot read as that database
        // (another format, a truncated or foreign file). Before the locks:
        // the probe takes postmap's shared lock itself.
        for rebuild in plan.rebuilds where pathExists(rebuild.indexPath) {
            guard case .nativeIndex(let method) = rebuild.delivery else { continue }
            do {
                _ = try IndexFile.lookup(path: rebuild.indexPath, method: method, key: Array("postfix-tls-fix-probe".utf8))
            } catch {
                throw .refused(path: rebuild.displayIndexPath, reason: "the existing index is not a readable \(method.rawValue) database (\(error)); move it away if it is not needed, then run apply again")
            }
        }
        for path in targets.map(\.path) + targets.compactMap(\.sourcePath) + [journal.path] {
            report.removedTemporaryFiles += (try? AbandonedTemporaryFiles.remove(beside: path)) ?? []
        }

        var inputs: [String: (identity: FileIdentity?, display: String)] = [:]
        var locks: [FileLock] = []
        defer { locks.forEach { $0.release() } }
        // postconf's locks first: waiting for a postconf must not hold the
        // index locks, which Postfix daemons need (shared) to open tables.
        for target in targets.filter({ $0.role == .postfixConfig }) + targets.filter({ $0.role != .postfixConfig }) {
            do {
                locks += try writerLocks(for: resolveSymlinks(target.path), in: canonicalDirectory)
                FaultInjection.point("apply: writer locked")
            } catch {
                throw .writeFailed(path: target.display, reason: "cannot lock: \(error)")
            }
        }
        for rebuild in plan.rebuilds {
            let resolved = (try? resolveSymlinks(rebuild.indexPath)) ?? rebuild.indexPath
            inputs[resolved] = ((try? FileIdentity.of(path: resolved)) ?? nil, rebuild.displayIndexPath)
        }
        FaultInjection.point("apply: writers locked")

        // What the plan was computed from must still be there, now that no
        // cooperating writer can change it; editors are caught by the
        // identity check just before the commit.
        func checkInput(_ path: String, display: String, expected: [UInt8]) throws(ConfigurationError) {
            let resolved: String
            let identity: FileIdentity?
            do {
                resolved = try resolveSymlinks(path)
                identity = try FileIdentity.of(path: resolved)
            } catch {
                throw .unreadable(path: display, reason: "\(error)")
            }
            inputs[resolved] = (identity, display)
            defer { FaultInjection.point("apply: input read") }
            guard try fileHolds(resolved, expected) else { throw changedMeanwhile(display) }
        }
        try checkInput(configuration.mainCf.path, display: configuration.displayPath(configuration.mainCf.path), expected: configuration.mainCf.text.bytes)
        for change in plan.changes where change.path != configuration.mainCf.path {
            try checkInput(change.path, display: change.displayPath, expected: change.original.bytes)
        }
        for rebuild in plan.rebuilds where !plan.changes.contains(where: { $0.path == rebuild.sourcePath }) {
            try checkInput(rebuild.sourcePath, display: configuration.displayPath(rebuild.sourcePath), expected: rebuild.source.text.bytes)
        }
        // The rebuilt tables as the plan leaves them.
        var tables: [String: EditedTableSource] = [:]
        for rebuild in plan.rebuilds where tables[rebuild.sourcePath] == nil {
            if let change = plan.changes.first(where: { $0.path == rebuild.sourcePath }) {
                tables[rebuild.sourcePath] = try EditedTableSource(source: rebuild.source, change: change)
            } else {
                tables[rebuild.sourcePath] = EditedTableSource(source: rebuild.source)
            }
        }
        FaultInjection.point("apply: inputs read")

        // Stage every target. Whatever happens before the commit point, the
        // old files stay and no temporary file is left.
        var stagedFiles: [String: StagedFile] = [:]
        defer { stagedFiles.values.forEach { $0.discard() } }
        func stageSource(_ target: WriteTarget) throws(ConfigurationError) -> StagedFile {
            // (A rebuilt table's changed source is written with its index, below.)
            do {
                let change = plan.changes.first { $0.path == target.path }!
                return try AtomicFile.stage(replacing: target.path, contents: change.newBytes, metadataForNewFile: nil)
            } catch {
                throw .writeFailed(path: target.display, reason: "\(error)")
            }
        }
        for target in targets where stagedFiles[target.path] == nil {
            guard target.role == .index else {
                stagedFiles[target.path] = try stageSource(target)
                continue
            }
            let rebuild = plan.rebuilds.first { $0.indexPath == target.path }!
            let table = tables[rebuild.sourcePath]!
            guard let sourceTarget = targets.first(where: { $0.path == rebuild.sourcePath && $0.role == .tableSource }),
                  stagedFiles[sourceTarget.path] == nil
            else {
                stagedFiles[target.path] = try stageIndex(rebuild, table: table, plan: plan) { false }
                continue
            }
            // The changed source is written while libdb builds the index,
            // a piece whenever libdb has enough records waiting.
            let source: FileBeingStaged
            do {
                source = try AtomicFile.begin(replacing: sourceTarget.path, metadataForNewFile: nil)
            } catch {
                throw .writeFailed(path: sourceTarget.display, reason: "\(error)")
            }
            var writer = EditedTableSource.PieceWriter(table: table, fd: source.descriptor, path: source.temporaryPath)
            var writeFailure: ConfigurationError?
            stagedFiles[target.path] = try stageIndex(rebuild, table: table, plan: plan) {
                do throws(ConfigurationError) {
                    return try writer.writeNextPiece()
                } catch {
                    writeFailure = error
                    return false
                }
            }
            do {
                // Pieces stageIndex left (none, unless it failed first).
                while writeFailure == nil, try writer.writeNextPiece() {}
                if let writeFailure { throw writeFailure }
                stagedFiles[sourceTarget.path] = try source.finish()
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw .writeFailed(path: sourceTarget.display, reason: "\(error)")
            }
        }
        // In commit order.
        let staged = targets.map { (file: stagedFiles[$0.path]!, target: $0) }
        FaultInjection.point("apply: staged and verified")

        var backups: [String] = []
        var committed = false
        defer { if !committed { backups.forEach { _ = unlink($0) } } }
        if let suffix = writeOptions.backupSuffix {
            for (file, target) in staged where pathExists(file.targetPath) {
                do {
                    backups.append(try AtomicFile.backUp(file.targetPath, suffix: suffix))
                } catch {
                    throw .writeFailed(path: target.display, reason: "cannot back it up: \(error)")
                }
            }
        }

        // Read-only inputs (main.cf when not written, sources of rebuilt
        // indexes) are checked here; targets by the journal's commit.
        let targetPaths = Set(staged.map(\.file.targetPath))
        for (path, input) in inputs where !targetPaths.contains(path) {
            guard (try? FileIdentity.of(path: path)) == input.identity else { throw changedMeanwhile(input.display) }
        }
        do {
            try journal.commit(staged.map { ($0.file, inputs[$0.file.targetPath]?.identity ?? nil) })
        } catch {
            if case .targetChanged(let path) = error {
                throw changedMeanwhile(staged.first { $0.file.targetPath == path }?.target.display ?? path)
            }
            if case .commitInterrupted = error {
                committed = true
                throw .applyInterrupted(reason: "\(error)")
            }
            throw .writeFailed(path: configuration.displayPath(journal.path), reason: "\(error)")
        }
        committed = true
        report.backups = backups

        for (file, target) in staged {
            guard let now = try? FileIdentity.of(path: file.targetPath), now.isSameFile(as: file.stagedIdentity) else {
                throw .applyInterrupted(reason: "\(target.display) was replaced by another program right after this one wrote it")
            }
            if target.role == .index {
                report.rebuiltIndexes.append(target.display)
            } else {
                report.writtenFiles.append(target.display)
            }
        }
        return report
    }

    /// The files the plan replaces, in commit order: indexes, table sources,
    /// main.cf, master.cf.
    static func writeTargets(_ plan: FixPlan, configuration: Configuration) -> [WriteTarget] {
        let masterCf = joinPath(configuration.directory, "master.cf")
        let indexes = plan.rebuilds.map { rebuild in
            let sourceSize = plan.changes.first { $0.path == rebuild.sourcePath }?.newByteCount ?? fileSize(rebuild.sourcePath)
            // A hash or btree index of a small table is a few pages; a
            // large one about three times its source.
            return WriteTarget(
                path: rebuild.indexPath, display: rebuild.displayIndexPath, role: .index,
                sourcePath: rebuild.sourcePath, estimatedSize: 3 * sourceSize + 65536)
        }
        var sources: [WriteTarget] = []
        var postfixFiles: [WriteTarget] = []
        for change in plan.changes {
            let isPostfixFile = change.path == configuration.mainCf.path || change.path == masterCf
            let target = WriteTarget(
                path: change.path, display: change.displayPath, role: isPostfixFile ? .postfixConfig : .tableSource,
                sourcePath: nil, estimatedSize: change.newByteCount)
            if isPostfixFile { postfixFiles.append(target) } else { sources.append(target) }
        }
        postfixFiles.sort { ($0.path == masterCf ? 1 : 0) < ($1.path == masterCf ? 1 : 0) }
        return indexes.sorted { $0.path < $1.path } + sources + postfixFiles
    }

    /// The locks Postfix's own writers of `resolvedTarget` take: postconf's
    /// edit lock for main.cf and master.cf, postmap's exclusive flock on an
    /// existing index (any other existing file gets the same flock, which
    /// nothing else takes and which costs nothing).
    static func writerLocks(for resolvedTarget: String, in canonicalDirectory: String) throws -> [FileLock] {
        let target = canonicalFile(resolvedTarget)
        for name in ["main.cf", "master.cf"] {
            let postfixFile = joinPath(canonicalDirectory, name)
            if target != nil, canonicalFile(try resolveSymlinks(postfixFile)) == target {
                // postconf locks "<config_directory>/main.cf.tmp", links or not.
                return [try FileLock.postfixEdit(of: postfixFile)]
            }
        }
        guard pathExists(resolvedTarget) else { return [] }
        return [try FileLock.exclusive(path: resolvedTarget, wait: true)]
    }

    /// The path with its directory made canonical (realpath) and its last
    /// component kept: the same file however it was reached.
    static func canonicalFile(_ path: String) -> String? {
        let (directory, name) = WritePolicy.split(path)
        return WritePolicy.canonicalPath(directory).map { joinPath($0, name) }
    }

    static func changedMeanwhile(_ display: String) -> ConfigurationError {
        .writeFailed(path: display, reason: "changed by another program while apply was running; run apply again")
    }

    static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Builds an index of the table as the plan leaves it into a staged file
    /// and reads it back. postmap builds lmdb: and cdb: indexes from a
    /// file, so those get the new source's bytes, parsed for the records the
    /// index must hold.
    static func stageIndex(
        _ rebuild: IndexRebuild, table: EditedTableSource, plan: FixPlan, meanwhile: () -> Bool
    ) throws(ConfigurationError) -> StagedFile {
        guard case .nativeIndex(let method) = rebuild.delivery else {
            while meanwhile() {}
            let bytes = plan.changes.first { $0.path == rebuild.sourcePath }?.newBytes ?? rebuild.source.text.bytes
            let source: TableSource
            do {
                source = try TableSource(path: rebuild.sourcePath, bytes: bytes, utf8Checks: rebuild.source.utf8Checks)
            } catch {
                throw .invalid(error)
            }
            return try PostmapIndex.stage(rebuild, sourceBytes: bytes, expected: source.storedRecords())
        }
        return try NativeIndex.stage(rebuild, method: method, table: table, meanwhile: meanwhile)
    }
}
