// ApplyTransaction.swift: carries out a FixPlan without ever leaving a
// half-done configuration behind. The steps, in order, each a method below
// (docs/safety.md says what a crash at each one leaves):
//  1. lockDirectory: one apply at a time per configuration directory.
//  2. completeInterruptedApply: finish an apply that a crash interrupted
//     after its commit point (CommitJournal); remove postconf's lock files.
//  3. planUnderLock: load, inspect and plan again, now that no other apply
//     runs; refuse errors and an unknown or too old Postfix.
//  4. checkWritePolicy, checkExistingIndexes: refuse what WritePolicy
//     forbids, and indexes that are not the database main.cf says, before
//     writing anything; remove temporary files of killed runs.
//  5. lockWriters: the locks of Postfix's own writers: postconf's
//     (main.cf.tmp, master.cf.tmp) for the Postfix files, postmap's (flock
//     on the index) for each index.
//  6. checkInputsUnchanged: every input still holds what was planned from.
//  7. stageFiles: every new file beside its target, synced, with the old
//     owner and mode. An index is built from the plan's parse of its source
//     (EditedTableSource) and read back; its changed source is written
//     meanwhile, each piece parsed again and checked against the records the
//     index holds.
//  8. makeBackups, if asked for.
//  9. commit through the journal: indexes first (Postfix reads only these,
//     so the fix is live at the first rename and no index ever disagrees
//     with what it was built from), then table sources, then main.cf, then
//     master.cf (those two need a reload, which comes after).
// 10. verifyCommitted: every target is now the staged file.
// Any failure before the commit point leaves every file as it was.

import FileSafety
import HashMap
import PostconfModel

#if canImport(Glibc)
import Glibc
#endif

public struct ApplyTransaction {
    /// The journal of an apply in its commit phase, in the configuration directory.
    public static let journalName = ".postfix-tls-fix.journal"

    let location: ConfigurationLocation
    let options: FixOptions
    let writeOptions: WriteOptions
    /// Resolves every path of this run, inside the root, once: loading,
    /// the write checks, the locks and the writes all see the same files.
    let resolver: PathResolver
    /// The configuration directory with symbolic links resolved.
    var canonicalDirectory = ""
    /// The configuration directory as resolved, held open: its lock files
    /// and the journal are opened, created and removed through it.
    var configDirectory: PinnedDirectory?
    /// The journal's place in the configuration directory as resolved.
    var journalPlace: ResolvedPath?
    var directoryLock: FileLock?
    var writerLocks: [FileLock] = []
    /// Targets another program changed while they were replaced.
    var lateChanges: [LateChange] = []
    var recovery = JournalRecovery()
    var preview: Preview?
    var targets: [WriteTarget] = []
    /// What each input (by resolved path) was when planned from.
    var inputs: [String: (identity: FileIdentity?, display: String, place: ResolvedPath?)] = [:]
    /// Staged files by target path.
    var staged: [String: StagedFile] = [:]
    /// Backups made, removed (in their pinned directories) when the apply
    /// fails before its commit point.
    var backups: [KeptCopy] = []
    var committed = false
    var removedTemporaryFiles: [String] = []
    var replaced: (files: [String], indexes: [String]) = ([], [])
    var replacedTargets: [WriteTarget] = []
    /// postmap's warnings while building, by index display path.
    var postmapWarnings: [(index: String, table: String, warning: String)] = []

    /// Locks, plans and carries out the plan; see the steps above.
    static func run(_ location: ConfigurationLocation, options: FixOptions, writeOptions: WriteOptions) throws(FixError) -> ApplyReport {
        var transaction = ApplyTransaction(
            location: location, options: options, writeOptions: writeOptions, resolver: PathResolver(root: location.root))
        defer { transaction.release() }
        return try transaction.carryOut()
    }

    mutating func carryOut() throws(FixError) -> ApplyReport {
        try lockDirectory()
        try completeInterruptedApply()
        try planUnderLock()
        removeAbandonedTemporaryFiles()
        if !plan.isEmpty {
            do throws(ApplyError) {
                try checkWritePolicy()
                try checkExistingIndexes()
                try lockWriters()
                try checkInputsUnchanged()
                try stageFiles()
                try makeBackups()
                try commit()
                try verifyCommitted()
            } catch {
                throw .apply(error)
            }
        }
        return report
    }

    var plan: FixPlan { preview!.plan }
    var configuration: Configuration { preview!.configuration }

    var report: ApplyReport {
        var report = ApplyReport(inspection: preview!.inspection, plan: plan)
        report.completedFromInterruptedApply = recovery.completed
        report.abandonedFromInterruptedApply = recovery.abandoned
        report.removedTemporaryFiles = removedTemporaryFiles
        report.warnings = postmapWarnings.map {
            Finding(.note, .postmapWarning, at: SourceLocation(path: $0.index), subject: $0.table, "postmap: \($0.warning)")
        }
        report.backups = committed ? backups.map(\.path) : []
        (report.writtenFiles, report.rebuiltIndexes) = replaced
        return report
    }

    /// Undoes what a failure before the commit point leaves: backups made,
    /// staged files; then releases every lock. After the commit point the
    /// staged files not yet renamed stay: the journal names them, and the
    /// next apply completes the change with them.
    mutating func release() {
        if !committed {
            backups.forEach { $0.remove() }
            staged.values.forEach { $0.discard() }
        }
        writerLocks.forEach { $0.release() }
        directoryLock?.release()
    }
}

// MARK: - The steps

extension ApplyTransaction {
    var journal: CommitJournal {
        journalPlace.map { CommitJournal(at: $0, resolver: resolver) } ?? CommitJournal(path: joinPath(canonicalDirectory, Self.journalName))
    }

    /// `path` as the resolver resolved it (links followed once, inside the
    /// root), a name in the directory the resolution pinned: every step
    /// after the plan reads and writes there.
    func located(_ path: String, display: String) throws(ApplyError) -> ResolvedPath {
        do {
            return try resolver.resolve(path)
        } catch {
            throw .unresolvable(path: display, cause: error)
        }
    }

    /// main.cf and master.cf as resolved, for the locks postconf takes.
    var postfixFiles: [String] {
        ["main.cf", "master.cf"].map { name in
            (try? resolver.resolve(joinPath(location.directory, name)).path) ?? joinPath(canonicalDirectory, name)
        }
    }

    mutating func lockDirectory() throws(FixError) {
        do {
            let directory = try resolver.directory(location.directory)
            configDirectory = directory
            canonicalDirectory = directory.path
            journalPlace = try resolver.resolve(joinPath(location.directory, Self.journalName))
        } catch {
            throw .apply(.unreadable(path: location.directory, reason: LoadError.reason(error)))
        }
        do {
            // Not the directory itself, which anyone may open and flock:
            // a file only this user can open, removed when released.
            directoryLock = try FileLock.ownLockFile(
                joinPath(canonicalDirectory, WriteTarget.applyLockName), through: configDirectory?.pinnedPath(of: WriteTarget.applyLockName),
                timeout: options.lockTimeout)
        } catch {
            throw .apply(.cannotLockDirectory(path: location.directory, cause: error))
        }
        FaultInjection.point("apply: directory locked")
    }

    /// What a killed earlier run may have left: a journal to complete, and
    /// postconf lock files (removed the way postconf itself expects).
    mutating func completeInterruptedApply() throws(FixError) {
        let journal = self.journal
        let postfixLockFiles = ["main.cf", "master.cf"].filter { configDirectory?.contains($0 + ".tmp") ?? false }
        do throws(ApplyError) {
            if journal.exists || !postfixLockFiles.isEmpty {
                try checkConfigurationDirectory()
            }
            if journal.exists {
                let (directory, postfixFiles, timeout, resolver) = (configDirectory!, self.postfixFiles, options.lockTimeout, resolver)
                do {
                    recovery =
                        try journal.recover { target in
                            try WriteTarget.writerLocks(
                                for: (try? resolver.resolve(target)) ?? ResolvedPath.resolving(target), postfixFiles: postfixFiles, in: directory,
                                timeout: timeout)
                        } ?? recovery
                } catch {
                    throw .recoveryFailed(cause: error)
                }
            }
        } catch {
            throw .apply(error)
        }
        for name in postfixLockFiles {
            let file = joinPath(canonicalDirectory, name)
            (try? FileLock.postfixEdit(of: file, through: configDirectory?.pinnedPath(of: name), timeout: options.lockTimeout))?.release()
        }
    }

    mutating func planUnderLock() throws(FixError) {
        let configuration: Configuration
        do {
            configuration = try Configuration.load(
                location, files: DiskFiles(resolver: resolver, lockTimeout: options.lockTimeout), defaults: options.parameterDefaults)
        } catch {
            throw .load(error)
        }
        preview = try Pipeline.preview(configuration, options: options, for: .apply)
    }

    mutating func checkWritePolicy() throws(ApplyError) {
        targets = WriteTarget.of(plan, configuration: configuration)
        try checkConfigurationDirectory()
        try WritePolicy.check(targets, configDirectory: canonicalDirectory, options: writeOptions, resolver: resolver)
    }

    func checkConfigurationDirectory() throws(ApplyError) {
        do {
            try WritePolicy.checkDirectory(try resolver.resolve(location.directory), display: location.directory)
        } catch let error as ApplyError {
            throw error
        } catch {
            throw .unresolvable(path: location.directory, cause: error)
        }
    }

    /// An existing index is replaced only when it is what main.cf says it
    /// is: never clobber a file the tool cannot read as that database
    /// (another format, a truncated or foreign file). Before the locks: the
    /// probe takes postmap's shared lock itself.
    func checkExistingIndexes() throws(ApplyError) {
        for rebuild in plan.rebuilds where resolver.exists(rebuild.indexPath) {
            guard case .nativeIndex(let method) = rebuild.delivery else { continue }
            let indexPath = try located(rebuild.indexPath, display: rebuild.displayIndexPath).path
            do {
                _ = try IndexFile.lookup(path: indexPath, method: method, key: Array("postfix-tls-fix-probe".utf8), lockTimeout: options.lockTimeout)
            } catch {
                throw .notADatabase(path: rebuild.displayIndexPath, type: method.rawValue, cause: error)
            }
        }
    }

    mutating func removeAbandonedTemporaryFiles() {
        let paths = preview!.inspection.writableFiles + targets.map(\.path) + targets.compactMap(\.sourcePath)
        var places = paths.compactMap { try? resolver.resolve($0) } + (journalPlace.map { [$0] } ?? [])
        places = Dictionary(places.map { ($0.path, $0) }) { first, _ in first }.values.sorted { $0.path < $1.path }
        for place in places where Self.onlyOwnersCanRename(in: place.directories) {
            removedTemporaryFiles += (try? AbandonedTemporaryFiles.remove(beside: place)) ?? []
        }
    }

    /// Whether every directory from a file's up to / (as its resolution
    /// pinned them) belongs to root or to this user and no one else may
    /// rename in it (not writable by group or others, unless sticky):
    /// removing by name is then removing what was listed. Elsewhere a
    /// killed run's leftovers stay (check names them).
    static func onlyOwnersCanRename(in directories: [PinnedDirectory]) -> Bool {
        directories.allSatisfy { directory in
            (directory.mode & S_IFMT) == S_IFDIR && (directory.owner == 0 || directory.owner == geteuid())
                && (directory.mode & (S_IWGRP | S_IWOTH) == 0 || directory.mode & S_ISVTX != 0)
        }
    }

    /// postconf's locks first: waiting for a postconf must not hold the
    /// index locks, which Postfix daemons need (shared) to open tables.
    mutating func lockWriters() throws(ApplyError) {
        for target in targets.filter({ $0.role == .postfixConfig }) + targets.filter({ $0.role != .postfixConfig }) {
            do {
                writerLocks += try WriteTarget.writerLocks(
                    for: located(target.path, display: target.display), postfixFiles: postfixFiles, in: configDirectory!,
                    timeout: options.lockTimeout)
                FaultInjection.point("apply: writer locked")
            } catch {
                throw .cannotLock(path: target.display, cause: error)
            }
        }
        for rebuild in plan.rebuilds {
            let place = try? resolver.resolve(rebuild.indexPath)
            inputs[place?.path ?? rebuild.indexPath] = ((try? place?.identity()) ?? nil, rebuild.displayIndexPath, place)
        }
        FaultInjection.point("apply: writers locked")
    }

    /// What the plan was computed from must still be there, now that no
    /// cooperating writer can change it; editors are caught by the identity
    /// check just before the commit.
    mutating func checkInputsUnchanged() throws(ApplyError) {
        let mainCf = configuration.mainCf
        try checkInput(mainCf.path, display: configuration.displayPath(mainCf.path), expected: mainCf.text.bytes)
        for change in plan.changes where change.path != mainCf.path {
            try checkInput(change.path, display: change.displayPath, expected: change.original.bytes)
        }
        for rebuild in plan.rebuilds where !plan.changes.contains(where: { $0.path == rebuild.sourcePath }) {
            try checkInput(rebuild.sourcePath, display: configuration.displayPath(rebuild.sourcePath), expected: rebuild.source.text.bytes)
        }
        FaultInjection.point("apply: inputs read")
    }

    mutating func checkInput(_ path: String, display: String, expected: [UInt8]) throws(ApplyError) {
        let place: ResolvedPath
        let identity: FileIdentity?
        do {
            place = try resolver.resolve(path)
            identity = try place.identity()
        } catch {
            throw .inputUnreadable(path: display, cause: error)
        }
        inputs[place.path] = (identity, display, place)
        defer { FaultInjection.point("apply: input read") }
        let same: Bool
        do {
            same = try place.holds(expected)
        } catch {
            throw .unreadable(path: place.path, reason: LoadError.reason(error))
        }
        guard same else { throw .changedMeanwhile(path: display) }
    }
}
