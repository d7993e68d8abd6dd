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

        init(_ fd: FileDescriptor) { descriptor = Mutex(fd) }

        func release() {
            let fd = descriptor.withLock { stored -> FileDescriptor? in
                defer { stored = nil }
                return stored
            }
            try? fd?.close()
        }

        deinit { release() }
    }
}
