// FileIdentity.swift: which version of a file is at a path (device, inode,
// size, modification and change times). Comparing the identity seen before
// reading a file with the one seen just before replacing it detects any
// writer that changed it in between (an editor, postconf -e, postmap), so an
// apply never replaces a file with an edit of an older version.

import Glibc

public struct FileIdentity: Sendable, Hashable, CustomStringConvertible {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    /// st_mtim and st_ctim in nanoseconds.
    public var modified: Int64
    public var changed: Int64

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        changed = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
    }

    public init(device: UInt64, inode: UInt64, size: Int64, modified: Int64, changed: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.changed = changed
    }

    /// The identity of what is at `path` itself (a symbolic link is not
    /// followed), or nil when nothing is there.
    public static func of(path: String) throws(FileSafetyError) -> FileIdentity? {
        var st = stat()
        if lstat(path, &st) == 0 { return FileIdentity(st) }
        let code = errno
        if code == ENOENT { return nil }
        throw .systemCallFailed(operation: "stat", path: path, errno: .init(rawValue: code))
    }

    /// Whether `other` is the same inode, whatever happened to its contents.
    public func isSameFile(as other: FileIdentity) -> Bool {
        device == other.device && inode == other.inode
    }

    /// The file, whatever its contents: device and inode.
    public struct Key: Sendable, Hashable {
        public var device: UInt64
        public var inode: UInt64
    }

    public var key: Key { Key(device: device, inode: inode) }

    public var description: String {
        "device \(device) inode \(inode) size \(size) mtime \(modified) ctime \(changed)"
    }
}
