// FileReading.swift: reads a whole file as bytes, with an error that names
// the file and says why (the kind of message an admin can act on).

import PostconfModel

#if canImport(Glibc)
import Glibc
#endif

/// Whether a path exists (without following a final symlink, so a dangling
/// link counts as existing and is reported when read).
func pathExists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

/// The file's bytes. Refuses what is not a regular file.
func readFileBytes(_ path: String) throws(ConfigurationError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, reason: "not a regular file") }
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
        if failure != 0 { throw .unreadable(path: path, reason: String(cString: strerror(failure))) }
        if bytes.count < capacity { return bytes }
        capacity *= 2
    }
}

/// Whether the file holds exactly `expected`, read in pieces (a large table
/// is not read into memory a second time).
func fileHolds(_ path: String, _ expected: [UInt8]) throws(ConfigurationError) -> Bool {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
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
    if failure != 0 { throw .unreadable(path: path, reason: String(cString: strerror(failure))) }
    return same
}

/// Reads a configuration file and parses it; a parse error keeps the file
/// and line it names, any other failure names the file.
func parseFile<Parsed>(_ path: String, _ parse: ([UInt8]) throws(ConfigFileError) -> Parsed) throws(ConfigurationError) -> Parsed {
    let bytes = try readFileBytes(path)
    do {
        return try parse(bytes)
    } catch {
        throw .invalid(error)
    }
}
