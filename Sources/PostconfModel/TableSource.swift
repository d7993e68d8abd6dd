// TableSource.swift: a postmap(1) source file, read the way postmap reads it.
//
// Each logical line is "key whitespace value": the key ends at the first
// white space that is not inside "..." or escaped by a backslash (the quotes
// and backslashes stay in the key), and the value is the rest with leading and
// trailing white space (including a CR) trimmed. postmap skips, with a
// warning, lines without a value, lines with an unbalanced quote, lines that
// start with white space and (with SMTPUTF8 enabled) lines that are not
// UTF-8; the same lines are skipped here and reported as such.

/// One record of a table source, as postmap would store it (before postmap
/// lower-cases the key).
public struct TableEntry: Sendable, Equatable {
    /// The key as written, quotes and backslashes included.
    public var key: [UInt8]
    /// The value: continuation lines joined, outer white space trimmed.
    public var value: [UInt8]
    /// The physical lines the entry came from.
    public var logicalLine: LogicalLine
    /// 1-based number of the entry's first line.
    public var lineNumber: Int
}

/// A line postmap skips, with the reason it gives.
public struct SkippedLine: Sendable, Equatable {
    public enum Reason: Error, Sendable, Equatable {
        case startsWithWhitespace
        case nonUTF8
        case unbalancedQuote
        case missingValue
    }
    public var reason: Reason
    public var lineNumber: Int

    public var message: String {
        switch reason {
        case .startsWithWhitespace: return "logical line must not start with whitespace; postmap ignores it"
        case .nonUTF8: return "non-UTF-8 input; postmap ignores this line"
        case .unbalancedQuote: return "unbalanced '\"'; postmap ignores this line"
        case .missingValue: return "expected format: key whitespace value; postmap ignores this line"
        }
    }
}

/// A postmap source file: its lines and the records postmap would build.
public struct TableSource: Sendable {
    public let path: String
    public let text: ConfigText
    /// The records, in file order (duplicates included).
    public let entries: [TableEntry]
    /// Lines postmap would skip with a warning.
    public let skippedLines: [SkippedLine]
    /// Whether the source was read in postmap's SMTPUTF8 mode.
    public let utf8Checks: Bool

    /// Reads a source. `utf8Checks` is postmap's SMTPUTF8 mode
    /// (`smtputf8_enable = yes`), in which non-UTF-8 lines are skipped.
    public init(path: String, bytes: [UInt8], utf8Checks: Bool) throws(ConfigFileError) {
        let text = ConfigText(bytes: bytes)
        if let line = text.firstLineWithNUL {
            throw ConfigFileError(SourceLocation(path: path, line: line), "NUL byte in a table source; Postfix would truncate this line")
        }
        var entries: [TableEntry] = []
        var skipped: [SkippedLine] = []
        entries.reserveCapacity(text.logicalLines.count)
        for logical in text.logicalLines {
            let lineNumber = text.lineNumber(of: logical)
            if logical.startsWithWhitespace {
                skipped.append(SkippedLine(reason: .startsWithWhitespace, lineNumber: lineNumber))
                continue
            }
            let record: Result<(key: [UInt8], value: [UInt8]), SkippedLine.Reason>
            if logical.isContinued {
                record = TableSource.split(text.text(of: logical)[...], utf8Checks: utf8Checks)
            } else {
                record = TableSource.split(text.content(ofLine: logical.firstLine), utf8Checks: utf8Checks)
            }
            switch record {
            case .success(let record):
                entries.append(TableEntry(key: record.key, value: record.value, logicalLine: logical, lineNumber: lineNumber))
            case .failure(let reason):
                skipped.append(SkippedLine(reason: reason, lineNumber: lineNumber))
            }
        }
        self.path = path
        self.text = text
        self.entries = entries
        self.skippedLines = skipped
        self.utf8Checks = utf8Checks
    }

    /// The records postmap stores from this source: keys ASCII lower-cased,
    /// the first of duplicate keys kept (postmap warns about the others).
    public func storedRecords() -> [[UInt8]: [UInt8]] {
        var records: [[UInt8]: [UInt8]] = [:]
        records.reserveCapacity(entries.count)
        for entry in entries {
            let key = entry.key.asciiLowercased()
            if records[key] == nil { records[key] = entry.value }
        }
        return records
    }

    /// Splits one logical line into key and value as postmap does.
    static func split(_ line: ArraySlice<UInt8>, utf8Checks: Bool) -> Result<(key: [UInt8], value: [UInt8]), SkippedLine.Reason> {
        if utf8Checks && line.contains(where: { $0 >= 0x80 }) && !line.isValidUTF8 {
            return .failure(.nonUTF8)
        }
        var index = line.startIndex
        var inQuotes = false
        while index < line.endIndex {
            let byte = line[index]
            if byte == UInt8(ascii: "\\") {
                index += 1
                if index == line.endIndex { break }
            } else if isPostfixSpace(byte) {
                if !inQuotes { break }
            } else if byte == UInt8(ascii: "\"") {
                inQuotes.toggle()
            }
            index += 1
        }
        if inQuotes { return .failure(.unbalancedQuote) }
        let key = line[line.startIndex..<index]
        var valueStart = index
        while valueStart < line.endIndex && isPostfixSpace(line[valueStart]) { valueStart += 1 }
        var valueEnd = line.endIndex
        while valueEnd > valueStart && isPostfixSpace(line[valueEnd - 1]) { valueEnd -= 1 }
        if key.isEmpty || valueStart == valueEnd { return .failure(.missingValue) }
        return .success((Array(key), Array(line[valueStart..<valueEnd])))
    }
}

/// A file that cannot be read as Postfix would read it: the location and
/// what is wrong.
public struct ConfigFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    public var problem: String

    public init(_ location: SourceLocation, _ problem: String) {
        self.location = location
        self.problem = problem
    }

    public var description: String { "\(location): \(problem)" }
}
