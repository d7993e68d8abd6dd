// TerminalStyleTests.swift: the colouring rules on the cases the seed's
// golden files do not reach: a removed line that itself starts with "-- "
// (red, not a bold header), CRLF lines (the reset goes before the CR), a
// missing final newline marker (left plain), when --color auto colours, and
// that the streaming colourer gives the same bytes however the diff is cut.

import TLSPolicyFix
import TerminalOutput
import Testing

struct TerminalStyleTests {
    @Test func hunkCountsDecideWhatIsAHeader() {
        let diff = Array(
            """
            --- a/policy
            +++ b/policy
            @@ -1,2 +1,2 @@
            --- not a header
            +++ not a header either
             context

            """.utf8)
        let coloured = String(decoding: TerminalStyle.colorDiff(diff), as: UTF8.self)
        #expect(
            coloured == """
                \u{1B}[1m--- a/policy\u{1B}[m
                \u{1B}[1m+++ b/policy\u{1B}[m
                \u{1B}[36m@@ -1,2 +1,2 @@\u{1B}[m
                \u{1B}[31m--- not a header\u{1B}[m
                \u{1B}[32m+++ not a header either\u{1B}[m
                 context

                """)
    }

    @Test func lineEndsAndNoNewlineMarkerStayOutsideTheColour() {
        let diff = Array("@@ -1 +1 @@\n-a verify\r\n+a verify servername=hostname\r\n\\ No newline at end of file\n".utf8)
        let coloured = TerminalStyle.colorDiff(diff)
        #expect(
            String(decoding: coloured, as: UTF8.self) == "\u{1B}[36m@@ -1 +1 @@\u{1B}[m\n"
                + "\u{1B}[31m-a verify\u{1B}[m\r\n\u{1B}[32m+a verify servername=hostname\u{1B}[m\r\n\\ No newline at end of file\n")
    }

    @Test func autoColoursATerminalUnlessNoColorOrDumb() {
        #expect(ColorMode.auto.enabled(isTerminal: true, environment: [:]))
        #expect(!ColorMode.auto.enabled(isTerminal: false, environment: [:]))
        #expect(!ColorMode.auto.enabled(isTerminal: true, environment: ["NO_COLOR": "0"]))
        #expect(ColorMode.auto.enabled(isTerminal: true, environment: ["NO_COLOR": ""]))
        #expect(!ColorMode.auto.enabled(isTerminal: true, environment: ["TERM": "dumb"]))
        #expect(ColorMode.always.enabled(isTerminal: false, environment: ["NO_COLOR": "1"]))
        #expect(!ColorMode.never.enabled(isTerminal: true, environment: [:]))
    }

    /// The renderer hands over pieces cut anywhere, even inside a CRLF:
    /// every cut gives the bytes of colouring the diff whole.
    @Test func piecesCutAnywhereColourAsTheWholeDiff() {
        let diff = Array(
            "--- a/p\n+++ b/p\n@@ -1,2 +1,2 @@\n-a verify\r\n+a verify servername=hostname\r\n context\n\\ No newline at end of file\n-- x".utf8)
        let whole = TerminalStyle.colorDiff(diff)
        for cut in 0...diff.count {
            var out: [UInt8] = []
            var colorizer = DiffColorizer { out += $0 }
            colorizer.write(Array(diff[..<cut]))
            colorizer.write(Array(diff[cut...]))
            colorizer.finish()
            #expect(out == whole, "cut at \(cut)")
        }
        var out: [UInt8] = []
        var colorizer = DiffColorizer { out += $0 }
        for byte in diff { colorizer.write([byte]) }
        colorizer.finish()
        #expect(out == whole)
    }
}
