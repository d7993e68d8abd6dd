// TerminalStyle.swift: colour for people at a terminal. Decides whether to
// colour (--color, NO_COLOR, TTY) and adds ANSI SGR sequences to findings
// and unified diffs, in git's colours. Colour only ever wraps whole lines;
// the bytes between the escape sequences are the uncoloured output, so a
// coloured diff minus its escapes is the plain diff.

/// When to colour: `--color auto|always|never`.
public enum ColorMode: String, Sendable, CaseIterable {
    case auto, always, never

    /// Whether output to a stream gets colour. `always` and `never` win over
    /// everything; `auto` colours a terminal unless NO_COLOR is set to a
    /// non-empty value (no-color.org) or TERM is "dumb".
    public func enabled(isTerminal: Bool, environment: [String: String]) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
            if environment["TERM"] == "dumb" { return false }
            return isTerminal
        }
    }
}

/// ANSI SGR styles, the ones git uses for diffs.
public enum TerminalStyle: String, Sendable {
    case bold = "1"
    case red = "31"
    case green = "32"
    case yellow = "33"
    case magenta = "35"
    case cyan = "36"

    static let reset: [UInt8] = Array("\u{1B}[m".utf8)

    var start: [UInt8] { Array("\u{1B}[\(rawValue)m".utf8) }

    /// `text` in this style.
    public func paint(_ text: String) -> String {
        "\u{1B}[\(rawValue)m\(text)\u{1B}[m"
    }

    /// The style a finding's line gets: errors red, what a person must do
    /// magenta, what the tool fixes yellow, notes cyan.
    public static func of(_ severity: Finding.Severity) -> TerminalStyle {
        switch severity {
        case .error: .red
        case .manual: .magenta
        case .fixable: .yellow
        case .note: .cyan
        }
    }

    /// A unified diff with git's colours: file headers bold, hunk headers
    /// cyan, removed lines red, added lines green, context plain. Hunk
    /// line counts are followed, so a removed line that reads "-- x" is red,
    /// not taken for a "--- " header. The reset goes before the line end
    /// (LF or CRLF) so that a terminal never carries colour into the next line.
    public static func colorDiff(_ diff: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(diff.count + diff.count / 8)
        var oldLeft = 0
        var newLeft = 0
        var start = 0
        while start < diff.count {
            var end = start
            while end < diff.count && diff[end] != 0x0A { end += 1 }
            let lineEnd = end < diff.count ? end + 1 : end
            var contentEnd = end
            if contentEnd > start && diff[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let line = diff[start..<contentEnd]
            var style: TerminalStyle?
            if oldLeft > 0 || newLeft > 0 {
                switch line.first {
                case UInt8(ascii: "-"): style = .red; oldLeft -= 1
                case UInt8(ascii: "+"): style = .green; newLeft -= 1
                case UInt8(ascii: " "): oldLeft -= 1; newLeft -= 1
                default: break  // "\ No newline at end of file"
                }
            } else if line.starts(with: Array("@@ ".utf8)) {
                style = .cyan
                (oldLeft, newLeft) = hunkCounts(line)
            } else if line.starts(with: Array("--- ".utf8)) || line.starts(with: Array("+++ ".utf8)) {
                style = .bold
            }
            if let style {
                out += style.start
                out += line
                out += reset
            } else {
                out += line
            }
            out += diff[contentEnd..<lineEnd]
            start = lineEnd
        }
        return out
    }

    /// The old and new line counts of "@@ -a[,b] +c[,d] @@" (a count left
    /// out is 1, as in diff -u).
    private static func hunkCounts(_ header: ArraySlice<UInt8>) -> (Int, Int) {
        let fields = header.split(separator: UInt8(ascii: " "))
        func count(_ field: ArraySlice<UInt8>?) -> Int {
            guard let field else { return 0 }
            let parts = field.dropFirst().split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            guard parts.count == 2 else { return 1 }
            return Int(String(decoding: parts[1], as: UTF8.self)) ?? 0
        }
        return (count(fields.count > 1 ? fields[1] : nil), count(fields.count > 2 ? fields[2] : nil))
    }
}
