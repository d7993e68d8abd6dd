// FileLock.swift: flock(2) locks. Postfix's postmap takes LOCK_EX on the .db
// it rebuilds and its daemons take LOCK_SH around lookups, so taking the same
// kind of lock lets us cooperate with them instead of racing them.
//
// flock needs nothing but an open descriptor, and any user who can read a
// file can open it: a local user can hold the lock of a world-readable index
// (or directory) for as long as they like. So no wait here is unbounded
// (after `timeout`, lockTimedOut), and apply's own lock is a file only its
// owner can open (ownLockFile), not something others can read. Every file is
// opened without blocking and checked on its descriptor (a FIFO planted in
// its place would otherwise hang the open itself, before any lock).

import Glibc
import Synchronization
import SystemPackage

public struct FileLock: Sendable {
    /// How long a lock is waited for unless the caller says otherwise:
    /// long enough for postmap to rebuild a large table, short enough that
    /// a package hook fails with a message instead of hanging the upgrade.
    public static let defaultTimeout: Duration = .seconds(60)

    /// The path the lock was taken on.
    public let path: String
    private let holder: Holder

    /// Takes an exclusive lock on the regular file `path` (not following a
    /// final symlink), waiting at most `timeout` (.zero: not at all,
    /// lockBusy when held).
    /// `pinned` is the same file through a pinned directory (ResolvedPath's
    /// pinnedPath), which is what is opened when given; `path` names it in
    /// messages.
    public static func exclusive(path: String, through pinned: String? = nil, timeout: Duration) throws(FileSafetyError) -> FileLock {
        try FileLock(path: path, opening: pinned ?? path, operation: LOCK_EX, timeout: timeout)
    }

    /// Takes a shared lock on `path`, the lock Postfix readers take.
    public static func shared(path: String, timeout: Duration) throws(FileSafetyError) -> FileLock {
        try FileLock(path: path, opening: path, operation: LOCK_SH, timeout: timeout)
    }

    private init(path: String, opening: String, operation: Int32, timeout: Duration) throws(FileSafetyError) {
        // O_NOFOLLOW: lock the file itself, not whatever a link points to;
        // callers resolve links first when they mean the target.
        let fd: Int32
        do {
            (fd, _) = try FileReader.openRegularFile(opening, flags: O_RDONLY | O_NOFOLLOW)
        } catch {
            throw error.naming(path)
        }
        let descriptor = FileDescriptor(rawValue: fd)
        do {
            try Self.acquire(descriptor, operation: operation, path: path, deadline: Deadline(timeout))
        } catch {
            try? descriptor.close()
            throw error
        }
        self.path = path
        self.holder = Holder(descriptor)
    }

    /// Takes the exclusive lock of a lock file that only the caller can
    /// open: created mode 0600 when missing (O_NOFOLLOW, never through a
    /// link), and refused without waiting (untrustedLockFile) unless it is
    /// a regular file with one link, owned by the caller, that nobody else
    /// may open. Such a file cannot be held by another user, unless they
    /// could write the directory (which apply, as root, refuses to write).
    /// release() removes it before unlocking; a waiter that then finds its
    /// descriptor no longer names the file starts over, as postconf does
    /// with main.cf.tmp.
    /// Nil where the file cannot be created because nothing can be written
    /// there (a read-only or full file system, a directory this user may
    /// not write): this apply cannot write there either (it stages beside
    /// each target), and the caller's own checks say why.
    ///
    /// `lockFile` is the file in a pinned directory (that directory's
    /// pinnedPath(of:)), which every step opens, checks and removes when
    /// given; `path` names it in messages.
    public static func ownLockFile(_ path: String, through lockFile: String? = nil, timeout: Duration) throws(FileSafetyError) -> FileLock? {
        let opening = lockFile ?? path
        let descriptor = try lockFileLoop(
            path: path, opening: opening, flags: O_RDONLY, deadline: Deadline(timeout),
            cannotOpen: { code throws(FileSafetyError) in
                guard code == EROFS || code == ENOSPC || code == EDQUOT || code == EACCES else {
                    throw .systemCallFailed(operation: "open the lock file", path: path, errno: Errno(rawValue: code))
                }
                return .giveUp
            },
            before: { opened throws(FileSafetyError) in
                if let reason = untrustworthy(opened) { throw .untrustedLockFile(path: path, reason: reason) }
            },
            after: { _ throws(FileSafetyError) in .keep })
        return descriptor.map { FileLock(path: path, holder: Holder($0, removeOnRelease: opening)) }
    }

    /// Why a lock file cannot be trusted to be the caller's own, or nil.
    private static func untrustworthy(_ st: stat) -> String? {
        if (st.st_mode & S_IFMT) != S_IFREG { return "not a regular file" }
        if st.st_uid != geteuid() { return "it belongs to uid \(st.st_uid), not to uid \(geteuid()) running this" }
        if st.st_nlink != 1 { return "it has \(st.st_nlink) links" }
        if st.st_mode & 0o077 != 0 { return "others may open it (mode \(String(st.st_mode & 0o7777, radix: 8)))" }
        return nil
    }

    /// Whether `path` still names the file `opened` describes.
    private static func stillNamed(_ path: String, _ opened: stat) -> Bool {
        var named = stat()
        return lstat(path, &named) == 0 && named.st_dev == opened.st_dev && named.st_ino == opened.st_ino
    }

    /// Takes the lock Postfix's edit_file(3) protocol uses to serialize
    /// writers of `path` (postconf -e on main.cf, postconf -Me on master.cf):
    /// an exclusive flock on "<path>.tmp", created mode 0600 when missing.
    /// Waits as postconf does, but at most `timeout`. Like postconf, it
    /// starts over when the file was renamed or removed while it waited, and
    /// removes a leftover that is not an empty 0600 regular file with one
    /// link (a crashed writer's output; a FIFO there is removed before it
    /// can be waited on). release() removes "<path>.tmp" before unlocking,
    /// which is what a waiting postconf expects of a finished writer. Our
    /// own new version of `path` goes through AtomicFile as usual.
    /// `pinned` is `path` through a pinned directory (its pinnedPath(of:)),
    /// by which the lock file is opened, checked and removed when given.
    public static func postfixEdit(of path: String, through pinned: String? = nil, timeout: Duration = defaultTimeout) throws(FileSafetyError)
        -> FileLock
    {
        let lockPath = path + ".tmp"
        let opening = (pinned ?? path) + ".tmp"
        // O_WRONLY as postconf; O_NONBLOCK (added below): opening a FIFO for
        // writing would wait for a reader.
        let descriptor = try lockFileLoop(
            path: lockPath, opening: opening, flags: O_WRONLY, deadline: Deadline(timeout),
            cannotOpen: { code throws(FileSafetyError) in
                guard code == ENXIO else {  // a FIFO nobody reads: a leftover like any other
                    throw .systemCallFailed(operation: "open the postconf lock file", path: lockPath, errno: Errno(rawValue: code))
                }
                try SystemCalls.unlinkIfPresent(opening)
                return .startOver
            },
            before: { _ throws(FileSafetyError) in },
            after: { held throws(FileSafetyError) in
                // A crashed writer's output, not an idle lock file: remove it.
                guard (held.st_mode & S_IFMT) == S_IFREG, held.st_size == 0, held.st_nlink == 1, (held.st_mode & 0o777) == 0o600 else {
                    try SystemCalls.unlinkIfPresent(opening)
                    return .startOver
                }
                return .keep
            })
        return FileLock(path: lockPath, holder: Holder(descriptor!, removeOnRelease: opening))
    }

    /// What to do next in lockFileLoop.
    private enum Next { case keep, startOver, giveUp }

    /// The protocol both lock files follow: open `opening` (created mode
    /// 0600 when missing, never through a link, without blocking), let
    /// `before` refuse the opened file, take the exclusive lock by
    /// `deadline`, and keep it once `opening` still names that file and
    /// `after` accepts it as it is now; otherwise start over. An open that
    /// fails goes to `cannotOpen`, which throws, starts over or gives up
    /// (nil). `path` names the file in messages.
    private static func lockFileLoop(
        path: String, opening: String, flags: Int32, deadline: Deadline,
        cannotOpen: (Int32) throws(FileSafetyError) -> Next,
        before: (stat) throws(FileSafetyError) -> Void,
        after: (stat) throws(FileSafetyError) -> Next
    ) throws(FileSafetyError) -> FileDescriptor? {
        while true {
            let fd = open(opening, flags | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                if try cannotOpen(errno) == .giveUp { return nil }
                continue
            }
            let descriptor = FileDescriptor(rawValue: fd)
            do throws(FileSafetyError) {
                var opened = stat()
                guard fstat(fd, &opened) == 0 else {
                    throw FileSafetyError.systemCallFailed(operation: "stat", path: path, errno: Errno(rawValue: errno))
                }
                try before(opened)
                try acquire(descriptor, operation: LOCK_EX, path: path, deadline: deadline)
                // Its holder removed it on release (or another writer
                // finished with it) meanwhile: lock the new one.
                guard stillNamed(opening, opened) else {
                    try? descriptor.close()
                    continue
                }
                _ = fstat(fd, &opened)  // as it is now that we hold it
                guard try after(opened) == .keep else {
                    try? descriptor.close()
                    continue
                }
            } catch {
                try? descriptor.close()
                throw error
            }
            return descriptor
        }
    }

    private init(path: String, holder: Holder) {
        self.path = path
        self.holder = holder
    }

    /// The moment a wait gives up.
    struct Deadline {
        let timeout: Duration
        let end: ContinuousClock.Instant

        init(_ timeout: Duration) {
            self.timeout = timeout
            end = ContinuousClock.now.advanced(by: timeout)
        }
    }

    /// flock, retried without blocking until the deadline: a blocking flock
    /// cannot be given a time limit without a signal, and signals are the
    /// process's, not the library's. The pause grows to 100 ms, so a lock
    /// released is noticed quickly and a long wait costs little.
    static func acquire(_ fd: FileDescriptor, operation: Int32, path: String, deadline: Deadline) throws(FileSafetyError) {
        var pause = Duration.milliseconds(2)
        while true {
            if try SystemCalls.flock(fd, operation: operation | LOCK_NB, path: path) { return }
            let left = deadline.end - ContinuousClock.now
            guard left > .zero else {
                throw deadline.timeout == .zero ? .lockBusy(path: path) : .lockTimedOut(path: path, timeout: deadline.timeout)
            }
            let nap = min(pause, left)
            usleep(useconds_t(nap.components.seconds * 1_000_000 + nap.components.attoseconds / 1_000_000_000_000))
            pause = min(pause * 2, .milliseconds(100))
        }
    }

    /// The descriptor the lock is held through, nil after release().
    public var descriptor: FileDescriptor? { holder.descriptor.withLock { $0 } }

    /// Releases the lock by closing its descriptor. Safe to call more than
    /// once, from any copy of the lock; dropping the last copy releases it too.
    public func release() {
        holder.release()
    }

    /// Owns the descriptor, shared by all copies of the struct so that one
    /// release() is final and the lock cannot outlive every copy.
    private final class Holder: Sendable {
        let descriptor: Mutex<FileDescriptor?>
        /// A file removed while the lock is still held, just before unlocking.
        let removeOnRelease: String?

        init(_ fd: FileDescriptor, removeOnRelease: String? = nil) {
            descriptor = Mutex(fd)
            self.removeOnRelease = removeOnRelease
        }

        func release() {
            let fd = descriptor.withLock { stored -> FileDescriptor? in
                defer { stored = nil }
                return stored
            }
            guard let fd else { return }
            if let removeOnRelease { try? SystemCalls.unlinkIfPresent(removeOnRelease) }
            try? fd.close()
        }

        deinit { release() }
    }
}
