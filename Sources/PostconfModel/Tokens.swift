// Tokens.swift: the one splitter for Postfix's token lists: map lists
// ("hash:a, inline:{ k=v }"), policy values ("verify { servername = x }")
// and master.cf arguments ("-o { name = value }").
//
// Postfix's mystrtokq() splits on a set of separator bytes but does not
// split inside "{...}" (braces nest), so a group's white space is part of its
// token. Tokens are returned as byte ranges so that callers can map them
// back to file offsets for lossless edits.

public enum Tokens {
    /// Postfix's CHARS_COMMA_SP (", \t\r\n"): separators of map lists and
    /// policy values.
    public static func isCommaOrSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    /// Postfix's CHARS_SPACE (" \t\r\n"): separators of master.cf fields.
    public static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    /// The tokens of `bytes`, as ranges of its indices. With `braces`,
    /// separators inside "{...}" (anywhere in a token, braces nesting) do not
    /// end the token, as in mystrtokq(): "inline:{ a=b, c=d }" is one token.
    public static func split<Bytes: RandomAccessCollection>(
        _ bytes: Bytes, braces: Bool, isSeparator: (UInt8) -> Bool
    ) -> [Range<Bytes.Index>] where Bytes.Element == UInt8 {
        var tokens: [Range<Bytes.Index>] = []
        tokens.reserveCapacity(4)  // most lists and values are short: one allocation, not two or three
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if isSeparator(bytes[index]) {
                index = bytes.index(after: index)
                continue
            }
            let start = index
            var depth = 0
            while index < bytes.endIndex {
                let byte = bytes[index]
                if braces && byte == UInt8(ascii: "{") {
                    depth += 1
                } else if braces && depth > 0 && byte == UInt8(ascii: "}") {
                    depth -= 1
                } else if depth == 0 && isSeparator(byte) {
                    break
                }
                index = bytes.index(after: index)
            }
            tokens.append(start..<index)
        }
        return tokens
    }

    /// Whether every '{' in a token is closed: an unclosed one made the
    /// token swallow the rest of the line.
    public static func hasBalancedBraces<Bytes: Collection>(_ token: Bytes) -> Bool where Bytes.Element == UInt8 {
        var depth = 0
        for byte in token {
            if byte == UInt8(ascii: "{") { depth += 1 }
            if byte == UInt8(ascii: "}") && depth > 0 { depth -= 1 }
        }
        return depth == 0
    }

    /// Whether a token is a complete "{...}" group.
    public static func isBraced<Bytes: BidirectionalCollection>(_ token: Bytes) -> Bool where Bytes.Element == UInt8 {
        token.first == UInt8(ascii: "{") && token.last == UInt8(ascii: "}") && token.count >= 2
    }

    /// The inside of a "{ ... }" group with the white space next to the
    /// braces removed (Postfix's extpar()).
    public static func unbraced(_ token: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var body = token.dropFirst().dropLast()
        while let first = body.first, isPostfixSpace(first) { body = body.dropFirst() }
        while let last = body.last, isPostfixSpace(last) { body = body.dropLast() }
        return body
    }

    /// "name = value" / "name=value" split at the first '=', white space
    /// around the name and value trimmed (Postfix's split_nameval()); nil
    /// when there is no name or no '='.
    public static func nameValue(_ bytes: ArraySlice<UInt8>) -> (name: ArraySlice<UInt8>, value: ArraySlice<UInt8>)? {
        var body = bytes
        while let first = body.first, isPostfixSpace(first) { body = body.dropFirst() }
        guard let equals = body.firstIndex(of: UInt8(ascii: "=")), equals > body.startIndex else { return nil }
        var name = body[..<equals]
        while let last = name.last, isPostfixSpace(last) { name = name.dropLast() }
        if name.contains(where: isPostfixSpace) { return nil }
        var value = body[(equals + 1)...]
        while let first = value.first, isPostfixSpace(first) { value = value.dropFirst() }
        while let last = value.last, isPostfixSpace(last) { value = value.dropLast() }
        return (name, value)
    }
}
