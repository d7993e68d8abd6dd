// EditedTableSource.swift: a postmap source as apply writes it, without
// making the new file whole in memory: its records (the inspection's parse,
// with the inserted attribute appended to the values it was inserted into,
// and servername keywords lower-cased in place where the plan says so),
// from which the index is built, and its bytes, written in pieces.
//
// Each piece is parsed again, as postmap will read it, and its records must
// be exactly those the index is built from: that check is what allows the
// index to come from the parse the plan was made from instead of a second
// parse of the whole new file (which cost a tenth of apply's time and twice
// the source's size in memory on a million-entry table). Every piece ends at
// the start of a logical line, so parsing the pieces one by one reads the
// file exactly as reading it whole would.

import HashMap
import PostconfModel
import SystemPackage

struct EditedTableSource: IndexSource, Sendable {
    /// The source the plan was made from (its path is the display path).
    let source: TableSource
    /// The entries whose value gets `insertion` appended.
    private let appended: EntrySet
    /// The bytes appended ("servername=..." with its leading space).
    private let insertion: [UInt8]
    /// Entries whose value has bytes lower-cased: entry -> range in its value.
    private let lowercased: [Int: Range<Int>]
    /// The same ranges as file offsets, in file order (those entries are on
    /// one line each, so their values are runs of the file's bytes).
    private let lowercasedInFile: [Range<Int>]

    /// The source as a rebuild leaves it: unchanged, or with the plan's
    /// insertion appended to the entries it names.
    init(_ rebuild: IndexRebuild) {
        self.init(source: rebuild.source, appended: rebuild.appended, lowercased: rebuild.lowercased)
    }

    init(source: TableSource, appended: (entries: EntrySet, bytes: [UInt8])? = nil, lowercased: [Int: Range<Int>] = [:]) {
        self.source = source
        self.appended = appended?.entries ?? EntrySet(count: 0)
        insertion = appended?.bytes ?? []
        self.lowercased = lowercased
        lowercasedInFile = lowercased.map { entry, range in
            let start = source.record(at: entry).value.startIndex
            return (start + range.lowerBound)..<(start + range.upperBound)
        }.sorted { $0.lowerBound < $1.lowerBound }
    }

    var recordCount: Int { source.entryCount }

    func key(at index: Int) -> ArraySlice<UInt8> { source.key(at: index) }

    /// Entry `index` of the new file, as the index stores it.
    func record(at index: Int) -> SourceRecord {
        let record = source.record(at: index)
        if let range = lowercased[index] {
            var value = Array(record.value)
            value.replaceSubrange(range, with: value[range].asciiLowercased())
            return SourceRecord(key: record.key, value: value[...], appended: appended.contains(index) ? insertion[...] : [])
        }
        return SourceRecord(key: record.key, value: record.value, appended: appended.contains(index) ? insertion[...] : [])
    }

    /// About how many bytes each piece of the new file has.
    static let pieceSize = 1 << 18

    /// Writes the new file a piece at a time, each piece checked as the
    /// header says, for a caller that does so between other work (see
    /// IndexWriter.build's `meanwhile`).
    struct PieceWriter {
        let table: EditedTableSource
        let fd: FileDescriptor
        /// The temporary file's path, for messages.
        let path: String
        private var piece: [UInt8] = []
        private var pieceStart = 0  // in the old file
        /// The next entry that may get the insertion.
        private var nextAppended = 0
        private var nextEntry = 0
        private var line = 0
        /// The next of `lowercasedInFile` to apply.
        private var nextLowercased = 0

        init(table: EditedTableSource, fd: FileDescriptor, path: String) {
            self.table = table
            self.fd = fd
            self.path = path
            piece.reserveCapacity(EditedTableSource.pieceSize + EditedTableSource.pieceSize / 4)
        }

        /// Appends `range` of the old file to the piece, with the keywords in
        /// it lower-cased. A keyword lies inside an entry's value, so never
        /// across an insertion point or a piece's end.
        private mutating func copy(_ bytes: [UInt8], _ range: Range<Int>) {
            let offset = piece.count - range.lowerBound
            piece.append(contentsOf: bytes[range])
            let keywords = table.lowercasedInFile
            while nextLowercased < keywords.count, keywords[nextLowercased].upperBound <= range.upperBound {
                let keyword = keywords[nextLowercased]
                let inPiece = (keyword.lowerBound + offset)..<(keyword.upperBound + offset)
                piece.replaceSubrange(inPiece, with: piece[inPiece].asciiLowercased())
                nextLowercased += 1
            }
        }

        /// Writes and checks the next piece; false once the whole file is
        /// written (and every entry was found in it).
        mutating func writeNextPiece() throws(ApplyError) -> Bool {
            let text = table.source.text
            let bytes = text.bytes
            guard pieceStart < bytes.count else {
                guard nextEntry == table.source.entryCount else { throw table.mismatch() }
                return false
            }
            // The piece ends at the first line that starts a logical line
            // (no white space before it, not a comment) past the size.
            var pieceEnd = bytes.count
            while line < text.lines.count {
                let start = text.lines[line].start
                if start >= pieceStart + EditedTableSource.pieceSize, text.kinds[line] == .start {
                    pieceEnd = start
                    break
                }
                line += 1
            }
            piece.removeAll(keepingCapacity: true)
            var copied = pieceStart
            while let entry = table.appended.first(from: nextAppended) {
                let at = text.endOfText(lastLine: table.source.logicalLine(ofEntry: entry).lastTextLine)
                guard at < pieceEnd || pieceEnd == bytes.count else { break }
                copy(bytes, copied..<at)
                piece.append(contentsOf: table.insertion)
                copied = at
                nextAppended = entry + 1
            }
            copy(bytes, copied..<pieceEnd)
            do {
                _ = try fd.writeAll(piece)
            } catch {
                throw .writeFailed(path: table.source.path, cause: Reason("cannot write \(path): \(error)"))
            }
            nextEntry = try table.check(piece, firstEntry: nextEntry)
            pieceStart = pieceEnd
            return true
        }
    }

    /// Parses a piece of the new file and compares its records with the
    /// entries from `firstEntry` on; returns the entry after the last one.
    private func check(_ piece: [UInt8], firstEntry: Int) throws(ApplyError) -> Int {
        let parsed: TableSource
        do {
            parsed = try TableSource(path: source.path, bytes: piece, utf8Checks: source.utf8Checks)
        } catch {
            throw mismatch()
        }
        guard firstEntry + parsed.entryCount <= source.entryCount else { throw mismatch() }
        for index in 0..<parsed.entryCount {
            let written = parsed.record(at: index)
            let expected = record(at: firstEntry + index)
            guard written.key.elementsEqual(expected.key),
                written.value.count == expected.value.count + expected.appended.count,
                written.value.prefix(expected.value.count).elementsEqual(expected.value),
                written.value.suffix(expected.appended.count).elementsEqual(expected.appended)
            else { throw mismatch() }
        }
        return firstEntry + parsed.entryCount
    }

    func mismatch() -> ApplyError {
        .writeFailed(path: source.path, cause: Reason("internal error: the new file does not read as the records its index is built from"))
    }
}
