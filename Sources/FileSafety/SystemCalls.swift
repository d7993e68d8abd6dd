// SystemCalls.swift: throwing wrappers for the few POSIX calls swift-system
// 1.8.1 does not offer (fsync, fchown, fchmod, unlink, flock, readlink). They read errno immediately after the call, before anything
// else can overwrite it, and turn it into a FileSafetyError naming the path.

import Glibc
import SystemPackage

enum SystemCalls {
    /// Runs `body` until it stops failing with EINTR, returning its result or
    /// throwing the errno it failed with.
    static func retrying(_ body: () -> Int32) -> Errno? {
        while true {
            if body() == 0 { return nil }
            let code = Errno(rawValue: errno)
            if code != .interrupted { return code }
        }
    }

    static func fsync(_ fd: FileDescriptor, path: String) throws(FileSafetyError) {
        if let code = retrying({ Glibc.fsync(fd.rawValue) }) {
            throw .systemCallFailed(operation: "fsync", path: path, errno: code)
        }
    }

    static func fchown(_ fd: FileDescriptor, uid: UInt32, gid: UInt32, path: String) throws(FileSafetyError) {
        if let code = retrying({ Glibc.fchown(fd.rawValue, uid, gid) }) {
            throw .systemCallFailed(
                operation: "change the owner of", path: path, errno: code)
        }
    }

    static func fchmod(_ fd: FileDescriptor, mode: UInt32, path: String) throws(FileSafetyError) {
        if let code = retrying({ Glibc.fchmod(fd.rawValue, mode_t(mode)) }) {
            throw .systemCallFailed(
                operation: "change the mode of", path: path, errno: code)
        }
    }

    /// Unlinks `path`; a path that is already gone counts as success, because
    /// every caller only wants it not to exist.
    static func unlinkIfPresent(_ path: String) throws(FileSafetyError) {
        if let code = retrying({ Glibc.unlink(path) }), code != .noSuchFileOrDirectory {
            throw .systemCallFailed(operation: "remove", path: path, errno: code)
        }
    }

    /// flock(2). Returns false instead of throwing when a non-blocking
    /// request finds the lock held, so callers can word that case themselves.
    static func flock(_ fd: FileDescriptor, operation: Int32, path: String) throws(FileSafetyError) -> Bool {
        // Glibc's `flock` name also denotes the fcntl lock struct; the
        // function type picks the function.
        let flockCall: (Int32, Int32) -> Int32 = Glibc.flock(_:_:)
        if let code = retrying({ flockCall(fd.rawValue, operation) }) {
            if code == .wouldBlock { return false }
            throw .systemCallFailed(operation: "lock", path: path, errno: code)
        }
        return true
    }

    /// readlink(2), growing the buffer until the whole target fits (the call
    /// silently truncates when it does not).
    static func readlink(_ path: String) throws(FileSafetyError) -> String {
        var capacity = 256
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let count = Glibc.readlink(path, &buffer, capacity)
            if count < 0 {
                let code = Errno(rawValue: errno)
                if code == .interrupted { continue }
                throw .systemCallFailed(
                    operation: "read the symbolic link", path: path, errno: code)
            }
            if count < capacity {
                let bytes = buffer[..<count].map { UInt8(bitPattern: $0) }
                return String(decoding: bytes, as: UTF8.self)
            }
            capacity *= 2
        }
    }
}
