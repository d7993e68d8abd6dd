// ApplyTransaction+Commit.swift: the steps that write: stage every new file
// beside its target, make backups, commit through the journal, and check
// that every target is now the staged file (steps 7-10 of ApplyTransaction).

import FileSafety
import PostconfModel

#if canImport(Glibc)
import Glibc
#endif

extension ApplyTransaction {
    /// Stages every target. Whatever happens before the commit point, the
    /// old files stay and no temporary file is left (release() discards).
    mutating func stageFiles() throws(ApplyError) {
        for target in targets where staged[target.path] == nil {
            guard target.role == .index else {
                staged[target.path] = try stageSource(target)
                continue
            }
            let rebuild = plan.rebuilds.first { $0.indexPath == target.path }!
            if let source = targets.first(where: { $0.path == rebuild.sourcePath && $0.role == .tableSource }), staged[source.path] == nil {
                try stageIndexWithSource(rebuild, index: target, source: source)
            } else {
                staged[target.path] = try stageIndex(rebuild) { false }
            }
        }
        FaultInjection.point("apply: staged and verified")
    }

    /// A file that is not a rebuilt table's source: its new bytes whole.
    private func stageSource(_ target: WriteTarget) throws(ApplyError) -> StagedFile {
        do {
            let change = plan.changes.first { $0.path == target.path }!
            return try AtomicFile.stage(
                replacing: located(target.path, display: target.display), contents: change.newBytes, metadataForNewFile: nil)
        } catch {
            throw .writeFailed(path: target.display, cause: error)
        }
    }

    private mutating func stageIndex(_ planned: IndexRebuild, meanwhile: () -> Bool) throws(ApplyError) -> StagedFile {
        // libdb and postmap open what they are given by name: give them
        // the files the resolver found, not the names that led there.
        var rebuild = planned
        let index = try located(planned.indexPath, display: planned.displayIndexPath)
        let source = try located(planned.sourcePath, display: planned.displayIndexPath)
        rebuild.indexPath = index.path
        rebuild.sourcePath = source.path
        rebuild.configDirectory = canonicalDirectory
        let newSourceBytes = { [plan] in plan.changes.first { $0.path == planned.sourcePath }?.newBytes ?? rebuild.source.text.bytes }
        var warnings: [String] = []
        defer { postmapWarnings += warnings.map { (rebuild.displayIndexPath, rebuild.reference.description, $0) } }
        do {
            return try IndexBuilder.stage(
                rebuild, index: index, source: source, table: EditedTableSource(planned), newSourceBytes: newSourceBytes,
                warnings: &warnings, meanwhile: meanwhile)
        } catch {
            throw .index(error)
        }
    }

    /// A rebuilt table's changed source is written while libdb builds its
    /// index, a piece whenever libdb has enough records waiting.
    private mutating func stageIndexWithSource(_ rebuild: IndexRebuild, index: WriteTarget, source: WriteTarget) throws(ApplyError) {
        let file: FileBeingStaged
        do {
            file = try AtomicFile.begin(replacing: located(source.path, display: source.display), metadataForNewFile: nil)
        } catch {
            throw .writeFailed(path: source.display, cause: error)
        }
        var writer = EditedTableSource.PieceWriter(table: EditedTableSource(rebuild), fd: file.descriptor, path: file.temporaryPath)
        var writeFailure: ApplyError?
        staged[index.path] = try stageIndex(rebuild) {
            do throws(ApplyError) {
                return try writer.writeNextPiece()
            } catch {
                writeFailure = error
                return false
            }
        }
        // Pieces stageIndex left (none, unless it failed first).
        while writeFailure == nil, try writer.writeNextPiece() {}
        if let writeFailure { throw writeFailure }
        do {
            staged[source.path] = try file.finish()
        } catch {
            throw .writeFailed(path: source.display, cause: error)
        }
    }

    /// The staged files in commit order.
    private var commitOrder: [(file: StagedFile, target: WriteTarget)] {
        targets.map { (file: staged[$0.path]!, target: $0) }
    }

    mutating func makeBackups() throws(ApplyError) {
        guard let suffix = writeOptions.backupSuffix else { return }
        for (file, target) in commitOrder {
            do {
                if let backup = try AtomicFile.backUp(replacedBy: file, suffix: suffix) { backups.append(backup) }
            } catch {
                throw .cannotBackUp(path: target.display, cause: error)
            }
        }
    }

    /// Read-only inputs (main.cf when not written, sources of rebuilt
    /// indexes) are checked here; targets by the journal's commit.
    mutating func commit() throws(ApplyError) {
        let order = commitOrder
        let targetPaths = Set(order.map(\.file.targetPath))
        for (path, input) in inputs where !targetPaths.contains(path) {
            let now = input.place.map { try? $0.identity() } ?? (try? FileIdentity.of(path: path))
            guard now == input.identity else { throw .changedMeanwhile(path: input.display) }
        }
        do {
            lateChanges = try journal.commit(order.map { ($0.file, inputs[$0.file.targetPath]?.identity ?? nil) })
        } catch {
            if case .targetChanged(let path) = error {
                throw .changedMeanwhile(path: order.first { $0.file.targetPath == path }?.target.display ?? path)
            }
            if case .openForWriting(let path, let users) = error {
                throw .openForWriting(path: order.first { $0.file.targetPath == path }?.target.display ?? path, by: users)
            }
            if case .commitInterrupted(_, let completed, _) = error {
                committed = true
                for (file, target) in order where completed.contains(file.targetPath) { recordReplaced(target) }
                throw .interrupted(cause: error, done: partialReport)
            }
            throw .writeFailed(path: configuration.displayPath(journal.path), cause: error)
        }
        committed = true
    }

    mutating func verifyCommitted() throws(ApplyError) {
        let order = commitOrder
        for (_, target) in order { recordReplaced(target) }
        if !lateChanges.isEmpty {
            let changes = lateChanges.map { change in
                var shown = change
                shown.targetPath = order.first { $0.file.targetPath == change.targetPath }?.target.display ?? change.targetPath
                shown.keptPath = change.keptPath.map { $0.isEmpty ? "" : configuration.displayPath($0) }
                return shown
            }
            throw .changedWhileReplaced(changes: changes, done: partialReport)
        }
        for (file, target) in order {
            guard let now = try? file.targetIdentity(), now.isSameFile(as: file.stagedIdentity) else {
                throw .replacedMeanwhile(path: target.display, done: partialReport)
            }
        }
    }

    private mutating func recordReplaced(_ target: WriteTarget) {
        if target.role == .index {
            replaced.indexes.append(target.display)
        } else {
            replaced.files.append(target.display)
        }
        replacedTargets.append(target)
    }

    /// What an apply stopped after its commit point did: the files it
    /// replaced, and whether those need a reload (main.cf, master.cf, and
    /// tables read at start-up do; an index does not).
    private var partialReport: ApplyReport {
        var done = report
        done.complete = false
        let indexedSources = Set(plan.rebuilds.map(\.sourcePath))
        done.reloadNeeded = replacedTargets.contains { target in
            target.role == .postfixConfig || (target.role == .tableSource && !indexedSources.contains(target.path))
        }
        return done
    }
}
