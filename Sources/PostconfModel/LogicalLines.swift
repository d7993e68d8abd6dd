// LogicalLines.swift: the one tokenizer for Postfix configuration files.
//
// main.cf, master.cf and every postmap source share one line syntax, that of
// Postfix's readllines(): a logical line starts with non-blank text; a
// physical line that starts with white space continues it; a line whose first
// non-blank byte is '#', or that is blank, is skipped and does NOT end the
// logical line around it. Newlines are dropped when the pieces are joined and
// each continuation keeps its leading white space. A logical line that starts
// with white space (only possible at the top of a file) is dropped by Postfix
// with a warning.
//
// The model keeps byte offsets into the original buffer, so printing the
// lines back yields the file byte for byte, and an edit can say exactly which
// bytes it replaces.

/// One physical line of a file: byte offsets into the file's buffer.
public struct PhysicalLine: Sendable, Equatable {
    /// Offset of the first byte.
    public var start: Int
    /// Offset just past the content: the '\n' is not part of it, a '\r' is.
    public var contentEnd: Int
    /// Offset just past the '\n' (equal to contentEnd on a last line without one).
    public var end: Int
    /// 1-based line number, as Postfix counts them.
    public var number: Int

    public var hasNewline: Bool { end > contentEnd }
}

/// What a physical line is to readllines().
public enum PhysicalLineKind: Sendable, Equatable {
    /// Empty or white space only: skipped.
    case blank
    /// First non-blank byte is '#': skipped, even inside a logical line.
    case comment
    /// Text that starts a logical line.
    case start
    /// Text that starts with white space: continues the current logical line.
    case continuation
}

/// One logical line: a first text line, its continuation lines and the
/// comment or blank lines between them.
public struct LogicalLine: Sendable, Equatable {
    /// Index (into `ConfigText.lines`) of the first text line.
    public var firstLine: Int
    /// Index of the last text (non-comment, non-blank) line.
    public var lastTextLine: Int
    /// Whether Postfix drops this line because it starts with white space.
    public var startsWithWhitespace: Bool

    /// Whether the logical line spans more than one physical line.
    public var isContinued: Bool { lastTextLine > firstLine }
}

/// A configuration file split into physical and logical lines, losslessly.
public struct ConfigText: Sendable {
    /// The file, byte for byte.
    public let bytes: [UInt8]
    /// Every physical line, in order; together they cover `bytes` exactly.
    public let lines: [PhysicalLine]
    /// How readllines() classifies each physical line.
    public let kinds: [PhysicalLineKind]
    /// Every logical line, in order.
    public let logicalLines: [LogicalLine]
    /// 1-based number of the first line that holds a NUL byte, if any; Postfix
    /// reads such a line as C strings and silently truncates it.
    public let firstLineWithNUL: Int?

    public init(bytes: [UInt8]) {
        self.bytes = bytes
        var lines: [PhysicalLine] = []
        var kinds: [PhysicalLineKind] = []
        var nulLine: Int?
        lines.reserveCapacity(bytes.count / 32 + 1)
        kinds.reserveCapacity(bytes.count / 32 + 1)
        bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            var number = 0
            let count = buffer.count
            while offset < count {
                number += 1
                let start = offset
                var firstNonBlank = -1
                while offset < count && buffer[offset] != 0x0A {
                    let byte = buffer[offset]
                    if firstNonBlank < 0 && !isPostfixSpace(byte) { firstNonBlank = offset }
                    if byte == 0 && nulLine == nil { nulLine = number }
                    offset += 1
                }
                let contentEnd = offset
                if offset < count { offset += 1 }  // the '\n'
                lines.append(PhysicalLine(start: start, contentEnd: contentEnd, end: offset, number: number))
                if firstNonBlank < 0 {
                    kinds.append(.blank)
                } else if buffer[firstNonBlank] == UInt8(ascii: "#") {
                    kinds.append(.comment)
                } else if firstNonBlank == start {
                    kinds.append(.start)
                } else {
                    kinds.append(.continuation)
                }
            }
        }
        self.lines = lines
        self.kinds = kinds
        self.firstLineWithNUL = nulLine
        self.logicalLines = ConfigText.group(kinds)
    }

    /// Groups classified lines the way readllines() does.
    private static func group(_ kinds: [PhysicalLineKind]) -> [LogicalLine] {
        var result: [LogicalLine] = []
        var current: LogicalLine?
        for (index, kind) in kinds.enumerated() {
            switch kind {
            case .blank, .comment:
                continue
            case .continuation:
                if current != nil {
                    current!.lastTextLine = index
                } else {
                    current = LogicalLine(firstLine: index, lastTextLine: index, startsWithWhitespace: true)
                }
            case .start:
                if let finished = current { result.append(finished) }
                current = LogicalLine(firstLine: index, lastTextLine: index, startsWithWhitespace: false)
            }
        }
        if let finished = current { result.append(finished) }
        return result
    }

    /// The content bytes of a physical line (without its '\n').
    public func content(ofLine index: Int) -> ArraySlice<UInt8> {
        let line = lines[index]
        return bytes[line.start..<line.contentEnd]
    }

    /// The logical line's text as readllines() builds it: the text lines'
    /// contents concatenated, newlines dropped, comment and blank lines left out.
    public func text(of logical: LogicalLine) -> [UInt8] {
        if !logical.isContinued {
            return Array(content(ofLine: logical.firstLine))
        }
        var joined: [UInt8] = []
        for index in logical.firstLine...logical.lastTextLine
        where kinds[index] == .start || kinds[index] == .continuation {
            joined.append(contentsOf: content(ofLine: index))
        }
        return joined
    }

    /// The logical line's text with, for each text byte, where it is in the
    /// file: what edits of a joined line (a master.cf entry, an inline
    /// table in main.cf) need to address the original bytes.
    public func joinedText(of logical: LogicalLine) -> JoinedText {
        var joined = JoinedText()
        for index in logical.firstLine...logical.lastTextLine
        where kinds[index] == .start || kinds[index] == .continuation {
            let line = lines[index]
            joined.segments.append((textStart: joined.bytes.count, fileStart: line.start))
            joined.bytes.append(contentsOf: bytes[line.start..<line.contentEnd])
        }
        return joined
    }

    /// The 1-based line number of a logical line's first text line.
    public func lineNumber(of logical: LogicalLine) -> Int {
        lines[logical.firstLine].number
    }

    /// The file printed back from its physical lines (equal to `bytes`).
    public func reprinted() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for line in lines {
            out.append(contentsOf: bytes[line.start..<line.end])
        }
        return out
    }
}

/// A logical line's joined text and the map from its offsets to file offsets.
public struct JoinedText: Sendable {
    public var bytes: [UInt8] = []
    /// Where each text line's content starts, in the text and in the file.
    public var segments: [(textStart: Int, fileStart: Int)] = []

    /// The file offset of a text offset; the end of the text maps to the end
    /// of the last text line's content.
    public func fileOffset(_ textOffset: Int) -> Int {
        guard let segment = segments.last(where: { $0.textStart <= textOffset }) else { return textOffset }
        return segment.fileStart + (textOffset - segment.textStart)
    }
}
