// DiffColorizer.swift: colours a unified diff as it streams past, in git's
// colours: file headers bold, hunk headers cyan, removed lines red, added
// lines green, context plain. It wraps the diff renderer's writer, so a
// coloured diff of a large table is never held whole either. Hunk line
// counts are followed, so a removed line that reads "-- x" is red, not taken
// for a "--- " header. The reset goes before the line end (LF or CRLF) so
// that a terminal never carries colour into the next line.

public struct DiffColorizer {
    private let output: ([UInt8]) -> Void
    /// The start of a line not yet ended in the pieces written so far.
    private var partial: [UInt8] = []
    private var oldLeft = 0
    private var newLeft = 0

    /// `output` gets the coloured bytes, a piece for each piece written.
    public init(output: @escaping ([UInt8]) -> Void) {
        self.output = output
    }

    /// Colours the complete lines of `piece` (with what was left of the last
    /// piece) and passes them on; an unfinished last line waits for the next.
    public mutating func write(_ piece: [UInt8]) {
        var out: [UInt8] = []
        out.reserveCapacity(piece.count + piece.count / 8)
        var start = 0
        while let newline = piece[start...].firstIndex(of: 0x0A) {
            if partial.isEmpty {
                colorLine(piece[start...newline], into: &out)
            } else {
                partial += piece[start...newline]
                colorLine(partial[...], into: &out)
                partial.removeAll()
            }
            start = newline + 1
        }
        partial += piece[start...]
        if !out.isEmpty { output(out) }
    }

    /// Passes on a last line without a line end.
    public mutating func finish() {
        guard !partial.isEmpty else { return }
        var out: [UInt8] = []
        colorLine(partial[...], into: &out)
        partial.removeAll()
        output(out)
    }

    /// One line with its line end, if any.
    private mutating func colorLine(_ line: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var contentEnd = line.endIndex
        if contentEnd > line.startIndex && line[contentEnd - 1] == 0x0A { contentEnd -= 1 }
        if contentEnd > line.startIndex && line[contentEnd - 1] == 0x0D { contentEnd -= 1 }
        let content = line[line.startIndex..<contentEnd]
        if let style = style(of: content) {
            out += style.start
            out += content
            out += TerminalStyle.reset
        } else {
            out += content
        }
        out += line[contentEnd...]
    }

    private mutating func style(of line: ArraySlice<UInt8>) -> TerminalStyle? {
        if oldLeft > 0 || newLeft > 0 {
            switch line.first {
            case UInt8(ascii: "-"): oldLeft -= 1; return .red
            case UInt8(ascii: "+"): newLeft -= 1; return .green
            case UInt8(ascii: " "): oldLeft -= 1; newLeft -= 1; return nil
            default: return nil  // "\ No newline at end of file"
            }
        }
        if line.starts(with: Array("@@ ".utf8)) {
            (oldLeft, newLeft) = TerminalStyle.hunkCounts(line)
            return .cyan
        }
        if line.starts(with: Array("--- ".utf8)) || line.starts(with: Array("+++ ".utf8)) { return .bold }
        return nil
    }
}
