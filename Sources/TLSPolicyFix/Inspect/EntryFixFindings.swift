// EntryFixFindings.swift: the "append servername" findings of the entries of
// postmap sources, kept as 16 bytes each and made into Finding values only
// when someone asks for them. A table of a million entries has hundreds of
// thousands; as Finding values (with a key string apiece) they took more
// memory than the table itself, and diff and apply never show them.

import PostconfModel

struct EntryFixFindings: Sendable {
    /// What the findings of one table share.
    struct Table: Sendable {
        /// The source's path for messages.
        let display: String
        /// The source (shared with its FileChange, not a copy): the keys are read from here.
        let text: ConfigText
        /// The message for each level.
        let messages: [TLSSecurityLevel: String]
        let fix: String
    }

    /// An entry's key starts its first line, so the line and the key's
    /// length say where it is.
    struct Entry: Sendable {
        /// How many of the other findings were found before this one.
        var position: UInt32
        /// 1-based.
        var line: UInt32
        var keyLength: UInt16
        var table: UInt16
        var level: TLSSecurityLevel
    }

    private(set) var tables: [Table] = []
    private(set) var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }

    /// Starts the findings of a table; returns the number to add them with.
    mutating func addTable(_ table: Table) -> Int {
        tables.append(table)
        return tables.count - 1
    }

    mutating func reserveCapacity(_ count: Int) {
        entries.reserveCapacity(entries.count + count)
    }

    /// Adds the finding of the entry whose key is at `keyRange` of the
    /// table's source, on 1-based `line`, which starts at `lineStart`;
    /// false when it does not fit (a key that does not start its line or of
    /// 64 KiB or more, the 65536th table): the caller keeps a Finding for
    /// it instead.
    mutating func add(table: Int, keyRange: Range<Int>, line: Int, lineStart: Int, level: TLSSecurityLevel, position: Int) -> Bool {
        guard table <= Int(UInt16.max), keyRange.count <= Int(UInt16.max), keyRange.lowerBound == lineStart else { return false }
        entries.append(
            Entry(
                position: UInt32(position), line: UInt32(line), keyLength: UInt16(keyRange.count),
                table: UInt16(table), level: level))
        return true
    }

    func finding(_ entry: Entry) -> Finding {
        let table = tables[Int(entry.table)]
        let keyStart = table.text.lines[Int(entry.line) - 1].start
        let key = table.text.bytes[keyStart..<keyStart + Int(entry.keyLength)].printable
        return Finding(
            .fixable, .missingServername, at: SourceLocation(path: table.display, line: Int(entry.line)),
            subject: key, level: entry.level, table.messages[entry.level]!, fix: table.fix)
    }

    /// `others` with these findings put back where they were found, keeping
    /// only the severities `include` accepts.
    func merged(into others: [Finding], _ include: (Finding.Severity) -> Bool) -> [Finding] {
        guard include(.fixable), !entries.isEmpty else { return others.filter { include($0.severity) } }
        var result: [Finding] = []
        result.reserveCapacity(others.count + entries.count)
        var next = 0
        for (position, finding) in others.enumerated() {
            while next < entries.count, Int(entries[next].position) <= position {
                result.append(self.finding(entries[next]))
                next += 1
            }
            if include(finding.severity) { result.append(finding) }
        }
        while next < entries.count {
            result.append(self.finding(entries[next]))
            next += 1
        }
        return result
    }
}
