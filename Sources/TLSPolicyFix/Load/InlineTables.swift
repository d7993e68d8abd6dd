// InlineTables.swift: finds an inline:{...} table where it is written, in
// main.cf or master.cf, and loads its elements as sites whose edits land in
// that file.

import PostconfModel

enum InlineTables {
    /// inline:{ key=value, { key = value with spaces } } found in main.cf or
    /// master.cf. An entry in the short form gets the long form, since the
    /// new value has white space in it.
    static func load(_ reference: MapReference, configuration: Configuration) -> TableLoad {
        let needle = Array("inline:".utf8) + reference.name
        let files: [(path: String, text: ConfigText)] =
            [(configuration.mainCf.path, configuration.mainCf.text)] + (configuration.masterCf.map { [($0.path, $0.text)] } ?? [])
        for file in files {
            for logical in file.text.logicalLines where !logical.startsWithWhitespace {
                let joined = file.text.joinedText(of: logical)
                guard let start = firstRange(of: needle, in: joined.bytes)?.lowerBound else { continue }
                let bodyStart = start + 7  // after "inline:"
                let bodyEnd = bodyStart + reference.name.count
                guard Tokens.isBraced(joined.bytes[bodyStart..<bodyEnd]) else {
                    return .problem(
                        Finding(
                            .error, .brokenEntry,
                            at: SourceLocation(path: configuration.displayPath(file.path), line: file.text.lineNumber(of: logical)),
                            subject: reference.description, "inline: table without its closing '}'; Postfix cannot open it"))
                }
                let display = configuration.displayPath(file.path)
                let lineNumber = file.text.lineNumber(of: logical)
                var sites: [PolicySite] = []
                let inner = (bodyStart + 1)..<(bodyEnd - 1)
                for token in Tokens.split(joined.bytes[inner], braces: true, isSeparator: Tokens.isCommaOrSpace) {
                    let element = joined.bytes[token]
                    let braced = Tokens.isBraced(element)
                    guard let (key, value) = Tokens.nameValue(braced ? Tokens.unbraced(element) : element) else {
                        return .problem(
                            Finding(
                                .error, .brokenEntry, at: SourceLocation(path: display, line: lineNumber),
                                subject: reference.description, "inline: element \"\(element.printable)\" is not key=value"))
                    }
                    let keyBytes = Array(key)
                    let valueBytes = Array(value)
                    let edit: @Sendable ([UInt8]) -> ByteEdit
                    if braced {
                        let at = joined.fileOffset(value.endIndex)
                        edit = { ByteEdit(insert: [0x20] + $0, at: at) }
                    } else {
                        let range = joined.fileOffset(token.lowerBound)..<joined.fileOffset(token.upperBound)
                        edit = {
                            ByteEdit(
                                range: range,
                                replacement: Array("{ ".utf8) + keyBytes + Array(" = ".utf8) + valueBytes + [0x20] + $0 + Array(" }".utf8))
                        }
                    }
                    sites.append(
                        PolicySite(
                            key: keyBytes.printable, lookupKey: keyBytes.postfixFoldedKey(utf8: configuration.flag("smtputf8_enable")),
                            value: valueBytes,
                            location: SourceLocation(path: display, line: lineNumber), addAttribute: edit))
                }
                return .loaded(
                    LoadedTable(
                        reference: reference, path: file.path, text: file.text, sites: PolicySites(sites, lastDuplicateWins: true),
                        delivery: .readAtStart, lastDuplicateWins: true))
            }
        }
        return .notEditable("inline: table built by parameter expansion; it is not written literally in main.cf or master.cf")
    }

    static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start..<(start + needle.count) }
        }
        return nil
    }
}
