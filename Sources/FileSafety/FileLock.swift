// FileLock.swift: flock(2) locks on an existing file. Postfix's postmap takes
// LOCK_EX on the .db it rebuilds and its daemons take LOCK_SH around lookups,
// so taking the same kind of lock lets us cooperate with them instead of
// racing them.

import Glibc
import Synchronization
import SystemPackage

public struct FileLock: Sendable {
    /// The path the lock was taken on.
    public let path: String
    private let holder: Holder

    /// Takes an exclusive lock on `path`, waiting for it when `wait` is true
    /// and otherwise failing at once with FileSafetyError.lockBusy.
    public static func exclusive(path: String, wait: Bool) throws -> FileLock {
        try FileLock(path: path, operation: LOCK_EX, wait: wait)
    }

    /// Takes a shared lock on `path`, the lock Postfix readers take.
    public static func shared(path: String, wait: Bool) throws -> FileLock {
        try FileLock(path: path, operation: LOCK_SH, wait: wait)
    }

    /// Takes the lock Postfix's edit_file(3) protocol uses to serialize
    /// writers of `path` (postconf -e on main.cf, postconf -Me on master.cf):
    /// an exclusive flock on "<path>.tmp", created mode 0600 when missing.
    /// Waits as postconf does. Like postconf, it starts over when the file
    /// was renamed or removed while it waited, and removes a leftover that
    /// is not an empty 0600 regular file with one link (a crashed writer's
    /// output). release() removes "<path>.tmp" before unlocking, which is
    /// what a waiting postconf expects of a finished writer. Our own new
    /// version of `path` goes through AtomicFile as usual.
    public static func postfixEdit(of path: String) throws -> FileLock {
        let lockPath = path + ".tmp"
        while true {
            let fd: FileDescriptor
            do {
                fd = try FileDescriptor.open(
                    lockPath, .writeOnly, options: [.create, .noFollow, .closeOnExec],
                    permissions: [.ownerReadWrite])
            } catch {
                throw FileSafetyError.systemCallFailed(
                    operation: "open the postconf lock file", path: lockPath, errno: error as? Errno ?? .ioError)
            }
            do {
                _ = try SystemCalls.flock(fd, operation: LOCK_EX, path: lockPath)
                var opened = stat()
                var named = stat()
                guard fstat(fd.rawValue, &opened) == 0 else {
                    throw FileSafetyError.systemCallFailed(operation: "stat", path: lockPath, errno: Errno(rawValue: errno))
                }
                if lstat(lockPath, &named) != 0 || opened.st_dev != named.st_dev || opened.st_ino != named.st_ino {
                    try? fd.close()
                    continue  // another writer finished with it meanwhile
                }
                if (named.st_mode & S_IFMT) != S_IFREG || named.st_size > 0 || named.st_nlink > 1
                    || (named.st_mode & 0o777) != 0o600
                {
                    try SystemCalls.unlinkIfPresent(lockPath)
                    try? fd.close()
                    continue
                }
            } catch {
                try? fd.close()
                throw error
            }
            return FileLock(path: lockPath, holder: Holder(fd, removeOnRelease: lockPath))
        }
    }

    private init(path: String, holder: Holder) {
        self.path = path
        self.holder = holder
    }

    private init(path: String, operation: Int32, wait: Bool) throws {
        // O_NOFOLLOW: lock the file itself, not whatever a link points to;
        // callers resolve links first when they mean the target.
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .closeOnExec])
        } catch {
            throw FileSafetyError.systemCallFailed(
                operation: "open", path: path, errno: error as? Errno ?? .ioError)
        }
        do {
            guard try SystemCalls.flock(fd, operation: operation | (wait ? 0 : LOCK_NB), path: path) else {
                throw FileSafetyError.lockBusy(path: path)
            }
        } catch {
            try? fd.close()
            throw error
        }
        self.path = path
        self.holder = Holder(fd)
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
