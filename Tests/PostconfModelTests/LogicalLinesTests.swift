// LogicalLinesTests.swift: the tokenizer's structure (which physical lines
// form which logical line), beyond what the postmap differential shows.

import PostconfModel
import Testing

struct LogicalLinesTests {
    @Test func commentAndBlankLinesInsideAContinuationBelongToIt() {
        let text = ConfigText(bytes: Array("a verify\n# c\n\n  servername=hostname\n# after\nb may".utf8))
        #expect(text.kinds == [.start, .comment, .blank, .continuation, .comment, .start])
        #expect(text.logicalLines.count == 2)
        #expect(text.logicalLines[0].firstLine == 0 && text.logicalLines[0].lastTextLine == 3)
        #expect(text.text(of: text.logicalLines[0]) == Array("a verify  servername=hostname".utf8))
        #expect(text.lines.last?.hasNewline == false)
    }

    @Test func crOnlyLineIsBlankAndCRStaysInContent() {
        let text = ConfigText(bytes: Array("a verify\r\n\r\nb may\r\n".utf8))
        #expect(text.kinds == [.start, .blank, .start])
        #expect(text.content(ofLine: 0) == Array("a verify\r".utf8)[...])
    }

    @Test func editsApplyAtOffsetsAndKeepEverythingElse() {
        let original = Array("a verify\r\nb secure".utf8)
        let edited = original.applying([ByteEdit(insert: Array(" x=1".utf8), at: 18), ByteEdit(insert: Array(" y=2".utf8), at: 8)])
        #expect(edited == Array("a verify y=2\r\nb secure x=1".utf8))
    }
}
