// MainCf.swift: main.cf as Postfix reads it (dict_load_fp, split_nameval),
// with lossless edits.
//
// Each logical line is "name = value": the name ends at white space or '=',
// white space around '=' and at the end is not part of the value, and a '#'
// after the value is part of it. A later definition of a name overrides an
// earlier one. A line without '=' is fatal to every Postfix program.

/// One "name = value" definition.
public struct MainCfParameter: Sendable, Equatable {
    public var name: String
    /// The raw (unexpanded) value, continuation lines joined.
    public var value: [UInt8]
    public var logicalLine: LogicalLine
    public var lineNumber: Int
}

public struct MainCf: Sendable {
    public let path: String
    public let text: ConfigText
    /// Every definition in file order, overridden ones included.
    public let definitions: [MainCfParameter]
    /// The value in force for each name (the last definition).
    public let values: [String: [UInt8]]

    public init(path: String, bytes: [UInt8]) throws(ConfigFileError) {
        let text = ConfigText(bytes: bytes)
        if let line = text.firstLineWithNUL {
            throw ConfigFileError(SourceLocation(path: path, line: line), "NUL byte in main.cf")
        }
        var definitions: [MainCfParameter] = []
        var values: [String: [UInt8]] = [:]
        for logical in text.logicalLines where !logical.startsWithWhitespace {
            let lineNumber = text.lineNumber(of: logical)
            let line = text.text(of: logical)
            let location = SourceLocation(path: path, line: lineNumber)
            let (name, value) = try MainCf.splitNameValue(line, at: location)
            definitions.append(MainCfParameter(name: name, value: value, logicalLine: logical, lineNumber: lineNumber))
            values[name] = value
        }
        self.path = path
        self.text = text
        self.definitions = definitions
        self.values = values
    }

    /// Postfix's split_nameval(): "name = value" with outer white space trimmed.
    public static func splitNameValue(_ line: [UInt8], at location: SourceLocation) throws(ConfigFileError) -> (String, [UInt8]) {
        var index = 0
        while index < line.count && isPostfixSpace(line[index]) { index += 1 }
        if index == line.count || line[index] == UInt8(ascii: "=") {
            throw ConfigFileError(location, "missing attribute name: \"\(line.printable)\"")
        }
        let nameStart = index
        while index < line.count && !isPostfixSpace(line[index]) && line[index] != UInt8(ascii: "=") { index += 1 }
        let nameEnd = index
        while index < line.count && isPostfixSpace(line[index]) { index += 1 }
        guard index < line.count, line[index] == UInt8(ascii: "=") else {
            throw ConfigFileError(location, "missing '=' after attribute name: \"\(line.printable)\"")
        }
        index += 1
        while index < line.count && isPostfixSpace(line[index]) { index += 1 }
        var end = line.count
        while end > index && isPostfixSpace(line[end - 1]) { end -= 1 }
        return (String(decoding: line[nameStart..<nameEnd], as: UTF8.self), Array(line[index..<end]))
    }

    /// The definition in force for a name.
    public func definition(of name: String) -> MainCfParameter? {
        definitions.last { $0.name == name }
    }

    /// The edit that gives a parameter that is unset or empty in force a
    /// value, touching as little as possible: an empty setting in force gets
    /// the value in place; an unset parameter is appended at the end of the
    /// file (after a newline if the file lacks a final one), in the file's
    /// line-end style. Nil when the parameter already has a value.
    public func edit(setting name: String, to value: [UInt8]) -> ByteEdit? {
        if let existing = definition(of: name) {
            guard existing.value.isEmpty else { return nil }
            // An empty value is one text line: "name =", maybe with blanks or a CR after '='.
            let line = text.lines[existing.logicalLine.firstLine]
            guard let equals = text.bytes[line.start..<line.contentEnd].firstIndex(of: UInt8(ascii: "=")) else { return nil }
            var insertAt = equals + 1
            while insertAt < line.contentEnd && (text.bytes[insertAt] == 0x20 || text.bytes[insertAt] == 0x09) { insertAt += 1 }
            let needsSpace = insertAt == equals + 1
            return ByteEdit(insert: (needsSpace ? [0x20] : []) + value, at: insertAt)
        }
        let lineEnd: [UInt8] = usesCRLF ? [0x0D, 0x0A] : [0x0A]
        var appended: [UInt8] = []
        if let last = text.bytes.last {
            // Finish an unterminated last line; a lone trailing CR only needs its LF.
            if last == 0x0D { appended += [0x0A] } else if last != 0x0A { appended += lineEnd }
        }
        appended += Array("\(name) = ".utf8) + value + lineEnd
        return ByteEdit(insert: appended, at: text.bytes.count)
    }

    /// The edit that replaces the value in force of `name` (as written, not
    /// expanded) with `value`, leaving everything around it as it is. Nil
    /// when the parameter is unset or empty.
    public func edit(replacingValueOf name: String, with value: [UInt8]) -> ByteEdit? {
        guard let existing = definition(of: name), !existing.value.isEmpty, !existing.logicalLine.isContinued else { return nil }
        // The value ends the line but for blanks, so its last occurrence on
        // the line is the value itself.
        let line = text.lines[existing.logicalLine.firstLine]
        return text.bytes.lastRange(of: existing.value, in: line.start..<line.contentEnd).map { ByteEdit(range: $0, replacement: value) }
    }

    /// Whether the file's last terminated line ends in CR LF.
    private var usesCRLF: Bool {
        guard let line = text.lines.last(where: \.hasNewline) else { return false }
        return line.contentEnd > line.start && text.bytes[line.contentEnd - 1] == 0x0D
    }
}
