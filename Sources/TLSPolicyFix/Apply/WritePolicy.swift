// WritePolicy.swift: what apply checks before it writes anything, and
// refuses with a clear message (and no write) when a check fails. The tool
// runs as root from package hooks, so it must not become the tool that
// writes where an unprivileged user can steer it: a directory or file others
// may write, a directory on the way that another user owns (who could
// rename it or what is in it between two steps), a symbolic link leading
// out of the configuration directory, a source whose owner differs from its
// index's. Paths are those the run's PathResolver resolved, once, inside
// the root. It also refuses to start when the new files cannot fit (full
// disk) or cannot be written (read-only file system), rather than failing
// half-way.

import FileSafety

#if canImport(Glibc)
import Glibc
#endif

/// Choices about how apply writes.
public struct WriteOptions: Sendable {
    /// Keep a copy of every file apply replaces, named FILE+suffix (or
    /// FILE+suffix+".1", ".2", ...: an earlier backup is never replaced).
    public var backupSuffix: String?
    /// Files or directories outside the configuration directory that apply
    /// may write to (a table kept elsewhere, or the target of a link).
    public var allowedOutside: [String]

    public init(backupSuffix: String? = nil, allowedOutside: [String] = []) {
        self.backupSuffix = backupSuffix
        self.allowedOutside = allowedOutside
    }
}

enum WritePolicy {
    /// Checks the configuration directory itself; called before anything in
    /// it is written (including the completion of an interrupted apply).
    static func checkDirectory(_ directory: ResolvedPath, display: String) throws(ApplyError) {
        let st = try status(of: directory.path, display: display)
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw .refused(path: display, reason: "not a directory")
        }
        try checkNotWritableByOthers(st, display: display, what: "the configuration directory")
        // The directories above it: its own is `directory.directory` itself when the path has no name.
        let above = directory.name == nil ? directory.directories.dropFirst() : directory.directories[...]
        try checkOwners(directory.path, st.st_uid, above: above, display: display)
    }

    /// Checks every target; throws the first refusal.
    static func check(
        _ targets: [WriteTarget], configDirectory canonicalDirectory: String, options: WriteOptions, resolver: PathResolver
    ) throws(ApplyError) {
        let allowed = options.allowedOutside.map { canonicalPath($0) ?? $0 }
        var needed: [UInt64: (bytes: Int, files: Int, display: String)] = [:]
        for target in targets {
            let resolved: ResolvedPath
            do {
                resolved = try resolver.resolve(target.path)
            } catch {
                throw .unresolvable(path: target.display, cause: error)
            }
            guard resolved.name != nil else { throw .refused(path: target.display, reason: "\(resolved.path) is not a file") }
            if resolved.followedLink && !resolved.exists {
                throw .unresolvable(path: target.display, cause: FileSafetyError.danglingSymlink(link: target.path, missingTarget: resolved.path))
            }
            let canonical = resolved.path
            let canonicalDirectoryOfTarget = resolved.directory.path
            guard isWithin(canonical, canonicalDirectory) || allowed.contains(where: { isWithin(canonical, $0) }) else {
                throw .refused(
                    path: target.display,
                    reason:
                        "\(canonical) is outside the configuration directory \(canonicalDirectory); name it with --allow-path to let apply write it")
            }

            let directoryStatus = try status(of: canonicalDirectoryOfTarget, display: target.display)
            try checkNotWritableByOthers(directoryStatus, display: target.display, what: "its directory \(canonicalDirectoryOfTarget)")
            try checkOwners(nil, 0, above: resolved.directories[...], display: target.display)
            var targetStatus = stat()
            let targetExists = lstat(canonical, &targetStatus) == 0
            let existingSize = targetExists ? Int(targetStatus.st_size) : 0
            if targetExists {
                try checkNotWritableByOthers(targetStatus, display: target.display, what: "the file")
            }
            if let obstacle = Replaceability.obstacle(file: canonical, directory: canonicalDirectoryOfTarget) {
                throw .refused(path: target.display, reason: obstacle)
            }
            if let sourcePath = target.sourcePath {
                let source: String
                do {
                    source = try resolver.resolve(sourcePath).path
                } catch {
                    throw .unresolvable(path: target.display, cause: error)
                }
                let sourceStatus = try status(of: source, display: target.display)
                try checkNotWritableByOthers(sourceStatus, display: target.display, what: "its source \(source)")
                if targetExists, sourceStatus.st_uid != targetStatus.st_uid {
                    throw .refused(
                        path: target.display,
                        reason:
                            "its source \(source) belongs to uid \(sourceStatus.st_uid) but the index to uid \(targetStatus.st_uid); make them the same owner (postmap, run as root, writes the index as the source's owner)"
                    )
                }
            }

            try checkSpace(for: target, in: canonicalDirectoryOfTarget, existingSize: existingSize, options: options, needed: &needed)
        }
    }

    /// Refuses a target whose file system is read-only, or lacks the space
    /// or inodes for the new files (and backups) planned on it so far.
    static func checkSpace(
        for target: WriteTarget, in canonicalDirectoryOfTarget: String, existingSize: Int, options: WriteOptions,
        needed: inout [UInt64: (bytes: Int, files: Int, display: String)]
    ) throws(ApplyError) {
        var fs = statvfs()
        guard statvfs(canonicalDirectoryOfTarget, &fs) == 0 else {
            throw .refused(
                path: target.display, reason: "cannot examine the file system of \(canonicalDirectoryOfTarget): \(String(cString: strerror(errno)))")
        }
        if fs.f_flag & UInt(ST_RDONLY) != 0 {
            throw .refused(path: target.display, reason: "\(canonicalDirectoryOfTarget) is on a read-only file system")
        }
        let backups = options.backupSuffix == nil ? 0 : existingSize
        let key = UInt64(fs.f_fsid)
        var total = needed[key] ?? (0, 0, target.display)
        total.bytes += max(target.estimatedSize, existingSize) + backups
        total.files += options.backupSuffix == nil ? 1 : 2
        needed[key] = total
        let available = Int(clamping: UInt64(fs.f_bavail) &* UInt64(fs.f_frsize))
        // One block per file for metadata and rounding, plus the journal.
        let wanted = total.bytes + (total.files + 1) * Int(fs.f_frsize)
        if available < wanted {
            throw .refused(
                path: target.display,
                reason:
                    "not enough free space on the file system of \(canonicalDirectoryOfTarget): about \(wanted) bytes needed, \(available) available")
        }
        if UInt64(fs.f_favail) < UInt64(total.files + 1) && fs.f_files > 0 {
            throw .refused(path: target.display, reason: "no free inodes on the file system of \(canonicalDirectoryOfTarget)")
        }
    }

    /// Refuses, when running as root, a file or directory that group or
    /// others may write: whoever can write it could steer what root writes.
    static func checkNotWritableByOthers(_ st: stat, display: String, what: String) throws(ApplyError) {
        guard geteuid() == 0, st.st_mode & (S_IWGRP | S_IWOTH) != 0 else { return }
        let mode = String(st.st_mode & 0o7777, radix: 8)
        throw .refused(
            path: display, reason: "\(what) is writable by group or others (mode \(mode)); as root this tool refuses to write there (chmod go-w)")
    }

    /// Refuses, when running as root, a directory on the way to what is
    /// written (`directories`, from the file's own up to "/") that a user
    /// other than root owns, or that group or others may write without the
    /// sticky bit (a sticky directory's entries, root's here, stay root's).
    /// Such a user could rename what apply checked and put a link to any
    /// file in its place between two steps, and apply, as root, would write
    /// there. postmap, run as root, switches to the source file's owner
    /// instead (and warns when root's files are built in a directory root
    /// does not own); this tool also writes main.cf and cannot.
    static func checkOwners(_ path: String?, _ owner: uid_t, above directories: ArraySlice<PinnedDirectory>, display: String) throws(ApplyError) {
        guard geteuid() == 0 else { return }
        if let path, owner != 0 { throw notRootsDirectory(path, owner, display: display) }
        for directory in directories {
            if directory.owner != 0 { throw notRootsDirectory(directory.path, directory.owner, display: display) }
            if directory.mode & (S_IWGRP | S_IWOTH) != 0 && directory.mode & S_ISVTX == 0 {
                let mode = String(directory.mode & 0o7777, radix: 8)
                throw .refused(
                    path: display,
                    reason:
                        "\(directory.path) is writable by group or others (mode \(mode)); as root this tool refuses to write below it (chmod go-w)")
            }
        }
    }

    private static func notRootsDirectory(_ path: String, _ owner: uid_t, display: String) -> ApplyError {
        .refused(
            path: display,
            reason:
                "the directory \(path) belongs to uid \(owner), who could replace what apply writes there by a link to any file; as root this tool writes only in directories root owns (chown root, or run postmap for this table as uid \(owner))"
        )
    }

    static func status(of path: String, display: String) throws(ApplyError) -> stat {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw .refused(path: display, reason: "cannot examine \(path): \(String(cString: strerror(errno)))")
        }
        return st
    }

    /// realpath(3), nil when it fails (errno says why).
    static func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether `path` is `root` or below it (both canonical).
    static func isWithin(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = path[..<slash]
        return (directory.isEmpty ? "/" : String(directory), String(path[path.index(after: slash)...]))
    }
}
