// Assertions.swift: golden files and "nothing was written" checks.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What identifies one version of a file: inode, size, mtime (ns), mode, owner.
public struct FileStamp: Equatable, Sendable, CustomStringConvertible {
    public var inode: UInt64
    public var size: Int64
    public var modified: Int64
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var contents: [UInt8]

    public init(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        inode = UInt64(st.st_ino)
        // A directory's size and mtime change when apply creates and
        // removes its lock file there; its entries are compared one by one.
        let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        size = isDirectory ? 0 : Int64(st.st_size)
        modified = isDirectory ? 0 : Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        mode = st.st_mode
        uid = st.st_uid
        gid = st.st_gid
        contents = (st.st_mode & S_IFMT) == S_IFREG ? try readBytes(path) : []
    }

    public var description: String { "inode \(inode) size \(size) mtime \(modified) mode \(String(mode, radix: 8))" }
}

/// Every file below `root` with its stamp.
public func treeStamps(_ root: String) throws -> [String: FileStamp] {
    var stamps: [String: FileStamp] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        // apply's own lock file exists only while an apply runs (another
        // test checks that it is gone afterwards).
        if relative.hasSuffix(".postfix-tls-fix.lock") { continue }
        stamps[relative] = try FileStamp(root + "/" + relative)
    }
    return stamps
}

/// Runs `body` and expects no file below `root` to be created, removed or changed.
public func expectUnchanged(_ root: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
    let before = try treeStamps(root)
    try body()
    let after = try treeStamps(root)
    #expect(after == before, "files changed below \(root)", sourceLocation: sourceLocation)
}

/// Compares with Tests/Fixtures/golden/NAME. With UPDATE_GOLDEN=1 in the
/// environment the golden file is (re)written instead; review its diff.
public func expectGolden(_ actual: [UInt8], _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let path = fixturesDirectory + "/golden/" + name
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(atPath: fixturesDirectory + "/golden", withIntermediateDirectories: true)
        try Data(actual).write(to: URL(fileURLWithPath: path))
        return
    }
    let expected = try readBytes(path)
    #expect(actual == expected, "output differs from \(name):\n\(String(decoding: actual, as: UTF8.self))", sourceLocation: sourceLocation)
}
