// Replaceability.swift: whether a file can be replaced by renaming a new
// one over it, asked before anything is written. A rename cannot replace a
// mount point (a file bind-mounted into place, as container runtimes do with
// `-v main.cf:...:ro`), nor an immutable or append-only file, nor anything in
// an immutable or append-only directory (a read-only file system is
// WritePolicy's own check). Without this check such a file fails only at its own
// rename, after the files before it in the commit were already replaced.

import CFileAttributes

#if canImport(Glibc)
import Glibc
#endif

public enum Replaceability {
    /// Why `path` (an existing file, or one to create in `directory`)
    /// cannot be replaced by a rename; nil when nothing known stands in the way.
    public static func obstacle(file path: String, directory: String) -> String? {
        if let attributes = attributes(of: directory) {
            if attributes & immutable != 0 { return "its directory \(directory) is immutable (chattr +i)" }
            if attributes & appendOnly != 0 { return "its directory \(directory) is append-only (chattr +a)" }
        }
        guard let attributes = attributes(of: path) else { return nil }
        if attributes & mountRoot != 0 {
            return "is a mount point (a file bind-mounted into place): a rename cannot replace it; change it where it is mounted from"
        }
        if attributes & immutable != 0 { return "is immutable (chattr +i)" }
        if attributes & appendOnly != 0 { return "is append-only (chattr +a)" }
        return nil
    }

    // statx(2) attribute bits (linux/stat.h).
    private static let immutable: UInt64 = 0x10
    private static let appendOnly: UInt64 = 0x20
    private static let mountRoot: UInt64 = 0x2000

    /// The statx attributes the kernel reports for `path` (not following a
    /// final symlink), masked by those it supports; nil when it does not exist.
    private static func attributes(of path: String) -> UInt64? {
        var attributes: UInt64 = 0
        guard pft_statx_attributes(path, &attributes) == 0 else { return nil }
        return attributes
    }
}
