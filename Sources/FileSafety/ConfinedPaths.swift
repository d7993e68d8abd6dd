// ConfinedPaths.swift: resolves paths as the kernel would, but inside a
// root (--root: an image or a chroot) and once per run. The tool runs as
// root from package hooks; a link that is valid inside an image (absolute,
// or climbing with `..`) must never lead it to a file of the host, and a
// link an unprivileged user can flip must not lead it somewhere else the
// second time it is followed.
//
// Resolution goes component by component from a descriptor of the root:
// openat(O_PATH|O_NOFOLLOW) on each name, readlinkat on links, `..` and
// absolute link targets clamped at the root, which is what openat2's
// RESOLVE_IN_ROOT does (Linux >= 5.6); doing it by hand works on every
// kernel and keeps every directory met on the way open, which is what the
// write rules inspect (their owners and modes) and what reads go through.
// Each answer is remembered: a name is followed once per run, and every
// later step of that run sees what the first one saw.

import Glibc
import Synchronization
import SystemPackage

/// O_PATH (Linux): a descriptor that only names a file, which needs no read
/// permission and opens nothing (no FIFO blocks, no device is touched).
private let openPathOnly: Int32 = 0o10000000

/// A directory reached by resolution, held open so that the directory the
/// tool checked is the one it reads from, whatever is renamed meanwhile.
public final class PinnedDirectory: Sendable {
    /// The directory's path on this machine, without symbolic links.
    public let path: String
    /// Its owner and mode (st_mode) when it was opened.
    public let owner: UInt32
    public let mode: UInt32
    /// The directory it was reached from (nil for "/"). `..` at the root of
    /// a confined resolution stays at the root; this chain goes on to "/"
    /// on this machine, for the write rules.
    public let parent: PinnedDirectory?
    let descriptor: Int32

    init(path: String, descriptor: Int32, parent: PinnedDirectory?) throws(FileSafetyError) {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw .systemCallFailed(operation: "examine", path: path, errno: Errno(rawValue: code))
        }
        self.path = path
        self.descriptor = descriptor
        self.parent = parent
        owner = st.st_uid
        mode = st.st_mode
    }

    deinit { Glibc.close(descriptor) }

    /// `name` in this directory as a path on this machine.
    func child(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }
}

/// Where a path led: a name in a pinned directory (links followed once).
public struct ResolvedPath: Sendable {
    /// The directory holding the file (for the root itself, the root).
    public let directory: PinnedDirectory
    /// The file's name in `directory`; nil when the path is `directory` itself.
    public let name: String?
    /// Whether a symbolic link was followed to get here (a missing target
    /// is then a dangling link).
    public let followedLink: Bool

    /// The file's path on this machine, without symbolic links: what the
    /// steps that need a name (libdb, postmap, rename) are given.
    public var path: String { name.map(directory.child) ?? directory.path }

    /// The same file through the pinned directory's descriptor
    /// (/proc/self/fd/N/NAME): for opening it by name in this process
    /// without resolving its directories again.
    public var pinnedPath: String {
        name.map { "/proc/self/fd/\(directory.descriptor)/\($0)" } ?? "/proc/self/fd/\(directory.descriptor)"
    }

    /// Whether something is there now (a link counts, as with lstat).
    public var exists: Bool {
        guard let name else { return true }
        var st = stat()
        return fstatat(directory.descriptor, name, &st, AT_SYMLINK_NOFOLLOW) == 0
    }

    /// The directories from the file's own up to "/" on this machine.
    public var directories: [PinnedDirectory] {
        var chain: [PinnedDirectory] = []
        var current: PinnedDirectory? = directory
        while let next = current {
            chain.append(next)
            current = next.parent
        }
        return chain
    }
}

/// Resolves the paths of one run inside `root` (nil: this machine's "/").
/// Paths are given as the tool names them on this machine: with a root,
/// the root followed by the path inside it.
public final class PathResolver: Sendable {
    /// The root as given (paths start with it), nil for "/".
    public let root: String?
    private let memory = Mutex(ResolutionMemory())

    public init(root: String?) {
        self.root = root
    }

    /// Where `path` leads. Every directory on the way must exist; the last
    /// name need not (a file about to be created). Errors name `path` and
    /// carry the errno open(2) would have given.
    public func resolve(_ path: String) throws(FileSafetyError) -> ResolvedPath {
        try walking(path) { walk, components throws(FileSafetyError) in try walk.resolve(components) }
    }

    /// The directory `path` leads to, every link on the way (the last
    /// name's included) followed.
    public func directory(_ path: String) throws(FileSafetyError) -> PinnedDirectory {
        try walking(path) { walk, components throws(FileSafetyError) in try walk.directory(components) }
    }

    /// Runs `step` on a walk of `path`'s components that starts from, and
    /// adds to, what this run has resolved so far.
    private func walking<Answer: Sendable>(
        _ path: String, _ step: (inout Walk, [String]) throws(FileSafetyError) -> Answer
    ) throws(FileSafetyError) -> Answer {
        let components = try components(of: path)
        return try memory.withLock { memory throws(FileSafetyError) -> Answer in
            var walk = Walk(memory: memory, path: path, root: root)
            defer { memory = walk.memory }
            return try step(&walk, components)
        }
    }

    /// `path`, a path on this machine as a resolution of this run gave it
    /// (ResolvedPath.path), as a path inside the root; nil when it is not
    /// below the root's directory.
    public func pathInsideRoot(_ path: String) throws(FileSafetyError) -> String? {
        let top = try memory.withLock { memory throws(FileSafetyError) -> PinnedDirectory in
            var walk = Walk(memory: memory, path: root ?? "/", root: root)
            defer { memory = walk.memory }
            return try walk.top()
        }
        if top.path == "/" { return path.hasPrefix("/") ? path : nil }
        if path == top.path { return "/" }
        return path.hasPrefix(top.path + "/") ? String(path.dropFirst(top.path.count)) : nil
    }

    /// A path inside the root as this run names it: the root as given,
    /// then the path.
    public func pathOnThisMachine(insideRoot path: String) -> String {
        guard let root else { return path }
        return path == "/" ? root : root + path
    }

    /// Whether something is at `path` (a dangling link counts).
    public func exists(_ path: String) -> Bool {
        guard let resolved = try? resolve(path) else { return false }
        return resolved.followedLink || resolved.exists
    }

    /// The bytes of the regular file at `path`, read through the pinned
    /// directory: the file is opened with O_NOFOLLOW (its links were
    /// followed by the resolution) and O_NONBLOCK (a FIFO answers at once,
    /// and is refused), then read by FileReader.
    public func bytes(of path: String) throws(FileSafetyError) -> [UInt8] {
        let resolved = try resolve(path)
        guard let name = resolved.name else { throw .notRegularFile(path: path) }
        let fd = openat(resolved.directory.descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .systemCallFailed(operation: "open", path: path, errno: Errno(rawValue: errno)) }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .systemCallFailed(operation: "examine", path: path, errno: Errno(rawValue: errno)) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notRegularFile(path: path) }
        // Reopening the descriptor's own /proc entry reaches the very file
        // opened above, not whatever its name leads to now.
        do {
            return try FileReader.bytes(of: "/proc/self/fd/\(fd)")
        } catch {
            throw error.naming(path)
        }
    }

    /// The path's components inside the root, "." and empty ones dropped.
    private func components(of path: String) throws(FileSafetyError) -> [String] {
        var inside = Substring(path)
        if let root {
            guard path == root || path.hasPrefix(root + "/") else { throw .outsideRoot(path: path, root: root) }
            inside = inside.dropFirst(root.count)
        } else if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else {
                throw .systemCallFailed(operation: "find the current directory for", path: path, errno: Errno(rawValue: errno))
            }
            return try components(of: String(cString: buffer) + "/" + path)
        }
        return inside.split(separator: "/").map(String.init).filter { $0 != "." }
    }
}

/// What one run has resolved: the root's directory, every directory by the
/// components that named it, every path by its components.
private struct ResolutionMemory: Sendable {
    var root: PinnedDirectory?
    var directories: [String: PinnedDirectory] = [:]
    var files: [String: ResolvedPath] = [:]
    /// Every directory opened, by the directory it was opened in and its
    /// name there: links into one directory share its descriptor instead
    /// of opening the whole way to it again (and holding that open).
    var children: [Child: PinnedDirectory] = [:]

    struct Child: Hashable {
        let parent: ObjectIdentifier
        let name: String
    }
}

/// One resolution, adding what it reaches to the memory.
private struct Walk {
    var memory: ResolutionMemory
    /// The path being resolved, for messages.
    let path: String
    let root: String?
    /// Links followed so far; the kernel gives up after 40 too.
    var hops = 0

    init(memory: ResolutionMemory, path: String, root: String?) {
        self.memory = memory
        self.path = path
        self.root = root
    }

    mutating func resolve(_ components: [String]) throws(FileSafetyError) -> ResolvedPath {
        let key = components.joined(separator: "/")
        if let known = memory.files[key] { return known }
        let resolved: ResolvedPath
        if let last = components.last {
            resolved = try final(last, in: try directory(Array(components.dropLast())))
        } else {
            resolved = ResolvedPath(directory: try top(), name: nil, followedLink: false)
        }
        memory.files[key] = resolved
        return resolved
    }

    /// The root's directory, opened on first use. The root itself is a path
    /// on this machine: the links on the way to it are followed as they are
    /// here, and its chain of parents goes on to "/".
    mutating func top() throws(FileSafetyError) -> PinnedDirectory {
        if let known = memory.root { return known }
        let fd = open("/", openPathOnly | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno) }
        let slash = try PinnedDirectory(path: "/", descriptor: fd, parent: nil)
        memory.root = slash
        if let root {
            var toRoot = Walk(memory: ResolutionMemory(root: slash), path: root, root: nil)
            memory.root = try toRoot.directory(root.split(separator: "/").map(String.init))
        }
        return memory.root!
    }

    /// The directory `components` lead to, remembered by every prefix.
    mutating func directory(_ components: [String]) throws(FileSafetyError) -> PinnedDirectory {
        guard let last = components.last else { return try top() }
        let key = components.joined(separator: "/")
        if let known = memory.directories[key] { return known }
        let reached = try step(last, from: try directory(Array(components.dropLast())))
        memory.directories[key] = reached
        return reached
    }

    /// The directory `name` leads to from `directory`, links followed;
    /// `..` never goes above the root.
    mutating func step(_ name: String, from directory: PinnedDirectory) throws(FileSafetyError) -> PinnedDirectory {
        if name == "." { return directory }
        if name == ".." { return directory === memory.root ? directory : directory.parent ?? directory }
        let child = ResolutionMemory.Child(parent: ObjectIdentifier(directory), name: name)
        if let known = memory.children[child] { return known }
        let fd = openat(directory.descriptor, name, openPathOnly | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw failure(code)
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            let reached = try PinnedDirectory(path: directory.child(name), descriptor: fd, parent: directory)
            memory.children[child] = reached
            return reached
        case S_IFLNK:
            Glibc.close(fd)
            var (current, parts) = try linkTarget(name, in: directory)
            for part in parts { current = try step(part, from: current) }
            return current
        default:
            Glibc.close(fd)
            throw failure(ENOTDIR)
        }
    }

    /// The last name: a link is followed (once per run, as every answer is
    /// remembered); anything else, or nothing, is the answer.
    mutating func final(_ name: String, in directory: PinnedDirectory, followedLink: Bool = false) throws(FileSafetyError) -> ResolvedPath {
        if name == ".." { return ResolvedPath(directory: try step(name, from: directory), name: nil, followedLink: followedLink) }
        var st = stat()
        if fstatat(directory.descriptor, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            guard errno == ENOENT else { throw failure(errno) }
        } else if (st.st_mode & S_IFMT) == S_IFLNK {
            var (current, parts) = try linkTarget(name, in: directory)
            guard let last = parts.popLast() else { return ResolvedPath(directory: current, name: nil, followedLink: true) }
            for part in parts { current = try step(part, from: current) }
            return try final(last, in: current, followedLink: true)
        }
        return ResolvedPath(directory: directory, name: name, followedLink: followedLink)
    }

    /// Where the link `name` in `directory` points: the directory to start
    /// from (the root for an absolute target) and the target's components.
    mutating func linkTarget(_ name: String, in directory: PinnedDirectory) throws(FileSafetyError) -> (PinnedDirectory, [String]) {
        hops += 1
        guard hops <= symlinkFollowLimit else { throw failure(ELOOP) }
        var capacity = 256
        var target = ""
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let count = readlinkat(directory.descriptor, name, &buffer, capacity)
            guard count >= 0 else { throw failure(errno) }
            if count < capacity {
                target = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                break
            }
            capacity *= 2
        }
        let parts = target.split(separator: "/").map(String.init).filter { $0 != "." }
        return (target.hasPrefix("/") ? try top() : directory, parts)
    }

    func failure(_ code: Int32) -> FileSafetyError {
        .systemCallFailed(operation: "open", path: path, errno: Errno(rawValue: code))
    }
}

extension FileSafetyError {
    /// The same error naming `path` (the path as the caller gave it, rather
    /// than the descriptor's /proc name it was read through).
    func naming(_ path: String) -> FileSafetyError {
        switch self {
        case let .systemCallFailed(operation, _, errno): return .systemCallFailed(operation: operation, path: path, errno: errno)
        case .notRegularFile: return .notRegularFile(path: path)
        default: return self
        }
    }
}
