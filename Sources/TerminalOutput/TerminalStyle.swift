// TerminalStyle.swift: colour for people at a terminal. Decides whether to
// colour (--color, NO_COLOR, TTY) and adds ANSI SGR sequences to findings
// and unified diffs, in git's colours. Colour only ever wraps whole lines;
// the bytes between the escape sequences are the uncoloured output, so a
// coloured diff minus its escapes is the plain diff.

import TLSPolicyFix

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

    /// A whole unified diff with git's colours (see DiffColorizer).
    public static func colorDiff(_ diff: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var colorizer = DiffColorizer { out += $0 }
        colorizer.write(diff)
        colorizer.finish()
        return out
    }

    /// The old and new line counts of "@@ -a[,b] +c[,d] @@" (a count left
    /// out is 1, as in diff -u).
    static func hunkCounts(_ header: ArraySlice<UInt8>) -> (Int, Int) {
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
