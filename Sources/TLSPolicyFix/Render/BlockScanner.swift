// BlockScanner.swift: finds the blocks of a change for UnifiedDiff: each
// run of old lines that the edits replace, with the new lines' count,
// walking the sorted edits once and the lines by galloping search.

import PostconfModel

#if canImport(Glibc)
import Glibc
#endif

extension UnifiedDiff {
    /// A run of old lines replaced by new lines: the bytes `region` of the
    /// old file with `edits` (indices into the sorted edits) applied.
    struct Block {
        var oldLines: Range<Int>
        var region: Range<Int>
        var edits: Range<Int>
        var newLineCount: Int
    }

    /// Finds the blocks of a change, one at a time, from its sorted edits.
    struct BlockScanner {
        let text: ConfigText
        let edits: ByteEdits
        /// Whether every edit inserts text without a newline (as a table's
        /// all do), known up front; nil when it depends on the edit.
        let onlyInsertsWithinLines: Bool?
        /// Whether every edit inserts the same bytes, `commonInsertion`
        /// (read from here rather than as each edit's replacement).
        let editsShareInsertion: Bool
        let commonInsertion: [UInt8]

        /// Edits per segment: some 300 KiB of diff for a table's edits (two
        /// segments are held at a time; their buffers add to peak memory).
        static let segmentEdits = 1 << 11

        init(_ change: FileChange) {
            text = change.original
            edits = change.edits.inFileOrder()
            let common = edits.commonInsertion
            (editsShareInsertion, commonInsertion) = (common != nil, common ?? [])
            onlyInsertsWithinLines = common.map { !$0.contains(0x0A) }
        }

        /// The edits cut into segments of about `segmentEdits` at hunk
        /// boundaries; one segment of them all unless every edit inserts
        /// within a line (a table's do), as then no segment shifts the line
        /// numbers of the next and each is found from two edits' lines.
        func segments() -> [Segment] {
            let whole = [Segment(edits: 0..<edits.count, firstLine: 0)]
            guard onlyInsertsWithinLines == true, edits.count >= 2 * Self.segmentEdits else { return whole }
            var segments: [Segment] = []
            var start = 0
            var startLine = 0
            var cut = Self.segmentEdits
            while cut < edits.count {
                // Each edit is within one line, its block's old lines.
                var previousLine = lineIndex(containing: edits.range(at: cut - 1).lowerBound, from: startLine)
                var line = lineIndex(containing: edits.range(at: cut).lowerBound, from: previousLine)
                while cut < edits.count - 1, !UnifiedDiff.separateHunks(previousLine..<previousLine + 1, line..<line + 1) {
                    cut += 1
                    previousLine = line
                    line = lineIndex(containing: edits.range(at: cut).lowerBound, from: line)
                }
                guard UnifiedDiff.separateHunks(previousLine..<previousLine + 1, line..<line + 1) else { break }
                segments.append(Segment(edits: start..<cut, firstLine: startLine))
                (start, startLine) = (cut, line)
                cut += Self.segmentEdits
            }
            segments.append(Segment(edits: start..<edits.count, firstLine: startLine))
            return segments
        }

        /// The block that starts with edit `index`. Edits on the same lines
        /// join it, and so do the changed lines right after it (diff -u shows
        /// touching changed lines as one run of old lines, then new ones).
        /// `hint` is a line no later than the edit's (where to start looking).
        func block(at index: Int, fromLine hint: Int) -> Block {
            var (block, nextEdit) = group(at: index, fromLine: hint)
            while nextEdit < edits.count {
                let (following, after) = group(at: nextEdit, fromLine: block.oldLines.lowerBound)
                guard block.oldLines.upperBound == following.oldLines.lowerBound, !following.oldLines.isEmpty else { break }
                block.oldLines = block.oldLines.lowerBound..<following.oldLines.upperBound
                block.region = block.region.lowerBound..<following.region.upperBound
                block.edits = block.edits.lowerBound..<following.edits.upperBound
                block.newLineCount += following.newLineCount
                nextEdit = after
            }
            return block
        }

        /// The old lines edit `index` touches, with the edits after it on the
        /// same lines; and the index of the first edit after them.
        private func group(at index: Int, fromLine hint: Int) -> (Block, Int) {
            let range = edits.range(at: index)
            var firstLine = lineIndex(containing: range.lowerBound, from: hint)
            var lastLine = max(firstLine, lineIndex(containing: max(range.upperBound - 1, range.lowerBound), from: firstLine))
            if firstLine == text.lines.count || isLineInsertion(index, before: firstLine) {
                lastLine = firstLine - 1  // whole new lines before firstLine (or after the last line)
            }
            var next = index + 1
            while next < edits.count, lineIndex(containing: edits.range(at: next).lowerBound, from: firstLine) <= lastLine,
                !isLineInsertion(next, before: lastLine + 1)
            {
                let range = edits.range(at: next)
                lastLine = max(lastLine, lineIndex(containing: max(range.upperBound - 1, range.lowerBound), from: firstLine))
                next += 1
            }
            if firstLine > lastLine { firstLine = lastLine + 1 }
            let start = firstLine < text.lines.count ? text.lines[firstLine].start : text.bytes.count
            let end = lastLine >= firstLine ? text.lines[lastLine].end : start
            var block = Block(oldLines: firstLine..<(lastLine + 1), region: start..<end, edits: index..<next, newLineCount: 0)
            // The usual edit, text inserted within a line, keeps the lines
            // as they are: no need to count them.
            if !block.oldLines.isEmpty, insertsWithinLines(block.edits) {
                block.newLineCount = block.oldLines.count
                return (block, next)
            }
            var newlines = 0
            var lastByte: UInt8?
            forEachNewPiece(of: block) { piece in
                guard let last = piece.last else { return }
                newlines += piece.count(where: { $0 == 0x0A })
                lastByte = last
            }
            block.newLineCount = newlines + (lastByte.map { $0 == 0x0A ? 0 : 1 } ?? 0)
            return (block, next)
        }

        /// The block's new bytes, in order: pieces of the old file and the
        /// edits' replacements.
        func forEachNewPiece(of block: Block, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
            text.bytes.withUnsafeBufferPointer { old in
                var copied = block.region.lowerBound
                for index in block.edits {
                    let range = edits.range(at: index)
                    body(UnsafeBufferPointer(rebasing: old[copied..<range.lowerBound]))
                    if editsShareInsertion {
                        commonInsertion.withUnsafeBufferPointer(body)
                    } else {
                        edits[index].replacement.withUnsafeBufferPointer(body)
                    }
                    copied = range.upperBound
                }
                body(UnsafeBufferPointer(rebasing: old[copied..<block.region.upperBound]))
            }
        }

        /// Whether edit `edit` inserts whole lines right before line `index`:
        /// then the diff shows added lines, not a changed line.
        func isLineInsertion(_ edit: Int, before index: Int) -> Bool {
            let range = edits.range(at: edit)
            return range.isEmpty && index < text.lines.count && range.lowerBound == text.lines[index].start
                && edits[edit].replacement.last == 0x0A
        }

        /// Whether the edits only insert text, without newlines.
        func insertsWithinLines(_ range: Range<Int>) -> Bool {
            onlyInsertsWithinLines ?? edits[range].allSatisfy { $0.range.isEmpty && !$0.replacement.contains(0x0A) }
        }

        /// The physical line holding a byte offset; lines.count for the end of
        /// a file that ends with a newline; the last line for the end of one
        /// that does not. The search starts at line `hint` (no later than the
        /// answer) and gallops forward: edits come in file order, so the
        /// answer is nearly always a line or two away.
        func lineIndex(containing offset: Int, from hint: Int = 0) -> Int {
            let lines = text.lines
            let count = lines.count
            var low = min(hint, count)
            // Nearly always the answer is the hint or a line or two after it.
            for _ in 0..<4 where low < count && lines.end(of: low) <= offset { low += 1 }
            var step = 1
            var high = low
            while high < count && lines.end(of: high) <= offset {
                low = high + 1
                high += step
                step *= 2
            }
            high = min(high, count)
            while low < high {
                let mid = (low + high) / 2
                if lines.end(of: mid) <= offset { low = mid + 1 } else { high = mid }
            }
            if low == text.lines.count, let last = text.lines.last, !last.hasNewline, offset == last.end {
                return text.lines.count - 1
            }
            return low
        }
    }
}
