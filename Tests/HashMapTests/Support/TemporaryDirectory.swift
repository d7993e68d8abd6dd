// TemporaryDirectory.swift: a scratch directory per test, removed afterwards,
// plus the small file helpers the tests share.

import Foundation
import Glibc

final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/hashmap-tests-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        path = String(cString: created)
        // 0755 so that postmap, when it switches to an unprivileged source
        // owner, can still reach subdirectories.
        chmod(path, 0o755)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Creates a subdirectory and returns its path.
    @discardableResult
    func makeDirectory(_ name: String, mode: mode_t = 0o755) throws -> String {
        let directory = file(name)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, mode)
        return directory
    }
}

/// Writes `text` to `path` and gives it `mode`.
func writeFile(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    chmod(path, mode)
}

/// The names in `directory`, sorted.
func entries(of directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
}

/// lstat(2)/stat(2) without going through the code under test.
func fileStatus(_ path: String, followLinks: Bool = true) -> stat? {
    var status = stat()
    let result = followLinks ? stat(path, &status) : lstat(path, &status)
    return result == 0 ? status : nil
}
