// IndexFile.swift: reads Postfix .db indexes the way Postfix's own readers do:
// read-only, under a shared flock (so a postmap rebuilding the file in place
// is never observed half-way), stripping the trailing NUL postmap stores.
// The flock is waited for at most `lockTimeout` (anyone who can read the
// index can hold an exclusive lock on it), and libdb opens the very file
// that was checked to be a regular one and locked, through /proc/self/fd,
// so a FIFO swapped in under the name cannot hang it.

import FileSafety
import SystemPackage

public enum IndexFile {
    /// Every record of the index at `path`, in database order, keys and
    /// values without their trailing NUL. Throws HashMapError when the file
    /// is not a readable database of that access method (wrong method, not a
    /// Berkeley DB, truncated) and FileSafetyError when it cannot be opened
    /// or locked at all (e.g. missing).
    public static func readAll(path: String, method: IndexAccessMethod, lockTimeout: Duration = FileLock.defaultTimeout) throws -> [IndexRecord] {
        var records: [IndexRecord] = []
        try forEachRecord(path: path, method: method, lockTimeout: lockTimeout) { key, value in
            records.append(IndexRecord(key: Array(key), value: Array(value)))
        }
        return records
    }

    /// Calls `body` with every record of the index, as readAll returns them,
    /// without copying: the buffers are valid only during the call. Reading
    /// a million records this way takes a cursor pass and no allocation.
    public static func forEachRecord(
        path: String, method: IndexAccessMethod, lockTimeout: Duration = FileLock.defaultTimeout,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try withOpenDatabase(path: path, method: method, lockTimeout: lockTimeout) { database in
            try database.forEach { key, value in
                try body(PostmapConventions.strippingTerminator(key), PostmapConventions.strippingTerminator(value))
            }
        }
    }

    /// The digest of every record of the index (see RecordDigest), from
    /// one cursor pass.
    public static func digest(path: String, method: IndexAccessMethod, lockTimeout: Duration = FileLock.defaultTimeout) throws -> RecordDigest {
        var digest = RecordDigest()
        try forEachRecord(path: path, method: method, lockTimeout: lockTimeout) { key, value in digest.add(key: key, value: value) }
        return digest
    }

    /// The value stored for `key`, or nil. Like Postfix's dict_db_lookup it
    /// tries the key with a trailing NUL first, then without. With
    /// `foldCase` (the default, as for postmap -q and Postfix daemons) the
    /// query is folded first as Postfix folds it: `utf8KeyFolding` is
    /// smtputf8_enable (ICU full case folding; a key that is not UTF-8 is
    /// then not looked up at all, and not found), else ASCII lower-casing.
    public static func lookup(
        path: String, method: IndexAccessMethod, key: [UInt8], foldCase: Bool = true, utf8KeyFolding: Bool = false,
        lockTimeout: Duration = FileLock.defaultTimeout
    ) throws -> [UInt8]? {
        guard let query = foldCase ? PostmapConventions.foldedKey(key, utf8: utf8KeyFolding) : key else { return nil }
        return try withOpenDatabase(path: path, method: method, lockTimeout: lockTimeout) { database in
            if let value = try database.value(forKey: PostmapConventions.terminated(query)) {
                return PostmapConventions.strippingTerminator(value)
            }
            guard !query.isEmpty else { return nil }
            return try database.value(forKey: query).map(PostmapConventions.strippingTerminator)
        }
    }

    /// Opens the database under a shared lock and runs `body` on it. The
    /// lock is taken on our own descriptor (a regular file, or refused)
    /// before libdb opens the file. libdb takes only a name: given
    /// /proc/self/fd/N it opens the same file again, whatever the name now
    /// holds. Without /proc it gets the name, and if the file was replaced
    /// in between (a rename by another writer), the two differ and we start
    /// over.
    private static func withOpenDatabase<Result>(
        path: String, method: IndexAccessMethod, lockTimeout: Duration, _ body: (BerkeleyDatabase) throws -> Result
    ) throws -> Result {
        let resolved = try resolveSymlinks(path)
        for _ in 0..<5 {
            let lock = try FileLock.shared(path: resolved, timeout: lockTimeout)
            defer { lock.release() }
            let sameFile = "/proc/self/fd/\(lock.descriptor!.rawValue)"
            let database = try BerkeleyDatabase(path: resolved, method: method, openPath: FileReader.exists(sameFile) ? sameFile : nil)
            try database.openReadOnly()
            let databaseFD = try database.fileDescriptor()
            let opened = try status(of: databaseFD, path: resolved)
            let locked = try status(of: lock.descriptor!, path: resolved)
            guard opened.st_dev == locked.st_dev, opened.st_ino == locked.st_ino else {
                try? database.close()
                continue
            }
            try IndexIntegrity.checkNotTruncated(database, fd: databaseFD, size: Int64(opened.st_size))
            let result = try body(database)
            try database.close()
            return result
        }
        throw HashMapError.keepsChanging(path: resolved)
    }

    private static func status(of fd: FileDescriptor, path: String) throws -> Stat.RawValue {
        do {
            return try fd.stat().rawValue
        } catch {
            throw FileSafetyError.systemCallFailed(operation: "stat", path: path, errno: error)
        }
    }
}
