// PatternTable.swift: regexp: and pcre: table files, read as Postfix's
// dict_regexp/dict_pcre read them, far enough to find and edit each rule's
// result (for a TLS policy table, the policy).
//
// Lines are logical lines (the shared tokenizer). A rule is
// "[!]/pattern/flags result": the first byte after an optional '!' is the
// delimiter, a backslash escapes the next byte, flags are letters, and the
// result is the rest with outer white space trimmed. "if /pattern/flags" and
// "endif" nest rules; they carry no result. Rules are tried in file order
// and the first match wins, so there are no duplicate keys to speak of.

public struct PatternRule: Sendable, Equatable {
    /// The pattern as written, delimiters, '!' and flags included.
    public var pattern: [UInt8]
    public var result: [UInt8]
    public var logicalLine: LogicalLine
    public var lineNumber: Int
}

public struct PatternTable: Sendable {
    public let path: String
    public let text: ConfigText
    public let rules: [PatternRule]

    public init(path: String, bytes: [UInt8]) throws(ConfigFileError) {
        let text = ConfigText(bytes: bytes)
        if let line = text.firstLineWithNUL {
            throw ConfigFileError(SourceLocation(path: path, line: line), "NUL byte in a pattern table")
        }
        var rules: [PatternRule] = []
        for logical in text.logicalLines where !logical.startsWithWhitespace {
            let lineNumber = text.lineNumber(of: logical)
            let line = text.text(of: logical)
            if PatternTable.isKeyword(line, "endif") || PatternTable.isKeyword(line, "if") { continue }
            guard let (pattern, result) = PatternTable.splitRule(line) else {
                throw ConfigFileError(SourceLocation(path: path, line: lineNumber), "bad pattern rule: \"\(line.prefix(60).printable)\"")
            }
            rules.append(PatternRule(pattern: pattern, result: result, logicalLine: logical, lineNumber: lineNumber))
        }
        self.path = path
        self.text = text
        self.rules = rules
    }

    /// Whether the line is the keyword followed by white space or its end
    /// ("if /x/", "endif").
    static func isKeyword(_ line: [UInt8], _ keyword: String) -> Bool {
        let word = Array(keyword.utf8)
        guard line.count >= word.count, line[..<word.count].equalsIgnoringASCIICase(keyword) else { return false }
        return line.count == word.count || isPostfixSpace(line[word.count]) || (keyword == "if" && !isLetterOrDigit(line[word.count]))
    }

    static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
    }

    /// "[!]/pattern/flags result" split into pattern and result; nil when
    /// the delimiter is not closed or there is no result.
    static func splitRule(_ line: [UInt8]) -> (pattern: [UInt8], result: [UInt8])? {
        var index = 0
        if index < line.count && line[index] == UInt8(ascii: "!") { index += 1 }
        guard index < line.count else { return nil }
        let delimiter = line[index]
        index += 1
        var closed = false
        while index < line.count {
            if line[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if line[index] == delimiter {
                closed = true
                index += 1
                break
            }
            index += 1
        }
        guard closed else { return nil }
        while index < line.count && !isPostfixSpace(line[index]) { index += 1 }  // flags
        let patternEnd = index
        while index < line.count && isPostfixSpace(line[index]) { index += 1 }
        var end = line.count
        while end > index && isPostfixSpace(line[end - 1]) { end -= 1 }
        guard end > index else { return nil }
        return (Array(line[..<patternEnd]), Array(line[index..<end]))
    }
}
