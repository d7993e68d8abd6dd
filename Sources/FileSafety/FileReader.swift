// FileReader.swift: reads configuration files whole, or compares them with
// what was read before, refusing anything that is not a regular file. Every
// read of the tool goes through here, so that what counts as a file to read
// is decided in one place: the file is opened without blocking (a FIFO in
// place of main.cf or a table would otherwise hold a root run, and its
// locks, for ever) and its type checked on the descriptor, not on the name.

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
        let (fd, st) = try open(path)
        defer { close(fd) }
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
    /// `flags` are added to open's (O_NOFOLLOW for a file whose links a
    /// resolution has followed already).
    public static func holds(_ path: String, _ expected: [UInt8], flags: Int32 = 0) throws(FileSafetyError) -> Bool {
        let (fd, _) = try openRegularFile(path, flags: O_RDONLY | flags)
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

    /// Opens a regular file for reading (links followed) and returns its
    /// descriptor with its status; see openRegularFile.
    private static func open(_ path: String) throws(FileSafetyError) -> (Int32, stat) {
        try openRegularFile(path, flags: O_RDONLY)
    }

    /// Opens `path` with `flags` (plus O_CLOEXEC) the way every input and
    /// index is opened: O_NONBLOCK, so that opening a FIFO (or a device)
    /// returns at once instead of waiting for a writer; the type checked
    /// with fstat on the descriptor, so that what was checked is what is
    /// read; then O_NONBLOCK cleared again for ordinary reads. Anything but
    /// a regular file is refused (notRegularFile).
    public static func openRegularFile(_ path: String, flags: Int32) throws(FileSafetyError) -> (Int32, stat) {
        let fd = Glibc.open(path, flags | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", path) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let error = failure("examine", path)
            close(fd)
            throw error
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .notRegularFile(path: path)
        }
        guard fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0 else {
            let error = failure("open", path)
            close(fd)
            throw error
        }
        return (fd, st)
    }

    /// Refuses `path` (links followed) unless it is a regular file, without
    /// blocking on a FIFO: for files another program opens by name next
    /// (postmap), which a FIFO would hang.
    public static func requireRegularFile(_ path: String) throws(FileSafetyError) {
        let (fd, _) = try openRegularFile(path, flags: O_RDONLY)
        close(fd)
    }

    private static func failure(_ operation: String, _ path: String) -> FileSafetyError {
        .systemCallFailed(operation: operation, path: path, errno: Errno(rawValue: errno))
    }
}
