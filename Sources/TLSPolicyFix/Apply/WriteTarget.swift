// WriteTarget.swift: the files a plan replaces, in commit order, and the
// locks Postfix's own writers of each take, which apply takes too.

import FileSafety

#if canImport(Glibc)
import Glibc
#endif

/// One file apply is about to replace.
struct WriteTarget {
    enum Role { case tableSource, index, postfixConfig }
    /// The path as planned (symbolic links not followed).
    var path: String
    var display: String
    var role: Role
    /// For an index: its source, which decides its contents.
    var sourcePath: String?
    /// About how many bytes the new version takes.
    var estimatedSize: Int
}

extension WriteTarget {
    /// The files the plan replaces, in commit order: indexes, table sources,
    /// main.cf, master.cf.
    static func of(_ plan: FixPlan, configuration: Configuration) -> [WriteTarget] {
        let masterCf = joinPath(configuration.directory, "master.cf")
        let indexes = plan.rebuilds.map { rebuild in
            let sourceSize = plan.changes.first { $0.path == rebuild.sourcePath }?.newByteCount ?? fileSize(rebuild.sourcePath)
            // A hash or btree index of a small table is a few pages; a
            // large one about three times its source.
            return WriteTarget(
                path: rebuild.indexPath, display: rebuild.displayIndexPath, role: .index,
                sourcePath: rebuild.sourcePath, estimatedSize: 3 * sourceSize + 65536)
        }
        var sources: [WriteTarget] = []
        var postfixFiles: [WriteTarget] = []
        for change in plan.changes {
            let isPostfixFile = change.path == configuration.mainCf.path || change.path == masterCf
            let target = WriteTarget(
                path: change.path, display: change.displayPath, role: isPostfixFile ? .postfixConfig : .tableSource,
                sourcePath: nil, estimatedSize: change.newByteCount)
            if isPostfixFile { postfixFiles.append(target) } else { sources.append(target) }
        }
        postfixFiles.sort { ($0.path == masterCf ? 1 : 0) < ($1.path == masterCf ? 1 : 0) }
        return indexes.sorted { $0.path < $1.path } + sources + postfixFiles
    }

    /// The locks Postfix's own writers of `target` take: postconf's edit
    /// lock for main.cf and master.cf (`postfixFiles`, resolved; the lock
    /// file is in the configuration directory, `directory`), postmap's
    /// exclusive flock on an existing index (any other existing file gets
    /// the same flock, which nothing else takes and which costs nothing).
    /// Each file is opened through its pinned directory.
    static func writerLocks(for target: ResolvedPath, postfixFiles: [String], in directory: PinnedDirectory, timeout: Duration) throws
        -> [FileLock]
    {
        for (name, postfixFile) in zip(["main.cf", "master.cf"], postfixFiles) where postfixFile == target.path {
            // postconf locks "<config_directory>/main.cf.tmp", links or not.
            return [try FileLock.postfixEdit(of: joinPath(directory.path, name), through: directory.pinnedPath(of: name), timeout: timeout)]
        }
        guard target.exists, !target.isDanglingLink else { return [] }
        return [try FileLock.exclusive(path: target.path, through: target.pinnedPath, timeout: timeout)]
    }

    /// The lock file apply holds in the configuration directory while it
    /// works (mode 0600, removed when it is done).
    static let applyLockName = ".postfix-tls-fix.lock"

    private static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }
}
