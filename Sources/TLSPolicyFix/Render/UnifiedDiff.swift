// UnifiedDiff.swift: the one diff. Renders a FileChange as a unified diff
// (as `diff -u` / `git diff` print it, with `--- a/PATH` and `+++ b/PATH`).
//
// The tool knows exactly which lines its edits touch, so hunks come straight
// from the edits instead of from a general diff algorithm: output is exact
// and its cost is linear in the file size, which matters for tables with a
// million entries. Lines are bytes: CRLF and non-UTF-8 bytes pass through
// untouched, and a missing final newline is marked the way diff marks it.
//
// The diff is produced as it is written, in chunks: nothing per line or per
// edit is allocated, and a diff of a 50 MB table never has to be held whole.
// A large diff is cut into segments at hunk boundaries and the segments are
// rendered two at a time, on two threads, then written in order.

import Dispatch
import PostconfModel

#if canImport(Glibc)
import Glibc
#endif

public enum UnifiedDiff {
    /// Lines of context around each change, as `diff -u`.
    static let contextLines = 3

    /// The diff of one change; empty when the change changes nothing.
    public static func render(_ change: FileChange, oldLabel: String? = nil, newLabel: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        render(change, oldLabel: oldLabel, newLabel: newLabel) { out.append(contentsOf: $0) }
        return out
    }

    /// The diff of one change, handed to `write` in pieces of about 64 KiB
    /// (nothing when the change changes nothing).
    public static func render(
        _ change: FileChange, oldLabel: String? = nil, newLabel: String? = nil, write: ([UInt8]) -> Void
    ) {
        let scanner = BlockScanner(change)
        guard !scanner.edits.isEmpty else { return }
        withoutActuallyEscaping(write) { write in
            var out = ChunkedOutput(write: write)
            let label = change.displayPath.hasPrefix("/") ? change.displayPath : nil
            out.append("--- \(oldLabel ?? label ?? "a/" + change.displayPath)\n")
            out.append("+++ \(newLabel ?? label ?? "b/" + change.displayPath)\n")
            let segments = scanner.segments()
            guard segments.count > 1 else {
                renderHunks(scanner, segments[0], into: &out)
                out.flush()
                return
            }
            out.flush()
            // Two segments at a time, each into its own buffer (some 300
            // KiB, reused), then written in order.
            var buffers: [[UInt8]] = [[], []]
            for pair in stride(from: 0, to: segments.count, by: 2) {
                let count = min(2, segments.count - pair)
                buffers.withUnsafeMutableBufferPointer { buffers in
                    // Each thread writes only its own buffer.
                    nonisolated(unsafe) let buffers = buffers
                    DispatchQueue.concurrentPerform(iterations: count) { index in
                        var segmentOut = ChunkedOutput(collectingInto: buffers.take(index))
                        renderHunks(scanner, segments[pair + index], into: &segmentOut)
                        buffers[index] = segmentOut.collected()
                    }
                }
                for index in 0..<count { write(buffers[index]) }
            }
        }
    }

    /// The hunks of the edits `segment` (from the first to the last edit of
    /// whole hunks).
    private static func renderHunks(_ scanner: BlockScanner, _ segment: Segment, into out: inout ChunkedOutput) {
        // The text's arrays, read without retaining them for each line (two
        // threads doing that for the same arrays slow each other down).
        let (bytes, lines) = (scanner.text.bytes, scanner.text.lines)
        var shift = 0  // new lines minus old lines before the current hunk (0 where a segment starts)
        var next = segment.edits.lowerBound  // the first edit of the next hunk
        var hint = segment.firstLine  // a line no later than that edit's
        var blocks: [Block] = []  // the current hunk's, kept for writing it
        while next < segment.edits.upperBound {
            // Blocks whose context overlaps form one hunk. A first pass finds
            // them, its extent and line counts (the header comes first), a
            // second writes it.
            let first = scanner.block(at: next, fromLine: hint)
            blocks.removeAll(keepingCapacity: true)
            blocks.append(first)
            var last = first
            var shiftAfter = shift + first.newLineCount - first.oldLines.count
            while last.edits.upperBound < segment.edits.upperBound {
                let following = scanner.block(at: last.edits.upperBound, fromLine: last.oldLines.lowerBound)
                guard !separateHunks(last.oldLines, following.oldLines) else { break }
                blocks.append(following)
                last = following
                shiftAfter += following.newLineCount - following.oldLines.count
            }
            let oldFrom = max(0, first.oldLines.lowerBound - contextLines)
            let oldTo = min(lines.count, last.oldLines.upperBound + contextLines)
            let oldCount = oldTo - oldFrom
            out.append("@@ -\(range(oldFrom, oldCount)) +\(range(oldFrom + shift, oldCount + shiftAfter - shift)) @@\n")

            var cursor = oldFrom
            for block in blocks {
                while cursor < block.oldLines.lowerBound {
                    out.appendLine(prefix: UInt8(ascii: " "), bytes, lines[cursor].start..<lines[cursor].end)
                    cursor += 1
                }
                for index in block.oldLines {
                    out.appendLine(prefix: UInt8(ascii: "-"), bytes, lines[index].start..<lines[index].end)
                }
                out.appendNewLines(of: block, in: scanner)
                cursor = block.oldLines.upperBound
            }
            while cursor < oldTo {
                out.appendLine(prefix: UInt8(ascii: " "), bytes, lines[cursor].start..<lines[cursor].end)
                cursor += 1
            }
            shift = shiftAfter
            next = last.edits.upperBound
            hint = last.oldLines.lowerBound
        }
    }

    /// Whether a block of old lines after `earlier` starts a hunk of its
    /// own: when the context lines of the two do not meet.
    static func separateHunks(_ earlier: Range<Int>, _ later: Range<Int>) -> Bool {
        later.lowerBound - earlier.upperBound > 2 * contextLines
    }

    /// Edits whose hunks are rendered apart from the others': the first
    /// edit starts a hunk and the last ends one. `firstLine` is a line no
    /// later than its first edit's.
    struct Segment {
        var edits: Range<Int>
        var firstLine: Int
    }

    /// "start,count" as diff -u writes it: 1-based, and for an empty range
    /// the line before it.
    private static func range(_ start: Int, _ count: Int) -> String {
        if count == 0 { return "\(start),0" }
        return count == 1 ? "\(start + 1)" : "\(start + 1),\(count)"
    }

    /// An output buffer handed on in chunks.
    struct ChunkedOutput {
        static let chunkSize = 1 << 16
        let write: ([UInt8]) -> Void
        var buffer: [UInt8] = []

        /// Writes a chunk whenever `chunkSize` bytes are buffered.
        let flushes: Bool

        init(write: @escaping ([UInt8]) -> Void) {
            self.write = write
            flushes = true
            buffer.reserveCapacity(Self.chunkSize + 4096)
        }

        /// Output kept whole, appended to `buffer` after emptying it (its
        /// memory is used again).
        init(collectingInto buffer: consuming [UInt8]) {
            write = { _ in }
            flushes = false
            buffer.removeAll(keepingCapacity: true)
            self.buffer = buffer
        }

        /// What was collected.
        consuming func collected() -> [UInt8] { buffer }

        mutating func append(_ text: String) {
            buffer.append(contentsOf: text.utf8)
            flushIfFull()
        }

        /// One old line with its prefix, marked when it has no newline.
        mutating func appendLine(prefix: UInt8, _ bytes: [UInt8], _ range: Range<Int>) {
            buffer.append(prefix)
            bytes.withUnsafeBufferPointer { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
            if range.isEmpty || bytes[range.upperBound - 1] != 0x0A {
                buffer.append(contentsOf: "\n\\ No newline at end of file\n".utf8)
            }
            flushIfFull()
        }

        /// The block's new lines, each with "+".
        mutating func appendNewLines(of block: Block, in scanner: BlockScanner) {
            var atLineStart = true
            scanner.forEachNewPiece(of: block) { piece in
                guard let base = piece.baseAddress else { return }
                var from = 0
                while from < piece.count {
                    if atLineStart { buffer.append(UInt8(ascii: "+")) }
                    // memchr: a diff of a large table has tens of megabytes to look through.
                    let newline = memchr(base + from, 0x0A, piece.count - from).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) }
                    let to = newline.map { $0 + 1 } ?? piece.count
                    buffer.append(contentsOf: UnsafeBufferPointer(rebasing: piece[from..<to]))
                    atLineStart = newline != nil
                    from = to
                }
            }
            if !atLineStart { buffer.append(contentsOf: "\n\\ No newline at end of file\n".utf8) }
            flushIfFull()
        }

        private mutating func flushIfFull() {
            if flushes && buffer.count >= Self.chunkSize { flush() }
        }

        mutating func flush() {
            guard !buffer.isEmpty else { return }
            write(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }
}

extension UnsafeMutableBufferPointer where Element == [UInt8] {
    /// Element `index`, left empty: moved out, so that it is the only
    /// reference to its storage and can be reused in place.
    fileprivate func take(_ index: Int) -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &self[index])
        return taken
    }
}
