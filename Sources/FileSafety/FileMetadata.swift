// FileMetadata.swift: the owner, group and permission bits of a file, the
// part of its identity that must survive when the file is replaced by a new
// version (Postfix tables are often root:postfix 0640).

import SystemPackage

public struct FileMetadata: Sendable, Equatable {
    /// Permission bits including setuid, setgid and sticky (st_mode & 0o7777).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32

    public init(mode: UInt32, uid: UInt32, gid: UInt32) {
        self.mode = mode & 0o7777
        self.uid = uid
        self.gid = gid
    }

    init(_ stat: Stat) {
        self.init(mode: UInt32(stat.rawValue.st_mode), uid: stat.rawValue.st_uid, gid: stat.rawValue.st_gid)
    }

    /// The metadata of `path`, following symbolic links (stat(2)), since the
    /// file that matters is the one a link points at.
    public static func of(path: String) throws -> FileMetadata {
        do {
            return FileMetadata(try Stat(FilePath(path)))
        } catch {
            throw FileSafetyError.systemCallFailed(operation: "stat", path: path, errno: error)
        }
    }
}
