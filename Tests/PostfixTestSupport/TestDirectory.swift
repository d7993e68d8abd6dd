// TestDirectory.swift: a scratch directory per test, removed afterwards, and
// byte-exact file helpers.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public final class TestDirectory: @unchecked Sendable {
    public let path: String

    /// A new directory named PREFIX-XXXXXX in `base` (e.g. /dev/shm for
    /// tests that write a lot and need no disk).
    public init(_ prefix: String = "ptf-test", in base: String = "/tmp") throws {
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(cString: created)
        // Traversable by the postfix user and by postmap after it drops privileges.
        chmod(path, 0o755)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes bytes to `name` (creating parent directories) and returns the path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        chmod(target, mode)
        backdate(target)
        return target
    }

    @discardableResult
    public func write(_ name: String, _ text: String, mode: mode_t = 0o644) throws -> String {
        try write(name, Array(text.utf8), mode: mode)
    }

    /// Creates the directory `name` (and its parents) with `mode`, and returns its path.
    @discardableResult
    public func makeDirectory(_ name: String, mode: mode_t = 0o755) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        chmod(target, mode)
        return target
    }

    /// Copies a directory tree (e.g. an example configuration) into this one.
    @discardableResult
    public func copyTree(_ source: String, as name: String) throws -> String {
        let target = file(name)
        try FileManager.default.copyItem(atPath: source, toPath: target)
        let enumerator = FileManager.default.enumerator(atPath: target)
        while let relative = enumerator?.nextObject() as? String { backdate(target + "/" + relative) }
        return target
    }
}

/// Sets a file's times a minute into the past. Postfix programs pause (in
/// 300 ms steps, up to about 2 s) while main.cf is younger than a second, and
/// warn about sources newer than their index; tests that just wrote the files
/// would wait for nothing.
public func backdate(_ path: String) {
    var times = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
    _ = utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
}

/// A file's bytes.
public func readBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// The names in `directory`, sorted, to compare what a directory holds.
public func directoryEntries(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
}

/// The repository's root directory, from this file's location.
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Tests/Fixtures.
public let fixturesDirectory = repositoryRoot + "/Tests/Fixtures"
