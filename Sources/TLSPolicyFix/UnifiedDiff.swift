// UnifiedDiff.swift: the one diff. Renders a FileChange as a unified diff
// (as `diff -u` / `git diff` print it, with `--- a/PATH` and `+++ b/PATH`).
//
// The tool knows exactly which lines its edits touch, so hunks come straight
// from the edits instead of from a general diff algorithm: output is exact
// and its cost is linear in the file size, which matters for tables with a
// million entries. Lines are bytes: CRLF and non-UTF-8 bytes pass through
// untouched, and a missing final newline is marked the way diff marks it.

import PostconfModel

public enum UnifiedDiff {
    /// Lines of context around each change, as `diff -u`.
    static let contextLines = 3

    /// The diff of one change; empty when the change changes nothing.
    public static func render(_ change: FileChange, oldLabel: String? = nil, newLabel: String? = nil) -> [UInt8] {
        let old = change.original
        let blocks = changedBlocks(change)
        guard !blocks.isEmpty else { return [] }
        var out: [UInt8] = []
        let label = change.displayPath.hasPrefix("/") ? change.displayPath : nil
        out += Array("--- \(oldLabel ?? label ?? "a/" + change.displayPath)\n".utf8)
        out += Array("+++ \(newLabel ?? label ?? "b/" + change.displayPath)\n".utf8)

        // Group blocks whose context overlaps into hunks.
        var hunkStart = 0
        while hunkStart < blocks.count {
            var hunkEnd = hunkStart
            while hunkEnd + 1 < blocks.count
                && blocks[hunkEnd + 1].oldLines.lowerBound - blocks[hunkEnd].oldLines.upperBound <= 2 * contextLines
            {
                hunkEnd += 1
            }
            let first = blocks[hunkStart]
            let last = blocks[hunkEnd]
            let oldFrom = max(0, first.oldLines.lowerBound - contextLines)
            let oldTo = min(old.lines.count, last.oldLines.upperBound + contextLines)
            let shift = first.newLineOffset - first.oldLines.lowerBound  // new-line index minus old-line index before the hunk
            var body: [UInt8] = []
            var oldCount = 0
            var newCount = 0
            var cursor = oldFrom
            for block in blocks[hunkStart...hunkEnd] {
                while cursor < block.oldLines.lowerBound {
                    appendLine(&body, prefix: " ", old.bytes[old.lines[cursor].start..<old.lines[cursor].end])
                    oldCount += 1; newCount += 1; cursor += 1
                }
                for index in block.oldLines {
                    appendLine(&body, prefix: "-", old.bytes[old.lines[index].start..<old.lines[index].end])
                    oldCount += 1
                }
                for line in block.newLines {
                    appendLine(&body, prefix: "+", line)
                    newCount += 1
                }
                cursor = block.oldLines.upperBound
            }
            while cursor < oldTo {
                appendLine(&body, prefix: " ", old.bytes[old.lines[cursor].start..<old.lines[cursor].end])
                oldCount += 1; newCount += 1; cursor += 1
            }
            let newFrom = oldFrom + shift
            out += Array("@@ -\(range(oldFrom, oldCount)) +\(range(newFrom, newCount)) @@\n".utf8)
            out += body
            hunkStart = hunkEnd + 1
        }
        return out
    }

    /// "start,count" as diff -u writes it: 1-based, and for an empty range
    /// the line before it.
    private static func range(_ start: Int, _ count: Int) -> String {
        if count == 0 { return "\(start),0" }
        return count == 1 ? "\(start + 1)" : "\(start + 1),\(count)"
    }

    private static func appendLine(_ out: inout [UInt8], prefix: Character, _ line: ArraySlice<UInt8>) {
        out.append(UInt8(ascii: prefix.unicodeScalars.first!))
        out += line
        if line.last != 0x0A {
            out += Array("\n\\ No newline at end of file\n".utf8)
        }
    }

    /// A run of old lines replaced by new lines.
    struct Block {
        var oldLines: Range<Int>
        var newLines: [ArraySlice<UInt8>]
        /// Index of the block's first line in the new file.
        var newLineOffset: Int
    }

    /// The edits turned into blocks of whole lines, in order.
    static func changedBlocks(_ change: FileChange) -> [Block] {
        let text = change.original
        let edits = change.edits.sorted { $0.range.lowerBound < $1.range.lowerBound }
        var blocks: [Block] = []
        var shift = 0  // new lines minus old lines so far
        var index = 0
        while index < edits.count {
            // The old lines the edit touches; neighbouring edits on the same
            // lines join the block.
            var firstLine = lineIndex(containing: edits[index].range.lowerBound, in: text)
            var lastLine = max(firstLine, lineIndex(containing: max(edits[index].range.upperBound - 1, edits[index].range.lowerBound), in: text))
            if firstLine == text.lines.count { lastLine = firstLine - 1 }  // pure append after a final newline
            var group = [edits[index]]
            index += 1
            while index < edits.count, lineIndex(containing: edits[index].range.lowerBound, in: text) <= lastLine {
                lastLine = max(lastLine, lineIndex(containing: max(edits[index].range.upperBound - 1, edits[index].range.lowerBound), in: text))
                group.append(edits[index])
                index += 1
            }
            if firstLine > lastLine { firstLine = lastLine + 1 }
            let start = firstLine < text.lines.count ? text.lines[firstLine].start : text.bytes.count
            let end = lastLine >= firstLine ? text.lines[lastLine].end : start
            let shifted = group.map { ByteEdit(range: ($0.range.lowerBound - start)..<($0.range.upperBound - start), replacement: $0.replacement) }
            let replaced = Array(text.bytes[start..<end]).applying(shifted)
            let newLines = splitLines(replaced)
            let oldLines = firstLine..<(lastLine + 1)
            // Changed lines that touch form one block, so the diff shows all
            // their old lines, then all their new ones, as diff -u does.
            if let previous = blocks.last, previous.oldLines.upperBound == oldLines.lowerBound, !oldLines.isEmpty {
                blocks[blocks.count - 1].oldLines = previous.oldLines.lowerBound..<oldLines.upperBound
                blocks[blocks.count - 1].newLines += newLines
            } else {
                blocks.append(Block(oldLines: oldLines, newLines: newLines, newLineOffset: firstLine + shift))
            }
            shift += newLines.count - oldLines.count
        }
        return blocks
    }

    /// The physical line holding a byte offset; lines.count for the end of a
    /// file that ends with a newline; the last line for the end of one that
    /// does not.
    static func lineIndex(containing offset: Int, in text: ConfigText) -> Int {
        var low = 0
        var high = text.lines.count
        while low < high {
            let mid = (low + high) / 2
            if text.lines[mid].end <= offset { low = mid + 1 } else { high = mid }
        }
        if low == text.lines.count, let last = text.lines.last, !last.hasNewline, offset == last.end {
            return text.lines.count - 1
        }
        return low
    }

    static func splitLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for (offset, byte) in bytes.enumerated() where byte == 0x0A {
            lines.append(bytes[start...offset])
            start = offset + 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }
        return lines
    }
}
