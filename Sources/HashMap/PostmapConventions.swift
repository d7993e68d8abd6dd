// PostmapConventions.swift: the on-disk conventions postmap(1) follows on
// Linux, kept in one place so the reader and the writer agree: keys folded as
// casefold() folds them (ICU full case folding with smtputf8_enable = yes,
// ASCII lower-casing otherwise; see PostfixKeyFolding), keys and values
// stored with a trailing NUL, 4096-byte pages, and the owner and mode a newly
// created index gets.

import FileSafety
import KeyFolding

enum PostmapConventions {
    /// postmap's page size (Berkeley DB's default on Linux, set explicitly
    /// so the file does not depend on the file system's block size).
    static let pageSize: UInt32 = 4096
    /// postmap's set_h_nelem() hint.
    static let minimumHashElements = 4096

    /// Folds a key like postmap does: Postfix's lookups fold the query too,
    /// so a key stored unfolded could never be found. `utf8` is
    /// smtputf8_enable; nil when it is on and the key is not UTF-8 (Postfix
    /// skips such a key: it is never stored, never found).
    static func foldedKey(_ key: [UInt8], utf8: Bool) -> [UInt8]? {
        PostfixKeyFolding.fold(key, utf8: utf8)
    }

    /// libdb's default hash function (__ham_func5, an FNV variant) of a key
    /// as it is stored: folded, with its NUL. Only orders inserts; nothing
    /// depends on it for correctness.
    static func libdbHash(storedKeyOf key: ArraySlice<UInt8>, utf8: Bool) -> UInt32 {
        var hash: UInt32 = 0
        var high: UInt8 = 0
        for byte in key {
            high |= byte
            hash = (hash &* 16_777_619) ^ UInt32(folded(byte))
        }
        if utf8 && high & 0x80 != 0, let stored = PostfixKeyFolding.fold(key, utf8: true) {
            hash = 0
            for byte in stored { hash = (hash &* 16_777_619) ^ UInt32(byte) }
        }
        return hash &* 16_777_619  // the trailing NUL
    }

    /// Appends `key` folded and NUL-terminated, i.e. as stored on disk;
    /// false (nothing appended) for a key postmap would skip (see foldedKey).
    static func appendStoredKey(_ key: ArraySlice<UInt8>, utf8: Bool, to buffer: inout [UInt8]) -> Bool {
        guard PostfixKeyFolding.appendFolded(key, utf8: utf8, to: &buffer) else { return false }
        buffer.append(0)
        return true
    }

    static func folded(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    /// Linux Postfix does not define DB_NO_TRAILING_NULL, so every key and
    /// value is stored with its C string terminator.
    static func terminated(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [0]
    }

    /// Appends `value` and then `appended`, NUL-terminated.
    static func appendStoredValue(_ value: ArraySlice<UInt8>, appended: ArraySlice<UInt8> = [], to buffer: inout [UInt8]) {
        buffer.append(contentsOf: value)
        buffer.append(contentsOf: appended)
        buffer.append(0)
    }

    /// Removes one terminator, if present (files written with postmap -n
    /// have none).
    static func strippingTerminator(_ bytes: [UInt8]) -> [UInt8] {
        bytes.last == 0 ? Array(bytes.dropLast()) : bytes
    }

    static func strippingTerminator(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        bytes.last == 0 ? UnsafeRawBufferPointer(rebasing: bytes.dropLast()) : bytes
    }
}

extension IndexWriter {
    /// The owner, group and mode postmap gives a .db it creates for `source`:
    /// it runs with umask 022 | (~source mode & 077) and switches to the
    /// source's owner, so the index is never readable by anyone who cannot
    /// read the source (0600 -> 0600, 0640 -> 0640, 0644 -> 0644).
    public static func postmapNewIndexMetadata(source: FileMetadata) -> FileMetadata {
        let umask: UInt32 = 0o022 | (~source.mode & 0o077)
        return FileMetadata(mode: 0o644 & ~umask, uid: source.uid, gid: source.gid)
    }
}
