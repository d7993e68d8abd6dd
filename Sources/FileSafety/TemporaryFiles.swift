// TemporaryFiles.swift: the one naming scheme of staged temporary files,
// ".<target name>.tmp-<pid>-<random hex>" beside the target, and the clean-up
// of such files that a killed process left behind. Postfix never reads them
// (no configuration names them), but they must not pile up; the pid in the
// name tells whether their writer is gone.

import Glibc

public enum TemporaryName {
    /// A fresh temporary name for a file called `base`.
    static func make(for base: String) -> String {
        ".\(base).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    }

    /// The writer's pid when `name` is a temporary name for `base`, else
    /// nil. With `derived`, also names with a suffix after the random part
    /// (".lmdb", ".cdb": what postmap builds from a staged source).
    static func writer(of name: String, for base: String, derived: Bool = false) -> pid_t? {
        let prefix = ".\(base).tmp-"
        guard name.hasPrefix(prefix) else { return nil }
        let parts = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0 else { return nil }
        var random = parts[1]
        if derived, let dot = random.firstIndex(of: "."), random[random.index(after: dot)...].allSatisfy({ $0.isLetter }) {
            random = random[..<dot]
        }
        guard !random.isEmpty, random.allSatisfy(\.isHexDigit) else { return nil }
        return pid
    }

    /// Whether `path` names a temporary file for `target` in the same directory.
    static func isTemporary(_ path: String, for target: String) -> Bool {
        let (directory, name) = split(path)
        let (targetDirectory, targetName) = split(target)
        return directory == targetDirectory && writer(of: name, for: targetName) != nil
    }

    /// A path's directory ("." for a bare name) and last component.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = path[..<slash]
        return (directory.isEmpty ? "/" : String(directory), String(path[path.index(after: slash)...]))
    }
}

public enum AbandonedTemporaryFiles {
    /// Removes the temporary files beside `target` (in the directory its
    /// resolution pinned) whose writer no longer runs, and returns their
    /// paths. Only regular files with exactly our naming scheme are
    /// touched. Call it while holding the lock that serializes writers of
    /// the target.
    public static func remove(beside target: ResolvedPath) throws -> [String] {
        let found = try names(beside: target)
        for name in found { try target.directory.unlinkIfPresent(name) }
        return found.map(target.directory.child)
    }

    /// The same for a path this process names, resolved once here.
    public static func remove(beside targetPath: String) throws -> [String] {
        try remove(beside: ResolvedPath.resolving(targetPath))
    }

    /// The temporary files beside `target` whose writer no longer runs:
    /// regular files with exactly our naming scheme.
    public static func find(beside target: ResolvedPath) throws -> [String] {
        try names(beside: target).map(target.directory.child)
    }

    public static func find(beside targetPath: String) throws -> [String] {
        try find(beside: ResolvedPath.resolving(targetPath))
    }

    private static func names(beside target: ResolvedPath) throws -> [String] {
        let base = try target.fileName()
        return try target.directory.names().filter { name in
            guard let pid = TemporaryName.writer(of: name, for: base, derived: true), !isRunning(pid) else { return false }
            guard let status = try target.directory.status(of: name) else { return false }
            return (status.st_mode & S_IFMT) == S_IFREG
        }
    }

    /// Whether a process with this pid exists (EPERM: it does, owned by another user).
    private static func isRunning(_ pid: pid_t) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno != ESRCH
    }
}
