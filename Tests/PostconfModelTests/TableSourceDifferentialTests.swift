// TableSourceDifferentialTests.swift: our reading of postmap sources against
// the real postmap. For every fixture (the rules of postfix-semantics.md
// section 3: comments anywhere, continuations, '#' in values, CRLF,
// duplicates, case, quoted keys, key-only lines, non-UTF-8, ...) the records
// TableSource says postmap stores must equal `postmap -s` of postmap's own
// build, byte for byte, and the lines it says postmap skips must be the lines
// postmap warns about.

import Foundation
import PostconfModel
import PostfixTestSupport
import Testing

struct TableSourceDifferentialTests {
    static let fixtures: [String] = (try? FileManager.default.contentsOfDirectory(atPath: fixturesDirectory + "/tables").sorted()) ?? []

    /// compatibility_level 3.6 turns SMTPUTF8 (and postmap's UTF-8 checks)
    /// on; level 0 leaves it off.
    @Test("postmap -s agrees with TableSource", arguments: fixtures, [true, false])
    func storedRecordsMatchPostmap(fixture: String, utf8: Bool) throws {
        let directory = try TestDirectory()
        try directory.write("conf/main.cf", "compatibility_level = \(utf8 ? "3.6" : "0")\n")
        let bytes = try readBytes(fixturesDirectory + "/tables/" + fixture)
        let path = try directory.write("table", bytes)

        let build = try ExternalTool.postmap(["hash:" + path], configDirectory: directory.file("conf"))
        #expect(build.status == 0, "postmap failed: \(build.errors)")
        let dump = try ExternalTool.postmap(["-s", "hash:" + path], configDirectory: directory.file("conf"))
        #expect(dump.status == 0, "postmap -s failed: \(dump.errors)")
        let postmapLines = dump.output.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map(Array.init).sorted {
            $0.lexicographicallyPrecedes($1)
        }

        let source = try TableSource(path: path, bytes: bytes, utf8Checks: utf8)
        let ourLines = source.storedRecords().map { $0.key + [0x09] + $0.value }.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(ourLines == postmapLines, "records differ for \(fixture)")

        // Skipped lines: postmap names the line for every reason but one.
        let numbered = try Regex(#", line (\d+): (?:expected format|non-UTF-8 input|unbalanced)"#)
        let postmapSkipped = build.errors.split(separator: "\n").compactMap { line -> Int? in
            guard let match = line.firstMatch(of: numbered), let number = match.output[1].substring else { return nil }
            return Int(number)
        }.sorted()
        let ourSkipped = source.skippedLines.filter { $0.reason != .startsWithWhitespace }.map(\.lineNumber).sorted()
        #expect(ourSkipped == postmapSkipped, "skipped lines differ for \(fixture): \(build.errors)")
        let postmapLeading = build.errors.components(separatedBy: "logical line must not start with whitespace").count - 1
        #expect(source.skippedLines.filter { $0.reason == .startsWithWhitespace }.count == postmapLeading)
    }

    /// A table large enough to be split in two halves at once: every
    /// fixture, again and again (so most keys repeat, across the halves
    /// too, and the first must still win), with the keys of each round
    /// also written once more with a round number.
    @Test("postmap -s agrees on a table split in halves", arguments: [true, false])
    func largeTableMatchesPostmap(utf8: Bool) throws {
        let directory = try TestDirectory()
        try directory.write("conf/main.cf", "compatibility_level = \(utf8 ? "3.6" : "0")\n")
        let all = try Self.fixtures.map { try readBytes(fixturesDirectory + "/tables/" + $0) }
        let fixtures: [UInt8] = all.flatMap { $0 + [0x0A] }
        let rounds = 70_000 / ConfigText(bytes: fixtures).logicalLines.count + 1
        var bytes: [UInt8] = []
        for round in 0..<rounds {
            bytes += fixtures + Array("round\(round).example verify\nROUND\(round).example secure\n".utf8)
        }
        let path = try directory.write("table", bytes)
        let build = try ExternalTool.postmap(["hash:" + path], configDirectory: directory.file("conf"))
        #expect(build.status == 0, "postmap failed: \(build.errors)")
        let dump = try ExternalTool.postmap(["-s", "hash:" + path], configDirectory: directory.file("conf"))
        let postmapLines = dump.output.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map(Array.init).sorted {
            $0.lexicographicallyPrecedes($1)
        }
        let source = try TableSource(path: path, bytes: bytes, utf8Checks: utf8)
        let ourLines = source.storedRecords().map { $0.key + [0x09] + $0.value }.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(ourLines.count == postmapLines.count)
        #expect(ourLines == postmapLines)
        #expect(source.storedRecordCount == postmapLines.count)
        // The key table (filled in two halves) names, for every entry, the
        // first entry with its key: the one postmap keeps.
        var first: [[UInt8]: Int] = [:]
        var wrong: [Int] = []
        for index in 0..<source.entryCount {
            let key = source.entry(at: index).key
            let folded = key.postfixFoldedKey(utf8: utf8)!
            let expected = first[folded, default: index]
            first[folded] = expected
            if source.storedEntry(forKeyOf: index, key: key) != expected { wrong.append(index) }
        }
        #expect(wrong.isEmpty, "entries whose first entry is wrong: \(wrong.prefix(10))")
        // Skipped lines come back in file order, from both halves.
        let numbers = source.skippedLines.map(\.lineNumber)
        #expect(numbers == numbers.sorted() && !numbers.isEmpty)
    }

    @Test("every fixture reprints byte for byte", arguments: fixtures)
    func roundTrip(fixture: String) throws {
        let bytes = try readBytes(fixturesDirectory + "/tables/" + fixture)
        let text = ConfigText(bytes: bytes)
        #expect(text.reprinted() == bytes)
        #expect(text.lines.last.map { $0.end == bytes.count } ?? bytes.isEmpty)
    }

    @Test func nulBytesAreRejectedWithTheLine() throws {
        #expect(throws: ConfigFileError(SourceLocation(path: "t", line: 2), "NUL byte in a table source; Postfix would truncate this line")) {
            try TableSource(path: "t", bytes: Array("a verify\nb ve\u{0}rify\n".utf8), utf8Checks: true)
        }
    }
}
