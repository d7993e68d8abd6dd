// ConfigurationFiles.swift: the one door through which loading and
// inspection see files. On disk it reads through FileSafety and asks the
// indexes themselves whether they are current; in memory it serves given
// bytes, so that the rule can be tested without files or the binary.

import FileSafety
import HashMap
import PostconfModel

public protocol ConfigurationFiles: Sendable {
    /// Whether the path exists (a dangling symbolic link counts).
    func exists(_ path: String) -> Bool
    /// The file's bytes.
    func read(_ path: String) throws(LoadError) -> [UInt8]
    /// Whether the index of `table` is missing or differs from its source
    /// (reason nil when it is current), and what postmap warned.
    func indexState(of table: IndexedTable) throws(LoadError) -> IndexCheck
    /// The file a path names (device and inode, links followed), or nil
    /// when there is none or it cannot be told: two spellings of one table
    /// are one table.
    func fileKey(_ path: String) -> FileKey?
    /// Why the existing index of a table the tool writes itself cannot be
    /// read as its database (apply would refuse to replace it), or nil.
    func unreadableIndex(of table: IndexedTable) -> (any Error)?
    /// Temporary files a killed apply left beside `path` (host paths).
    func abandonedTemporaryFiles(beside path: String) -> [String]
}

/// A file's device and inode.
public struct FileKey: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
}

/// What checking an index found.
public struct IndexCheck: Sendable {
    /// Why it must be rebuilt; nil when it is current.
    public var reason: IndexRebuild.Reason?
    /// postmap's warnings while reading it ("warning: ...").
    public var warnings: [String] = []
}

/// A table with an index, as the index check needs it.
public struct IndexedTable: Sendable {
    public var sourcePath: String
    public var indexPath: String
    public var displayIndexPath: String
    public var delivery: TableDelivery
    public var source: TableSource
    /// The configuration directory, for postmap -c.
    public var configDirectory: String
}

/// The files of this machine, or of a --root image: every path is resolved
/// by one PathResolver, inside the root, and once (a link is followed the
/// first time a path through it is used, and never again in this run).
public struct DiskFiles: ConfigurationFiles {
    public let resolver: PathResolver
    /// The longest wait for the shared lock an index is read under (anyone
    /// who can read the index can hold an exclusive one): apply's
    /// --lock-timeout, or FileLock's default.
    public var lockTimeout: Duration = FileLock.defaultTimeout

    /// Paths inside `root` (nil: this machine's own).
    public init(root: String? = nil) {
        resolver = PathResolver(root: root)
    }

    public init(resolver: PathResolver, lockTimeout: Duration = FileLock.defaultTimeout) {
        self.resolver = resolver
        self.lockTimeout = lockTimeout
    }

    public func exists(_ path: String) -> Bool { resolver.exists(path) }

    public func abandonedTemporaryFiles(beside path: String) -> [String] {
        guard let resolved = try? resolver.resolve(path) else { return [] }
        return (try? AbandonedTemporaryFiles.find(beside: resolved)) ?? []
    }

    public func unreadableIndex(of table: IndexedTable) -> (any Error)? {
        guard case .nativeIndex(let method) = table.delivery, exists(table.indexPath) else { return nil }
        do {
            let index = try resolver.resolve(table.indexPath)
            guard index.exists else { return nil }  // a dangling link: apply says so itself
            _ = try IndexFile.lookup(path: index.path, method: method, key: Array("postfix-tls-fix-probe".utf8), lockTimeout: lockTimeout)
            return nil
        } catch {
            return error
        }
    }

    public func fileKey(_ path: String) -> FileKey? {
        guard let resolved = try? resolver.resolve(path), let identity = try? resolved.identity() else { return nil }
        return FileKey(device: identity.device, inode: identity.inode)
    }

    public func read(_ path: String) throws(LoadError) -> [UInt8] {
        do {
            return try resolver.bytes(of: path)
        } catch {
            throw .unreadable(path: path, cause: error)
        }
    }

    /// libdb reads the index through its pinned directory; postmap, a
    /// program of its own, gets the paths with links already followed.
    public func indexState(of table: IndexedTable) throws(LoadError) -> IndexCheck {
        guard exists(table.indexPath) else { return IndexCheck(reason: .missing) }
        var resolved = table
        do {
            let index = try resolver.resolve(table.indexPath)
            resolved.indexPath = table.delivery.isNative ? index.pinnedPath : index.path
            resolved.sourcePath = try resolver.resolve(table.sourcePath).path
            resolved.configDirectory = try resolver.resolve(table.configDirectory).path
        } catch {
            throw .unreadable(path: table.displayIndexPath, cause: error)
        }
        do {
            let state = try IndexState.isCurrent(resolved, lockTimeout: lockTimeout)
            return IndexCheck(reason: state.current ? nil : .stale, warnings: state.warnings)
        } catch {
            throw .unreadableIndex(path: table.displayIndexPath, cause: error)
        }
    }
}

extension TableDelivery {
    /// Whether the tool reads and writes the index itself (libdb).
    var isNative: Bool {
        if case .nativeIndex = self { return true }
        return false
    }
}

/// Files given as bytes, by absolute path. An index counts as current when
/// a file of its name is given (whatever its bytes), as missing otherwise.
public struct InMemoryFiles: ConfigurationFiles {
    public var files: [String: [UInt8]]

    public init(_ files: [String: String]) {
        self.files = files.mapValues { Array($0.utf8) }
    }

    public init(bytes files: [String: [UInt8]]) {
        self.files = files
    }

    public func exists(_ path: String) -> Bool { files[path] != nil }

    /// In memory a file has one name (paths are compared once normalized).
    public func fileKey(_ path: String) -> FileKey? { nil }

    public func unreadableIndex(of table: IndexedTable) -> (any Error)? { nil }

    public func abandonedTemporaryFiles(beside path: String) -> [String] { [] }

    public func read(_ path: String) throws(LoadError) -> [UInt8] {
        guard let bytes = files[path] else {
            throw .unreadable(path: path, cause: .systemCallFailed(operation: "open", path: path, errno: .noSuchFileOrDirectory))
        }
        return bytes
    }

    public func indexState(of table: IndexedTable) throws(LoadError) -> IndexCheck {
        IndexCheck(reason: exists(table.indexPath) ? nil : .missing)
    }
}

extension ConfigurationFiles {
    /// Reads a configuration file and parses it; a parse error keeps the
    /// file and line it names, any other failure names the file.
    func parse<Parsed>(_ path: String, _ parse: ([UInt8]) throws(ConfigFileError) -> Parsed) throws(LoadError) -> Parsed {
        let bytes = try read(path)
        do {
            return try parse(bytes)
        } catch {
            throw .invalid(error)
        }
    }
}
