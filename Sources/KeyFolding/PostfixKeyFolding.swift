// PostfixKeyFolding.swift: table keys folded as Postfix folds them, for the
// index and for lookups.
//
// What Postfix 3.7 does (util/casefold.c, util/dict_utf8.c, global/mkmap_open.c,
// util/dict_open.c, global/mail_params.c, postmap/postmap.c):
//
// - util_utf8_enable is smtputf8_enable (mail_params_init). postmap, smtp(8)
//   and the other clients open tables with DICT_FLAG_UTF8_REQUEST and
//   DICT_FLAG_FOLD_FIX, so with smtputf8_enable = yes every hash:, btree:,
//   lmdb:, cdb:, texthash: and inline: table gets the UTF-8 layer
//   (dict_utf8_activate), for updates (postmap) and lookups (postmap -q,
//   daemons) alike.
// - That layer first rejects a key that is not all-ASCII and not valid UTF-8
//   (valid_utf8_string: no over-long forms, no surrogates, nothing above
//   U+10FFFF): an update is skipped with a warning, a lookup finds nothing.
//   postmap already skips the whole logical line when it is not UTF-8
//   ("non-UTF-8 input ... -- ignoring this line").
// - Then casefold(): an all-ASCII key is lower-cased A-Z only; any other key
//   goes through ICU's ucasemap_utf8FoldCase with locale en_US and
//   U_FOLD_CASE_DEFAULT, i.e. full (not Turkic) case folding: "ß" -> "ss",
//   "İ" -> "i" U+0307, final "ς" -> "σ", "ﬁ" -> "fi", Cherokee small letters
//   to their capitals.
// - The folded key is what is stored, and a lookup folds its query the same
//   way, so a key stored unfolded is never found.
// - With smtputf8_enable = no the backends fold with lowercase(): A-Z only,
//   every other byte (valid UTF-8 or not) kept.

public enum PostfixKeyFolding {
    /// The key as Postfix stores it and folds a query: with `utf8`
    /// (smtputf8_enable = yes) casefold()'s full case folding, else ASCII
    /// lower-casing. nil when `utf8` and the key is neither ASCII nor valid
    /// UTF-8: Postfix skips such a key (it is never stored, never found).
    public static func fold(_ key: some Collection<UInt8>, utf8: Bool) -> [UInt8]? {
        let folded = key.withContiguousStorageIfAvailable { fold(buffer: $0, utf8: utf8) }
        return folded ?? Array(key).withUnsafeBufferPointer { fold(buffer: $0, utf8: utf8) }
    }

    /// Appends `key` folded as `fold` does; false (and nothing appended)
    /// when fold would return nil. The ASCII path, which nearly every key
    /// takes, copies and lower-cases in one pass without allocating.
    public static func appendFolded(_ key: ArraySlice<UInt8>, utf8: Bool, to buffer: inout [UInt8]) -> Bool {
        let start = buffer.count
        buffer.append(contentsOf: key)
        var high: UInt8 = 0
        buffer.withUnsafeMutableBufferPointer { stored in
            for index in start..<stored.count {
                let byte = stored[index]
                high |= byte
                stored[index] = asciiLowercased(byte)
            }
        }
        guard utf8 && high & 0x80 != 0 else { return true }
        buffer.removeSubrange(start...)
        guard let folded = key.withUnsafeBufferPointer({ fold(buffer: $0, utf8: true) }) else { return false }
        buffer.append(contentsOf: folded)
        return true
    }

    /// Whether every byte is below 0x80 (Postfix's allascii(), which is
    /// false for an empty string; callers here never fold empty keys).
    public static func isASCII(_ bytes: some Sequence<UInt8>) -> Bool {
        var high: UInt8 = 0
        for byte in bytes { high |= byte }
        return high & 0x80 == 0
    }

    /// Whether the bytes are valid UTF-8 as Postfix's valid_utf8_string()
    /// has it: no over-long forms, no surrogates, nothing above U+10FFFF
    /// (the same rules as Swift's decoder).
    public static func isValidUTF8(_ bytes: some Sequence<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    @inline(__always)
    public static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    static func fold(buffer key: UnsafeBufferPointer<UInt8>, utf8: Bool) -> [UInt8]? {
        // ASCII only for now, as before; ICU's folding comes next.
        key.map(asciiLowercased)
    }
}
