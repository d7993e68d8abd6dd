// PinnedDirectory+Files.swift: the file operations of the write path, done
// relative to a pinned directory's descriptor (openat, fstatat, renameat,
// linkat, unlinkat) and never following a final link. Once a path is
// resolved, creating the temporary file, renaming it over the target,
// linking a backup and removing leftovers all happen in the directory that
// was checked, whatever anyone renames or links on the way to it meanwhile.

import Glibc
import SystemPackage

extension PinnedDirectory {
    /// openat(2) on `name`, never following it, close-on-exec; -1 and errno
    /// set on failure.
    func open(_ name: String, _ flags: Int32, mode: mode_t = 0) -> Int32 {
        openat(descriptor, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)
    }

    /// What is at `name` itself (a link is not followed), nil when nothing is.
    func status(of name: String) throws(FileSafetyError) -> stat? {
        var st = stat()
        if fstatat(descriptor, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return st }
        let code = errno
        if code == ENOENT { return nil }
        throw .systemCallFailed(operation: "stat", path: child(name), errno: Errno(rawValue: code))
    }

    /// Whether something is at `name` (a link counts, followed or not).
    public func contains(_ name: String) -> Bool {
        (try? status(of: name)) != nil
    }

    /// The identity of what is at `name` itself, nil when nothing is.
    func identity(of name: String) throws(FileSafetyError) -> FileIdentity? {
        try status(of: name).map(FileIdentity.init)
    }

    func rename(_ from: String, to: String) throws(FileSafetyError) {
        if let code = SystemCalls.retrying({ renameat(descriptor, from, descriptor, to) }) {
            throw .renameFailed(from: child(from), to: child(to), errno: code)
        }
    }

    /// linkat(2) without following `from`, returning the errno instead of
    /// throwing so that EEXIST can mean "taken, try another name".
    func link(_ from: String, to: String) -> Errno? {
        SystemCalls.retrying { linkat(descriptor, from, descriptor, to, 0) }
    }

    /// Removes `name`; one already gone counts as removed.
    func unlinkIfPresent(_ name: String) throws(FileSafetyError) {
        if let code = SystemCalls.retrying({ unlinkat(descriptor, name, 0) }), code != .noSuchFileOrDirectory {
            throw .systemCallFailed(operation: "remove", path: child(name), errno: code)
        }
    }

    /// fsyncs the directory, so that a rename, link or unlink in it
    /// survives a crash. The pinned descriptor only names the directory
    /// (O_PATH), so the directory is opened through it for the fsync.
    func sync() throws(FileSafetyError) {
        let fd = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .systemCallFailed(operation: "open directory", path: path, errno: Errno(rawValue: errno))
        }
        defer { close(fd) }
        // Some file systems cannot fsync a directory (EINVAL); the rename
        // is then as durable as that file system makes it.
        if let code = SystemCalls.retrying({ Glibc.fsync(fd) }), code != .invalidArgument {
            throw .systemCallFailed(operation: "fsync", path: path, errno: code)
        }
    }

    /// `name` in this directory through its descriptor, for a library that
    /// opens files by name in this process (libdb): /proc/self/fd/N/NAME
    /// reaches this directory, not whatever its path leads to now.
    public func pinnedPath(of name: String) -> String { "/proc/self/fd/\(descriptor)/\(name)" }

    /// The names in this directory.
    func names() throws(FileSafetyError) -> [String] {
        let fd = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .systemCallFailed(operation: "list the directory", path: path, errno: Errno(rawValue: errno))
        }
        guard let stream = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw .systemCallFailed(operation: "list the directory", path: path, errno: Errno(rawValue: code))
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

extension ResolvedPath {
    /// `path` resolved on this machine, once, for a caller that has no
    /// resolver of its own run: what it writes then goes there.
    public static func resolving(_ path: String) throws(FileSafetyError) -> ResolvedPath {
        try PathResolver(root: nil).resolve(path)
    }

    /// The file's name in its directory; a path that names a directory
    /// (or "/") is no file to write.
    func fileName() throws(FileSafetyError) -> String {
        guard let name, name != "..", name != "." else { throw .notRegularFile(path: path) }
        return name
    }

    /// The identity of what is at this name now (a link is not followed:
    /// the resolution followed those), nil when nothing is.
    public func identity() throws(FileSafetyError) -> FileIdentity? {
        try directory.identity(of: name ?? ".")
    }

    /// The owner, group and mode of the file at this name (a link is not
    /// followed: the resolution followed those).
    public func metadata() throws(FileSafetyError) -> FileMetadata {
        guard let found = try directory.status(of: name ?? ".") else {
            throw .systemCallFailed(operation: "stat", path: path, errno: .noSuchFileOrDirectory)
        }
        return FileMetadata(mode: found.st_mode, uid: found.st_uid, gid: found.st_gid)
    }

    /// Whether the regular file at this name holds exactly `expected`,
    /// opened in the pinned directory without following a link.
    public func holds(_ expected: [UInt8]) throws(FileSafetyError) -> Bool {
        do {
            return try FileReader.holds(pinnedPath, expected, flags: O_NOFOLLOW)
        } catch {
            throw error.naming(path)
        }
    }

    /// A link whose target is missing: writing there would create a file
    /// wherever the link points.
    public var isDanglingLink: Bool { followedLink && !exists }
}
