// IndexIntegrity.swift: detects a truncated index. When a .db is cut at a page
// boundary libdb opens it without complaint and reads the missing pages as
// empty, so a lookup silently misses records. The metadata page at offset 0
// records the last page number (the generic DBMETA header shared by hash and
// btree: last_pgno is the 32-bit field at byte 32), which tells how long the
// file must be.

import FileSafety
import SystemPackage

enum IndexIntegrity {
    static func checkNotTruncated(_ database: BerkeleyDatabase, fd: FileDescriptor, size: Int64) throws {
        let lastPageNumberOffset = 32
        var header = [UInt8](repeating: 0, count: lastPageNumberOffset + 4)
        let count: Int
        do {
            count = try header.withUnsafeMutableBytes {
                try fd.read(fromAbsoluteOffset: 0, into: $0)
            }
        } catch {
            throw FileSafetyError.systemCallFailed(
                operation: "read the metadata page of", path: database.path,
                errno: error as? Errno ?? .ioError)
        }
        // libdb has already validated the metadata page, so it is there.
        guard count == header.count else { return }
        var lastPage = header[lastPageNumberOffset...].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        // The file is in the writer's byte order; ours is little-endian.
        if try database.isByteSwapped() { lastPage = lastPage.byteSwapped }
        let expectedSize = (Int64(lastPage) + 1) * Int64(try database.pageSize())
        if size < expectedSize {
            throw HashMapError.truncated(path: database.path, size: size, expectedSize: expectedSize)
        }
    }
}
