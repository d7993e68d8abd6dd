// Bytes.swift: the byte classes Postfix's parsers use.
//
// Postfix files are bytes, not text: a policy table may hold non-UTF-8 bytes,
// CRLF line ends or a missing final newline, and everything the tool does not
// change must be written back unchanged. So the models work on [UInt8] with
// Postfix's own (C locale) notion of white space and case.

import KeyFolding

/// Postfix's ISSPACE(): the C locale's isspace(), i.e. space, \t, \n, \v, \f, \r.
@inline(__always)
public func isPostfixSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
}

/// ASCII lower-casing, as Postfix's lowercase() does for table keys.
@inline(__always)
public func asciiLowercased(_ byte: UInt8) -> UInt8 {
    (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
}

extension Collection where Element == UInt8 {
    /// The bytes with ASCII letters lower-cased, as postmap stores keys.
    public func asciiLowercased() -> [UInt8] {
        map(PostconfModel.asciiLowercased)
    }

    /// The key as Postfix stores it in an index and folds a lookup (see
    /// PostfixKeyFolding): with `utf8` (smtputf8_enable = yes) ICU full case
    /// folding of a non-ASCII key, else ASCII lower-casing. nil when `utf8`
    /// and the key is not UTF-8: Postfix skips it, so it is never found.
    public func postfixFoldedKey(utf8: Bool) -> [UInt8]? {
        PostfixKeyFolding.fold(self, utf8: utf8)
    }

    /// Compares with an ASCII string, ignoring ASCII case (Postfix's strcasecmp).
    public func equalsIgnoringASCIICase(_ other: String) -> Bool {
        equalsIgnoringASCIICase(bytes: other.utf8)
    }

    /// The same for bytes.
    public func equalsIgnoringASCIICase(bytes other: some Sequence<UInt8>) -> Bool {
        var otherBytes = other.makeIterator()
        for byte in self {
            guard let o = otherBytes.next(),
                PostconfModel.asciiLowercased(byte) == PostconfModel.asciiLowercased(o)
            else { return false }
        }
        return otherBytes.next() == nil
    }

    /// Whether the bytes are well-formed UTF-8 (no over-long forms, no
    /// surrogates, nothing above U+10FFFF): the check postmap applies to each
    /// logical line when SMTPUTF8 is enabled.
    public var isValidUTF8: Bool {
        var iterator = makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// The bytes as text for a message: valid UTF-8 as is, other bytes as \xNN.
    public var printable: String {
        // At most 200 bytes, so that a 10 MB line is not a 10 MB message.
        if count > 200 { return prefix(200).printable + "..." }
        // Table keys are nearly always plain ASCII: one copy, no per-byte work.
        if let plain = withContiguousStorageIfAvailable({ bytes -> String? in
            bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) ? String(decoding: bytes, as: UTF8.self) : nil
        }), let plain {
            return plain
        }
        var out = ""
        for byte in self {
            if byte >= 0x20 && byte < 0x7F {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else if byte == 0x09 {
                out += "\\t"
            } else if byte == 0x0D {
                out += "\\r"
            } else {
                out += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
