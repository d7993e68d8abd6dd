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

import CICU

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
        if !utf8 || isASCII(key) { return key.map(asciiLowercased) }
        guard isValidUTF8(key) else { return nil }
        return icuFold(key)
    }

    /// ICU full case folding of valid UTF-8, as casefold() calls it.
    static func icuFold(_ key: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        precondition(key.count < Int(Int32.max) / 3, "a key of 700 MB or more cannot be folded")
        // Folding grows a string at most threefold (U+0390 ΐ: 2 bytes -> 6).
        var capacity = key.count * 3 + 1
        for _ in 0..<3 {
            var overflow: Int32 = 0
            var error: Int32 = 0
            var length: Int32 = 0
            let folded = [UInt8](unsafeUninitializedCapacity: capacity) { output, count in
                length = key.withMemoryRebound(to: CChar.self) { source in
                    output.withMemoryRebound(to: CChar.self) { output in
                        cicu_utf8_fold_case(
                            caseMap.map, output.baseAddress, Int32(capacity),
                            source.baseAddress, Int32(source.count), &overflow, &error)
                    }
                }
                count = overflow == 0 && error == 0 ? Int(length) : 0
            }
            if error != 0 {
                // casefold() treats this as fatal: ICU has no input-dependent errors for valid UTF-8.
                fatalError("ICU case folding failed: \(String(cString: cicu_error_name(error)))")
            }
            if overflow == 0 { return folded }
            capacity = Int(length) + 1
        }
        fatalError("ICU case folding: the output size keeps changing")
    }

    /// The one case map, opened on first use ("en_US", default folding, as
    /// casefold() opens it). TableSource folds on two threads at once: ICU
    /// (ucasemap.h) gives only titlecasing a non-const map, for its break
    /// iterator; folding takes a const one and may share it.
    private static let caseMap: CaseMap = {
        var error: Int32 = 0
        guard let map = cicu_casemap_open("en_US", cicu_fold_case_default(), &error) else {
            fatalError("ucasemap_open failed: \(String(cString: cicu_error_name(error)))")
        }
        return CaseMap(map: map)
    }()

    private struct CaseMap: @unchecked Sendable {
        let map: OpaquePointer
    }
}
