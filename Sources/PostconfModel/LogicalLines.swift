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

#if canImport(Glibc)
import Glibc
#endif

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

    @usableFromInline
    init(start: Int, contentEnd: Int, end: Int, number: Int) {
        self.start = start
        self.contentEnd = contentEnd
        self.end = end
        self.number = number
    }
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

    @usableFromInline
    init(firstLine: Int, lastTextLine: Int, startsWithWhitespace: Bool) {
        self.firstLine = firstLine
        self.lastTextLine = lastTextLine
        self.startsWithWhitespace = startsWithWhitespace
    }
}

/// A configuration file split into physical and logical lines, losslessly.
public struct ConfigText: Sendable {
    /// The file, byte for byte.
    public let bytes: [UInt8]
    /// Every physical line, in order; together they cover `bytes` exactly.
    public let lines: PhysicalLines
    /// How readllines() classifies each physical line.
    public let kinds: [PhysicalLineKind]
    /// Every logical line, in order.
    public let logicalLines: LogicalLines
    /// 1-based number of the first line that holds a NUL byte, if any; Postfix
    /// reads such a line as C strings and silently truncates it.
    public let firstLineWithNUL: Int?

    /// Reads `bytes`, which must be less than 4 GiB (line offsets are
    /// stored in 32 bits; a Postfix file of that size is not a thing).
    /// One pass, as readllines() reads: kept as one loop, since splitting it
    /// would cost the per-line calls this pass exists to avoid.
    public init(bytes: [UInt8]) {
        precondition(bytes.count < Int(UInt32.max), "a configuration file of 4 GiB or more")
        self.bytes = bytes
        // One pass with memchr over the buffer: a table of a million lines is
        // split in a few milliseconds, and each line costs 5 bytes of index
        // (a 32-bit end offset and its kind), not a struct per line.
        var ends: [UInt32] = []
        var kinds: [PhysicalLineKind] = []
        var firstLines: [UInt32] = []
        var nulOffset: Int?
        let estimate = bytes.count / 40 + 1
        ends.reserveCapacity(estimate)
        kinds.reserveCapacity(estimate)
        firstLines.reserveCapacity(estimate)
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = buffer.count
            if let nul = memchr(base, 0, count) {
                nulOffset = UnsafeRawPointer(nul) - UnsafeRawPointer(base)
            }
            var offset = 0
            var inLogicalLine = false
            while offset < count {
                let start = offset
                let contentEnd: Int
                if let newline = memchr(base + start, 0x0A, count - start) {
                    contentEnd = UnsafeRawPointer(newline) - UnsafeRawPointer(base)
                    offset = contentEnd + 1
                } else {
                    contentEnd = count
                    offset = count
                }
                var firstNonBlank = start
                while firstNonBlank < contentEnd && isPostfixSpace(buffer[firstNonBlank]) { firstNonBlank += 1 }
                let kind: PhysicalLineKind
                if firstNonBlank == contentEnd {
                    kind = .blank
                } else if buffer[firstNonBlank] == UInt8(ascii: "#") {
                    kind = .comment
                } else if firstNonBlank == start {
                    kind = .start
                    firstLines.append(UInt32(ends.count))
                    inLogicalLine = true
                } else {
                    kind = .continuation
                    if !inLogicalLine {
                        firstLines.append(UInt32(ends.count))  // dropped by Postfix: starts with white space
                        inLogicalLine = true
                    }
                }
                ends.append(UInt32(offset))
                kinds.append(kind)
            }
        }
        self.lines = PhysicalLines(bytes: bytes, ends: ends)
        self.kinds = kinds
        self.logicalLines = LogicalLines(firstLines: firstLines, kinds: kinds)
        self.firstLineWithNUL = nulOffset.map { offset in
            // The line whose end is the first one past the NUL.
            var low = 0
            var high = ends.count
            while low < high {
                let mid = (low + high) / 2
                if Int(ends[mid]) <= offset { low = mid + 1 } else { high = mid }
            }
            return low + 1
        }
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

/// The physical lines of a ConfigText, stored as one end offset per line.
/// The accessors are inlinable: other modules walk a million lines with them.
public struct PhysicalLines: RandomAccessCollection, Sendable {
    @usableFromInline let bytes: [UInt8]
    /// Offset just past each line's '\n' (or the end of the file).
    @usableFromInline let ends: [UInt32]

    init(bytes: [UInt8], ends: [UInt32]) {
        self.bytes = bytes
        self.ends = ends
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { ends.count }

    /// Where line `index` ends (just past its '\n'): `self[index].end`
    /// without the rest, for searches over many lines.
    @inlinable public func end(of index: Int) -> Int { Int(ends[index]) }

    @inlinable
    public subscript(index: Int) -> PhysicalLine {
        let start = index == 0 ? 0 : Int(ends[index - 1])
        let end = Int(ends[index])
        let contentEnd = end > start && bytes[end - 1] == 0x0A ? end - 1 : end
        return PhysicalLine(start: start, contentEnd: contentEnd, end: end, number: index + 1)
    }
}

/// The logical lines of a ConfigText, stored as the index of each one's
/// first physical line; the rest follows from the line kinds.
public struct LogicalLines: RandomAccessCollection, Sendable {
    @usableFromInline let firstLines: [UInt32]
    @usableFromInline let kinds: [PhysicalLineKind]

    init(firstLines: [UInt32], kinds: [PhysicalLineKind]) {
        self.firstLines = firstLines
        self.kinds = kinds
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { firstLines.count }

    @inlinable
    public subscript(index: Int) -> LogicalLine {
        let first = Int(firstLines[index])
        // Everything up to the next logical line belongs to this one; comment
        // and blank lines at its end are not text lines.
        var last = index + 1 < firstLines.count ? Int(firstLines[index + 1]) - 1 : kinds.count - 1
        while last > first && (kinds[last] == .blank || kinds[last] == .comment) { last -= 1 }
        return LogicalLine(firstLine: first, lastTextLine: last, startsWithWhitespace: kinds[first] == .continuation)
    }
}
