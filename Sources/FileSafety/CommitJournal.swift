// CommitJournal.swift: replaces several files as one change that a crash
// cannot leave half done for good.
//
// Each file's rename is atomic, but a set of renames is not. So before the
// first rename, the list of (staged temporary file, target) pairs is written
// to a journal file, atomically like everything else: that write is the
// commit point. The renames follow in the caller's order, then the journal
// is removed. A process killed before the commit point leaves the old files
// plus temporary files (removed by AbandonedTemporaryFiles); one killed after
// it leaves a journal, and recover() completes the remaining renames, since
// every staged file was complete and synced before the journal was written.
// recover() never overwrites a target that changed after the crash (an
// administrator's edit): it then drops the rest of the change instead.

import Glibc

/// One file of a journaled commit.
public struct JournalEntry: Sendable, Equatable {
    public var temporaryPath: String
    public var targetPath: String
    /// What was at the target when the commit was decided; nil: nothing.
    public var replacedIdentity: FileIdentity?
    /// The staged file, which the target is once renamed.
    public var stagedIdentity: FileIdentity
}

/// What recover() did with an interrupted commit.
public struct JournalRecovery: Sendable, Equatable {
    /// Targets it renamed into place now.
    public var completed: [String] = []
    /// Targets an earlier run had already replaced.
    public var alreadyReplaced: [String] = []
    /// Targets it left alone because they changed after the interruption
    /// (their staged versions were removed).
    public var abandoned: [String] = []

    public init() {}
}

public struct CommitJournal: Sendable {
    /// The journal file.
    public let path: String
    /// Where the journal is written, read and removed: the directory a
    /// run resolved (and locked and checked) once.
    private let place: ResolvedPath?
    /// The run's resolver: the journal names its files inside the run's
    /// root (format 2), so that it is completed wherever the root is
    /// mounted next time, or from inside it; nil: paths on this machine.
    private let resolver: PathResolver?

    /// The journal at `path`, resolved once, when first needed.
    public init(path: String) {
        self.path = path
        place = nil
        resolver = nil
    }

    /// The journal at a place the caller's run resolved, with `resolver`.
    public init(at place: ResolvedPath, resolver: PathResolver? = nil) {
        path = place.path
        self.place = place
        self.resolver = resolver
    }

    /// Where the journal is, and its name there.
    private func location() throws(FileSafetyError) -> (directory: PinnedDirectory, name: String) {
        let resolved: ResolvedPath
        if let place { resolved = place } else { resolved = try ResolvedPath.resolving(path) }
        return (resolved.directory, try resolved.fileName())
    }

    /// Whether there is a journal (of an interrupted commit).
    public var exists: Bool {
        guard let journal = try? location() else { return false }
        return (try? journal.directory.status(of: journal.name)) != nil
    }

    /// Replaces each staged file's target, in the given order, as one
    /// journaled change. `expected` is each target's identity when its old
    /// contents were read (nil: it did not exist): if any target differs now,
    /// nothing is replaced and targetChanged is thrown. An error before the
    /// journal is written also leaves every target as it was; one after it
    /// is commitInterrupted, and recover() completes the change.
    ///
    /// A writer that changes a target between its last check and its rename
    /// (an editor appending through a descriptor it had open) changes the
    /// old file, which the rename takes out of the tree. Each old file is
    /// held open across the renames and looked at afterwards: one that
    /// changed is kept beside its target (LateChange), so that nothing is
    /// lost, and returned for the caller to report.
    @discardableResult
    public func commit(_ files: [(file: StagedFile, expected: FileIdentity?)]) throws(FileSafetyError) -> [LateChange] {
        var entries: [JournalEntry] = []
        for (file, expected) in files {
            let current = try file.targetIdentity()
            guard current == expected else { throw .targetChanged(path: file.targetPath) }
            entries.append(
                JournalEntry(
                    temporaryPath: file.temporaryPath, targetPath: file.targetPath,
                    replacedIdentity: current, stagedIdentity: file.stagedIdentity))
        }
        let journal = try location()
        if try journal.directory.status(of: journal.name) != nil {
            throw .journalInvalid(path: path, reason: "a journal already exists; recover() must run first")
        }
        // A waiting postmap holds the old index open for writing and would
        // rebuild the new one by name as soon as the locks are released.
        let writers = OpenWriters.of(entries.compactMap(\.replacedIdentity))
        for entry in entries {
            if let users = entry.replacedIdentity.flatMap({ writers[$0.key] }) {
                throw .openForWriting(path: entry.targetPath, by: users)
            }
        }
        let oldFiles = zip(files, entries).map { OldFile(of: $0.file, identity: $1.replacedIdentity) }
        defer { for old in oldFiles { old.close() } }
        do {
            let journal = try AtomicFile.stage(
                replacing: place ?? ResolvedPath.resolving(path), contents: encodeForRecovery(entries),
                metadataForNewFile: FileMetadata(mode: 0o600, uid: geteuid(), gid: getegid()))
            try journal.commit()
        } catch let error as FileSafetyError {
            throw error
        } catch {
            throw .systemCallFailed(operation: "write the journal", path: path, errno: .ioError)
        }
        FaultInjection.point("journal: written (commit point)")
        var completed: [String] = []
        for (file, _) in files {
            do {
                try file.commit()
            } catch {
                throw .commitInterrupted(journal: path, completed: completed, cause: "\(error)")
            }
            completed.append(file.targetPath)
        }
        // Every file is replaced: a failure now must not read as "nothing
        // replaced". recover() finds them all in place and removes the journal.
        do {
            try removeJournal()
        } catch {
            throw .commitInterrupted(journal: path, completed: completed, cause: "\(error)")
        }
        FaultInjection.point("journal: removed")
        // Writers that came after the look above, at the old file or at the new.
        let lateWriters = OpenWriters.of(entries.flatMap { [$0.replacedIdentity, $0.stagedIdentity].compactMap { $0 } })
        return zip(oldFiles, entries).compactMap { old, entry in
            let users = [entry.replacedIdentity, entry.stagedIdentity].compactMap { $0.flatMap { lateWriters[$0.key] } }.joined()
            return old.lateChange(writers: Array(users))
        }
    }

    /// Completes a commit that was interrupted after its commit point, if
    /// the journal says there is one; nil when there is none. `lock` is
    /// called with each target before it is looked at and returns the locks
    /// that keep other writers of it out (held until recover returns).
    public func recover(lock: (String) throws -> [FileLock]) throws -> JournalRecovery? {
        guard let bytes = try readJournal() else { return nil }
        var (entries, insideRoot) = try CommitJournal.decodeNamingRoot(bytes, path: path)
        // The targets' directories are resolved once, here; each check and
        // rename below works in the directory found.
        let targets = insideRoot ? resolver ?? PathResolver(root: nil) : PathResolver(root: nil)
        if insideRoot {
            for index in entries.indices {
                entries[index].targetPath = targets.pathOnThisMachine(insideRoot: entries[index].targetPath)
                entries[index].temporaryPath = targets.pathOnThisMachine(insideRoot: entries[index].temporaryPath)
            }
        }
        var locks: [FileLock] = []
        defer { locks.forEach { $0.release() } }
        for entry in entries { locks += try lock(entry.targetPath) }

        var recovery = JournalRecovery()
        var pending: [(entry: JournalEntry, place: RecoveryPlace)] = []
        for entry in entries {
            let place = try RecoveryPlace(entry, resolver: targets)
            let staged = try place.directory.identity(of: place.temporaryName)
            let target = try place.directory.identity(of: place.targetName)
            if let staged, staged.isSameFile(as: entry.stagedIdentity) {
                pending.append((entry, place))
            } else if let target, target.isSameFile(as: entry.stagedIdentity) {
                recovery.alreadyReplaced.append(entry.targetPath)
            } else {
                recovery.abandoned.append(entry.targetPath)
            }
        }
        // All or nothing for what is left: one target edited since the
        // crash means the change no longer applies to what is there.
        var unchanged = try pending.allSatisfy { try $0.place.directory.identity(of: $0.place.targetName) == $0.entry.replacedIdentity }
        for (entry, place) in pending {
            // Again right before each rename: an editor may have come since.
            // Those before it are then new, it and the rest old: each file
            // whole, as a crash at this rename would leave them.
            if unchanged, try place.directory.identity(of: place.targetName) != entry.replacedIdentity { unchanged = false }
            if unchanged {
                try place.directory.rename(place.temporaryName, to: place.targetName)
                try place.directory.sync()
                FaultInjection.point("recover: renamed")
                recovery.completed.append(entry.targetPath)
            } else {
                try place.directory.unlinkIfPresent(place.temporaryName)
                recovery.abandoned.append(entry.targetPath)
            }
        }
        try removeJournal()
        return recovery
    }

    private func removeJournal() throws(FileSafetyError) {
        let journal = try location()
        try journal.directory.unlinkIfPresent(journal.name)
        try journal.directory.sync()
        FaultInjection.point("journal: removed")
    }

    /// The journal's bytes, nil when there is none. Only a regular file that
    /// belongs to us and that nobody else may write is trusted: its contents
    /// decide what gets renamed where. Opened without blocking: a FIFO in
    /// its place is refused below instead of holding apply (and its lock)
    /// in open(2) for ever; a regular file reads the same either way.
    private func readJournal() throws(FileSafetyError) -> [UInt8]? {
        let journal = try location()
        let fd = journal.directory.open(journal.name, O_RDONLY | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw .systemCallFailed(operation: "open the journal", path: path, errno: .init(rawValue: code))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw .systemCallFailed(operation: "stat", path: path, errno: .init(rawValue: errno))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .journalInvalid(path: path, reason: "not a regular file") }
        guard st.st_uid == geteuid(), st.st_mode & 0o022 == 0 else {
            throw .journalInvalid(path: path, reason: "it belongs to another user, or others may write it")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw .systemCallFailed(operation: "read", path: path, errno: .init(rawValue: errno))
            }
            if count == 0 { break }
            bytes += buffer[..<count]
        }
        return bytes
    }

    // MARK: format
    // "postfix-tls-fix journal 1", then per entry: temporary path, target
    // path, replaced identity ("-" for none), staged identity, then "end";
    // every field NUL-terminated (paths may hold any byte but NUL).

    static let header = "postfix-tls-fix journal 1"
    /// The same format, its paths inside the run's root.
    static let headerInsideRoot = "postfix-tls-fix journal 2"

    /// The journal's bytes: paths inside the root (format 2) when the
    /// journal has the run's resolver and every path is below its root.
    func encodeForRecovery(_ entries: [JournalEntry]) throws(FileSafetyError) -> [UInt8] {
        guard let resolver else { return CommitJournal.encode(entries) }
        var inside = entries
        for index in inside.indices {
            guard let target = try resolver.pathInsideRoot(inside[index].targetPath),
                let temporary = try resolver.pathInsideRoot(inside[index].temporaryPath)
            else { return CommitJournal.encode(entries) }
            (inside[index].targetPath, inside[index].temporaryPath) = (target, temporary)
        }
        var bytes = CommitJournal.encode(inside)
        bytes.replaceSubrange(0..<Self.header.utf8.count, with: Self.headerInsideRoot.utf8)
        return bytes
    }

    /// decode(), and whether the paths are inside a root (format 2).
    static func decodeNamingRoot(_ bytes: [UInt8], path: String) throws(FileSafetyError) -> ([JournalEntry], insideRoot: Bool) {
        let second = Array(headerInsideRoot.utf8) + [0]
        guard bytes.starts(with: second) else { return (try decode(bytes, path: path), false) }
        var first = bytes
        first.replaceSubrange(0..<header.utf8.count, with: header.utf8)
        return (try decode(first, path: path), true)
    }

    static func encode(_ entries: [JournalEntry]) -> [UInt8] {
        var fields = [header]
        for entry in entries {
            fields += [
                entry.temporaryPath, entry.targetPath,
                entry.replacedIdentity.map(encode) ?? "-", encode(entry.stagedIdentity),
            ]
        }
        fields.append("end")
        return fields.flatMap { Array($0.utf8) + [0] }
    }

    static func encode(_ identity: FileIdentity) -> String {
        "\(identity.device) \(identity.inode) \(identity.size) \(identity.modified) \(identity.changed)"
    }

    static func decode(_ bytes: [UInt8], path: String) throws(FileSafetyError) -> [JournalEntry] {
        var fields = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard fields.last == "" else { throw .journalInvalid(path: path, reason: "it does not end with a NUL") }
        fields.removeLast()
        guard fields.first == header, fields.last == "end", (fields.count - 2) % 4 == 0 else {
            throw .journalInvalid(path: path, reason: "not a postfix-tls-fix journal, or a truncated one")
        }
        var entries: [JournalEntry] = []
        var index = 1
        while index + 4 <= fields.count - 1 {
            let (temporary, target) = (fields[index], fields[index + 1])
            guard target.hasPrefix("/"), TemporaryName.isTemporary(temporary, for: target) else {
                throw .journalInvalid(path: path, reason: "entry \(entries.count + 1) does not pair a temporary file with its target")
            }
            let replaced = fields[index + 2] == "-" ? nil : decodeIdentity(fields[index + 2])
            guard let staged = decodeIdentity(fields[index + 3]), fields[index + 2] == "-" || replaced != nil else {
                throw .journalInvalid(path: path, reason: "entry \(entries.count + 1) has a malformed file identity")
            }
            entries.append(JournalEntry(temporaryPath: temporary, targetPath: target, replacedIdentity: replaced, stagedIdentity: staged))
            index += 4
        }
        return entries
    }

    static func decodeIdentity(_ text: String) -> FileIdentity? {
        let parts = text.split(separator: " ")
        guard parts.count == 5, let device = UInt64(parts[0]), let inode = UInt64(parts[1]),
            let size = Int64(parts[2]), let modified = Int64(parts[3]), let changed = Int64(parts[4])
        else { return nil }
        return FileIdentity(device: device, inode: inode, size: size, modified: modified, changed: changed)
    }
}

/// What another program did to a target while apply replaced it.
public struct LateChange: Sendable, Equatable {
    public var targetPath: String
    /// Where the old version is kept when its bytes changed after they were
    /// checked ("" when it could not be kept); nil when they did not.
    public var keptPath: String?
    /// Other processes that had the old or the new file open for writing
    /// during the renames: a postmap among them rebuilds the new file by
    /// name from the source as it read it.
    public var writers: [FileUser]
}

/// Where an entry of an interrupted commit is: its target's directory,
/// resolved once, and the two names in it (decode() checked that the
/// temporary file is the target's sibling).
private struct RecoveryPlace {
    let directory: PinnedDirectory
    let targetName: String
    let temporaryName: String

    init(_ entry: JournalEntry, resolver: PathResolver) throws(FileSafetyError) {
        let (parent, name) = TemporaryName.split(entry.targetPath)
        directory = try resolver.directory(parent)
        targetName = name
        temporaryName = TemporaryName.split(entry.temporaryPath).name
    }
}

/// A replaced file, held open across the renames.
private struct OldFile {
    let directory: PinnedDirectory
    let targetName: String
    let targetPath: String
    let identity: FileIdentity?
    let descriptor: Int32

    init(of staged: StagedFile, identity: FileIdentity?) {
        directory = staged.directory
        targetName = staged.targetName
        targetPath = staged.targetPath
        self.identity = identity
        descriptor = identity == nil ? -1 : staged.openTarget()
    }

    func close() { if descriptor >= 0 { _ = Glibc.close(descriptor) } }

    /// What happened to the old file during the renames, or nil when
    /// nothing did. When its bytes changed after they were checked it is
    /// kept as TARGET.changed-during-apply (.1, .2, ... when taken). A
    /// rename changes only its link count and ctime, so size and mtime tell
    /// a writer.
    func lateChange(writers: [FileUser]) -> LateChange? {
        var change = LateChange(targetPath: targetPath, keptPath: nil, writers: writers)
        if descriptor >= 0, let identity {
            var st = stat()
            let now = fstat(descriptor, &st) == 0 ? FileIdentity(st) : nil
            if let now, now.size != identity.size || now.modified != identity.modified {
                change.keptPath =
                    (try? AtomicFile.keepCopy(of: descriptor, in: directory, named: targetName, suffix: ".changed-during-apply").path) ?? ""
            }
        }
        return change.keptPath == nil && writers.isEmpty ? nil : change
    }
}
