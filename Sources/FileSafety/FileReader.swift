// FileReader.swift: reads configuration files whole, or compares them with
// what was read before, refusing anything that is not a regular file. Every
// read of the tool goes through here, so that what counts as a file to read
// is decided in one place.

import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

public enum FileReader {
    /// Whether a path exists (without following a final symlink, so a
    /// dangling link counts as existing and is reported when read).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// The file's bytes. Refuses what is not a regular file.
    public static func bytes(of path: String) throws(FileSafetyError) -> [UInt8] {
        let fd = try open(path)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure("examine", path) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notRegularFile(path: path) }
        // Read straight into uninitialized storage (zero-filling first costs
        // more than the read in debug builds), with one byte more than the size
        // so that a full buffer means the file grew meanwhile: then read again
        // with more room.
        var capacity = Int(st.st_size) + 1
        while true {
            var failure: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                count = 0
                while count < capacity {
                    let n = pread(fd, buffer.baseAddress! + count, capacity - count, off_t(count))
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return
                    }
                    if n == 0 { return }
                    count += n
                }
            }
            if failure != 0 { throw .systemCallFailed(operation: "read", path: path, errno: Errno(rawValue: failure)) }
            if bytes.count < capacity { return bytes }
            capacity *= 2
        }
    }

    /// Whether the file holds exactly `expected`, read in pieces (a large
    /// table is not read into memory a second time).
    public static func holds(_ path: String, _ expected: [UInt8]) throws(FileSafetyError) -> Bool {
        let fd = try open(path)
        defer { close(fd) }
        let pieceSize = 1 << 20
        var offset = 0
        var failure: Int32 = 0
        let same = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: pieceSize) { piece in
            expected.withUnsafeBytes { expected in
                while true {
                    let n = pread(fd, piece.baseAddress!, pieceSize, off_t(offset))
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return false
                    }
                    if n == 0 { return offset == expected.count }
                    guard offset + n <= expected.count, memcmp(piece.baseAddress!, expected.baseAddress! + offset, n) == 0 else { return false }
                    offset += n
                }
            }
        }
        if failure != 0 { throw .systemCallFailed(operation: "read", path: path, errno: Errno(rawValue: failure)) }
        return same
    }

    private static func open(_ path: String) throws(FileSafetyError) -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", path) }
        return fd
    }

    private static func failure(_ operation: String, _ path: String) -> FileSafetyError {
        .systemCallFailed(operation: operation, path: path, errno: Errno(rawValue: errno))
    }
}
