// PolicyFixture.swift: a TLS policy source with mixed-case keys, duplicates,
// comments and continuation lines, rendered both as the text postmap reads and
// as the logical records postmap derives from it.

import HashMap

struct PolicyEntry {
    var key: String
    /// The value on the key's own line, then continuation lines including
    /// their leading whitespace (postmap keeps it when joining).
    var lines: [String]

    /// The value postmap stores: the lines joined as they are.
    var value: String { lines.joined() }
}

struct PolicyFixture {
    var entries: [PolicyEntry]

    /// Several hundred entries. Keys are mixed-case; "Dup.Example" occurs
    /// three times with different case and value; every seventh entry is
    /// continued over two more lines with a comment in between.
    static func standard(count: Int = 600) -> PolicyFixture {
        var entries = [
            PolicyEntry(key: "Example.COM", lines: ["secure match=nexthop"]),
            PolicyEntry(key: ".Example.NET", lines: ["verify", "    servername=hostname", "\tciphers=high"]),
            PolicyEntry(key: "[MX.Example.org]:587", lines: ["encrypt"]),
            PolicyEntry(key: "Dup.Example", lines: ["may"]),
        ]
        for index in 0..<count {
            let key = index % 3 == 0 ? "Host\(index).Example.COM" : "mx\(index).mail.EXAMPLE.net"
            if index % 7 == 0 {
                entries.append(
                    PolicyEntry(
                        key: key, lines: ["verify", "   servername=hostname", "\tmatch=.example.net"]))
            } else {
                entries.append(PolicyEntry(key: key, lines: ["secure match=nexthop:dot-nexthop"]))
            }
            if index == count / 2 {
                entries.append(PolicyEntry(key: "DUP.EXAMPLE", lines: ["secure"]))
            }
        }
        entries.append(PolicyEntry(key: "dup.example", lines: ["encrypt"]))
        return PolicyFixture(entries: entries)
    }

    /// The source file text.
    var sourceText: String {
        var text = "# TLS policy used by the HashMap tests\n\n"
        for entry in entries {
            text += "\(entry.key)\t\(entry.lines[0])\n"
            for (number, continuation) in entry.lines.dropFirst().enumerated() {
                if number == 1 { text += "# a comment inside a continued entry\n" }
                text += continuation + "\n"
            }
        }
        return text
    }

    /// The records in source order, as postmap's parser yields them (before
    /// case folding and duplicate removal).
    var records: [IndexRecord] {
        entries.map { IndexRecord(key: $0.key, value: $0.value) }
    }

    /// What the index should hold: keys lower-cased, first duplicate kept.
    var expectedIndex: [IndexRecord] {
        var seen = Set<String>()
        return entries.compactMap { entry in
            let key = entry.key.lowercased()
            return seen.insert(key).inserted ? IndexRecord(key: key, value: entry.value) : nil
        }
    }
}
