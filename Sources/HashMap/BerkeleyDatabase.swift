// BerkeleyDatabase.swift: a Swift owner for one libdb DB handle without an
// environment (db_create with a nil DB_ENV, so libdb keeps its cache in
// private memory and leaves no region files beside the .db). It turns return
// codes into HashMapError and collects libdb's diagnostics through an error
// callback instead of letting libdb print them on stderr.

import CLibDB
import Glibc
import SystemPackage

final class BerkeleyDatabase {
    /// Where libdb's error callback leaves its messages. Referenced from the
    /// handle's environment (app_private) because a C callback cannot
    /// capture Swift context.
    private final class MessageLog {
        var messages: [String] = []

        func append(_ message: String) {
            // A text file read as a database yields one identical message
            // per page; keep the few distinct, most recent ones.
            messages.removeAll { $0 == message }
            messages.append(message)
            if messages.count > 3 { messages.removeFirst() }
        }
    }

    /// The file as messages name it.
    let path: String
    /// What libdb is given to open: `path`, or /proc/self/fd/N for a file
    /// the caller has open already (see IndexFile.withOpenDatabase).
    let openPath: String
    let method: IndexAccessMethod
    private let handle: UnsafeMutablePointer<DB>
    private let log = MessageLog()
    private var isClosed = false

    init(path: String, method: IndexAccessMethod, openPath: String? = nil) throws {
        var created: UnsafeMutablePointer<DB>?
        let code = db_create(&created, nil, 0)
        guard code == 0, let created else {
            throw HashMapError.libdb(
                operation: "create a libdb handle for", path: path, code: code, messages: [])
        }
        self.path = path
        self.openPath = openPath ?? path
        self.method = method
        self.handle = created
        created.pointee.dbenv.pointee.app_private = Unmanaged.passUnretained(log).toOpaque()
        created.pointee.set_errcall!(created) { environment, _, message in
            guard let environment, let message,
                let context = environment.pointee.app_private
            else { return }
            Unmanaged<MessageLog>.fromOpaque(context).takeUnretainedValue()
                .append(String(cString: message))
        }
    }

    deinit {
        if !isClosed { _ = handle.pointee.close!(handle, 0) }
    }

    /// Throws the error for a non-zero libdb return code, with the
    /// diagnostics gathered since the last check. `operation` is only built
    /// on failure: check() runs once per stored record.
    private func check(_ code: Int32, _ operation: @autoclosure () -> String) throws {
        guard code != 0 else {
            if !log.messages.isEmpty { log.messages.removeAll() }
            return
        }
        defer { log.messages.removeAll() }
        // libdb names the file as it was given it (/proc/self/fd/N...):
        // name it as the caller does.
        let messages =
            openPath == path
            ? log.messages : log.messages.map { $0.split(separator: openPath, omittingEmptySubsequences: false).joined(separator: path) }
        throw HashMapError.libdb(operation: operation(), path: path, code: code, messages: messages)
    }

    /// Page size, hash table size and cache size for a new database.
    func configureForCreation(pageSize: UInt32, hashElements: UInt32, cacheBytes: UInt32) throws {
        try check(handle.pointee.set_pagesize!(handle, pageSize), "set the page size of")
        if method == .hash {
            try check(handle.pointee.set_h_nelem!(handle, hashElements), "set the hash table size of")
        }
        try check(handle.pointee.set_cachesize!(handle, 0, cacheBytes, 1), "set the cache size of")
    }

    /// Opens the file read-only with this handle's access method.
    func openReadOnly() throws {
        let code = handle.pointee.open!(
            handle, nil, openPath, nil, method.databaseType, UInt32(DB_RDONLY), 0)
        if code == EINVAL, let actual = Self.actualType(of: openPath), actual != method.databaseType {
            log.messages.removeAll()
            throw HashMapError.wrongAccessMethod(
                path: path, expected: method, actual: Self.name(of: actual))
        }
        try check(code, "open \(method.rawValue) database")
    }

    /// Creates the database in `path`. DB_CREATE accepts the existing
    /// zero-length file AtomicFile made (libdb 5.3 treats an empty file as
    /// one still to be initialised and writes into the same inode). It
    /// reports "unexpected file type or format" through the error callback
    /// while doing so, which check() drops because the call succeeds.
    func create() throws {
        try check(
            handle.pointee.open!(handle, nil, openPath, nil, method.databaseType, UInt32(DB_CREATE), 0o600),
            "create \(method.rawValue) database")
    }

    /// Stores one pair; returns false, storing nothing, when the key exists
    /// (DB_NOOVERWRITE: the first occurrence wins, as with postmap). libdb
    /// copies the bytes and does not change them.
    func insert(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, operation: @autoclosure () -> String) throws -> Bool {
        var keyEntry = Self.entry(UnsafeMutableRawBufferPointer(mutating: key))
        var valueEntry = Self.entry(UnsafeMutableRawBufferPointer(mutating: value))
        let code = handle.pointee.put!(handle, nil, &keyEntry, &valueEntry, UInt32(DB_NOOVERWRITE))
        if code == DB_KEYEXIST {
            if !log.messages.isEmpty { log.messages.removeAll() }
            return false
        }
        try check(code, operation())
        return true
    }

    /// The value stored under exactly `key`, or nil.
    func value(forKey key: [UInt8]) throws -> [UInt8]? {
        var key = key
        var valueEntry = DBT()
        let code = key.withUnsafeMutableBytes { keyBytes in
            var keyEntry = Self.entry(keyBytes)
            return handle.pointee.get!(handle, nil, &keyEntry, &valueEntry, 0)
        }
        if code == DB_NOTFOUND {
            log.messages.removeAll()
            return nil
        }
        try check(code, "look up a key in \(method.rawValue) database")
        // The result points into libdb's memory until the next call: copy now.
        return Self.bytes(of: valueEntry)
    }

    /// Calls `body` for every pair in database order. The buffers point into
    /// memory that is reused after the call returns.
    ///
    /// Reads in bulk (DB_MULTIPLE_KEY): one cursor call fills a buffer with
    /// many pairs, laid out as db.h's DB_MULTIPLE_KEY_NEXT reads them (the
    /// pairs from the front, their offsets and lengths as 32-bit words from
    /// the back, ended by -1). Record by record, the cursor calls took most
    /// of the time of reading a large index.
    func forEach(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) throws {
        var cursor: UnsafeMutablePointer<DBC>?
        try check(handle.pointee.cursor!(handle, nil, &cursor, 0), "read \(method.rawValue) database")
        guard let cursor else { return }
        defer { _ = cursor.pointee.close!(cursor) }
        // A multiple of 1024 and of the page size, as libdb wants; grown
        // when a single pair does not fit.
        var capacity = 1 << 18
        while true {
            var outcome: Int32 = 0
            try withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 8) { buffer in
                var keyEntry = DBT()
                var valueEntry = DBT()
                valueEntry.data = buffer.baseAddress
                valueEntry.ulen = UInt32(buffer.count)
                valueEntry.flags = UInt32(DB_DBT_USERMEM)
                while true {
                    outcome = cursor.pointee.get!(cursor, &keyEntry, &valueEntry, UInt32(DB_NEXT | DB_MULTIPLE_KEY))
                    guard outcome == 0 else { return }
                    var slot = buffer.count - 4
                    while true {
                        let keyOffset = buffer.load(fromByteOffset: slot, as: UInt32.self)
                        if keyOffset == UInt32.max { break }
                        let keyLength = buffer.load(fromByteOffset: slot - 4, as: UInt32.self)
                        let valueOffset = buffer.load(fromByteOffset: slot - 8, as: UInt32.self)
                        let valueLength = buffer.load(fromByteOffset: slot - 12, as: UInt32.self)
                        slot -= 16
                        try body(
                            UnsafeRawBufferPointer(rebasing: buffer[Int(keyOffset)..<Int(keyOffset + keyLength)]),
                            UnsafeRawBufferPointer(rebasing: buffer[Int(valueOffset)..<Int(valueOffset + valueLength)]))
                    }
                }
            }
            if outcome == DB_NOTFOUND { break }
            if outcome == DB_BUFFER_SMALL && capacity < 1 << 30 {
                capacity *= 4
                continue
            }
            try check(outcome, "read \(method.rawValue) database")
        }
        log.messages.removeAll()
    }

    /// The descriptor libdb reads the file through.
    func fileDescriptor() throws -> FileDescriptor {
        var fd: Int32 = -1
        try check(handle.pointee.fd!(handle, &fd), "get the file descriptor of")
        return FileDescriptor(rawValue: fd)
    }

    func pageSize() throws -> UInt32 {
        var size: UInt32 = 0
        try check(handle.pointee.get_pagesize!(handle, &size), "get the page size of")
        return size
    }

    func isByteSwapped() throws -> Bool {
        var swapped: Int32 = 0
        try check(handle.pointee.get_byteswapped!(handle, &swapped), "get the byte order of")
        return swapped != 0
    }

    /// Closes the handle, which flushes a new database to its file.
    func close() throws {
        guard !isClosed else { return }
        isClosed = true
        try check(handle.pointee.close!(handle, 0), "close \(method.rawValue) database")
    }

    private static func entry(_ bytes: UnsafeMutableRawBufferPointer) -> DBT {
        var entry = DBT()
        entry.data = bytes.baseAddress
        entry.size = UInt32(bytes.count)
        return entry
    }

    private static func bytes(of entry: DBT) -> [UInt8] {
        Array(buffer(of: entry))
    }

    private static func buffer(of entry: DBT) -> UnsafeRawBufferPointer {
        guard let data = entry.data, entry.size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: data, count: Int(entry.size))
    }

    /// The access method recorded in `path`, or nil when it is not a
    /// Berkeley DB file at all. Used only to explain an EINVAL.
    private static func actualType(of path: String) -> DBTYPE? {
        guard let probe = try? BerkeleyDatabase(path: path, method: .hash) else { return nil }
        let handle = probe.handle
        guard handle.pointee.open!(handle, nil, path, nil, DB_UNKNOWN, UInt32(DB_RDONLY), 0) == 0 else {
            return nil
        }
        var type = DB_UNKNOWN
        guard handle.pointee.get_type!(handle, &type) == 0 else { return nil }
        return type
    }

    private static func name(of type: DBTYPE) -> String {
        switch type {
        case DB_HASH: return "hash"
        case DB_BTREE: return "btree"
        case DB_RECNO: return "recno"
        case DB_QUEUE: return "queue"
        case DB_HEAP: return "heap"
        default: return "unknown-type"
        }
    }
}
