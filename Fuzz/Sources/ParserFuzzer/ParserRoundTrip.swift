// ParserRoundTrip.swift: the properties the configuration parsers must have
// for any input whatsoever. The libFuzzer target (FuzzEntry.swift) checks
// them on generated inputs; make test checks them on the committed corpus
// (Tests/PostconfModelTests/ParserRoundTrip.swift is a link to this file).
//
// - ConfigText (the one tokenizer) prints back exactly the bytes it read,
//   and its physical and logical lines describe the file consistently.
// - TableSource, MainCf and MasterCf either refuse the input with an error
//   or keep it byte for byte.
// - The edits the fixer makes (a main.cf setting, a master.cf "-o") change
//   only what they add: the edited file parses again, the new setting is in
//   force with its value, and every other setting is as it was.

import PostconfModel

enum ParserRoundTrip {
    /// The properties `bytes` violates; empty when it has them all.
    static func failures(_ bytes: [UInt8]) -> [String] {
        var failures: [String] = []
        let hostname = Array("hostname".utf8)

        let text = ConfigText(bytes: bytes)
        if text.reprinted() != bytes { failures.append("ConfigText does not print back its input") }
        failures += lineFailures(text)

        for utf8Checks in [false, true] {
            guard let table = try? TableSource(path: "table", bytes: bytes, utf8Checks: utf8Checks) else { continue }
            if table.text.reprinted() != bytes { failures.append("TableSource does not print back its input") }
            for entry in table.entries {
                if entry.key.isEmpty || entry.key.contains(0) || entry.value.isEmpty || entry.value.contains(0) {
                    failures.append("TableSource line \(entry.lineNumber): empty key or value, or a NUL in one")
                }
                if let first = entry.value.first, let last = entry.value.last, isPostfixSpace(first) || isPostfixSpace(last) {
                    failures.append("TableSource line \(entry.lineNumber): the value keeps outer white space")
                }
            }
        }

        if let mainCf = try? MainCf(path: "main.cf", bytes: bytes) {
            if mainCf.text.reprinted() != bytes { failures.append("MainCf does not print back its input") }
            if let edit = mainCf.edit(setting: "smtp_tls_servername", to: hostname) {
                let edited = bytes.applying([edit])
                if let after = try? MainCf(path: "main.cf", bytes: edited) {
                    if after.values["smtp_tls_servername"] != hostname {
                        failures.append("main.cf edit: smtp_tls_servername is not in force after the edit")
                    }
                    var others = after.values
                    others["smtp_tls_servername"] = mainCf.values["smtp_tls_servername"]
                    if others != mainCf.values { failures.append("main.cf edit: another parameter changed") }
                } else {
                    failures.append("main.cf edit: the edited file no longer parses")
                }
            } else if mainCf.values["smtp_tls_servername", default: []].isEmpty {
                failures.append("main.cf edit: no edit for an unset parameter")
            }
        }

        if let masterCf = try? MasterCf(path: "master.cf", bytes: bytes) {
            if masterCf.text.reprinted() != bytes { failures.append("MasterCf does not print back its input") }
            for (index, service) in masterCf.services.enumerated().prefix(4) {
                let edited = bytes.applying([masterCf.edit(adding: "smtp_tls_servername", value: hostname, to: service)])
                guard let after = try? MasterCf(path: "master.cf", bytes: edited), after.services.count == masterCf.services.count else {
                    failures.append("master.cf edit of service \(index + 1): the edited file no longer parses the same services")
                    continue
                }
                for (position, (old, new)) in zip(masterCf.services, after.services).enumerated() {
                    let oldOverrides = old.overrides.map { "\($0.name)=\($0.value)" }
                    var newOverrides = new.overrides.map { "\($0.name)=\($0.value)" }
                    if position == index {
                        if new.override("smtp_tls_servername")?.value != hostname {
                            failures.append("master.cf edit of service \(index + 1): the new override is not in force")
                        }
                        if newOverrides.last == "smtp_tls_servername=\(hostname)" { newOverrides.removeLast() }
                    }
                    if old.id != new.id || old.command != new.command || oldOverrides != newOverrides {
                        failures.append("master.cf edit of service \(index + 1): service \(position + 1) changed otherwise")
                    }
                }
            }
        }
        return failures
    }

    /// Whether the physical lines tile the buffer and the logical lines
    /// group them the way readllines() does.
    static func lineFailures(_ text: ConfigText) -> [String] {
        var failures: [String] = []
        var offset = 0
        for (index, line) in text.lines.enumerated() {
            if line.start != offset || line.contentEnd < line.start || line.end < line.contentEnd || line.number != index + 1 {
                failures.append("ConfigText line \(index + 1) does not continue where the previous one ended")
                break
            }
            let content = text.bytes[line.start..<line.contentEnd]
            if content.contains(0x0A) || (line.end > line.contentEnd && (line.end != line.contentEnd + 1 || text.bytes[line.contentEnd] != 0x0A)) {
                failures.append("ConfigText line \(index + 1) is not one line")
                break
            }
            offset = line.end
        }
        if offset != text.bytes.count { failures.append("ConfigText lines do not cover the whole input") }
        if text.kinds.count != text.lines.count { failures.append("ConfigText classifies a different number of lines") }
        var previousEnd = -1
        for logical in text.logicalLines {
            guard logical.firstLine > previousEnd, logical.firstLine <= logical.lastTextLine,
                  logical.lastTextLine < text.lines.count
            else {
                failures.append("ConfigText logical lines overlap or point outside the file")
                break
            }
            let first = text.kinds[logical.firstLine]
            if first != .start && !(first == .continuation && logical.startsWithWhitespace) {
                failures.append("ConfigText logical line at \(logical.firstLine + 1) does not start with text")
            }
            previousEnd = logical.lastTextLine
        }
        return failures
    }
}
