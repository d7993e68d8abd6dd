// StaticTables.swift: a static:VALUE table answers VALUE for every
// destination (dict_static.c), so it is one site whose policy is VALUE,
// written where the map list is, in main.cf or master.cf. static:may can
// never yield verify; static:verify needs servername like any entry, and
// gets it in place: static:verify becomes static:{ verify servername=... }
// (the braced form, dict_static.c's "static:{ text with whitespace }",
// since the new value has white space in it).

import PostconfModel

enum StaticTables {
    static func load(_ reference: MapReference, configuration: Configuration) -> TableLoad {
        // Where the list's value in force is written, as for inline: tables.
        let origin = reference.origin ?? .mainCf(parameter: "smtp_tls_policy_maps")
        for file in InlineTables.places(of: origin, configuration) {
            if let site = site(of: reference, in: file, configuration: configuration) {
                return .loaded(
                    LoadedTable(reference: reference, path: file.path, text: file.text, sites: PolicySites([site]), delivery: .readAtStart))
            }
        }
        return .notEditable("static: table built by parameter expansion; it is not written literally in main.cf or master.cf")
    }

    /// The table's one site, where "static:VALUE" is written on `file`'s
    /// logical line, or nil when it is not written there.
    private static func site(
        of reference: MapReference, in file: (path: String, text: ConfigText, logical: LogicalLine), configuration: Configuration
    ) -> PolicySite? {
        let joined = file.text.joinedText(of: file.logical)
        guard let found = InlineTables.firstRange(of: Array("static:".utf8) + reference.name, in: joined.bytes) else { return nil }
        let body = (found.lowerBound + 7)..<found.upperBound  // after "static:"
        let braced = Tokens.isBraced(joined.bytes[body])
        let value = Array(braced ? trimmed(Tokens.unbraced(joined.bytes[body])) : joined.bytes[body])
        let edit: @Sendable ([UInt8]) -> ByteEdit
        if braced {
            // After the value, before the blanks and the closing brace.
            var end = body.upperBound - 1
            while end > body.lowerBound + 1, isPostfixSpace(joined.bytes[end - 1]) { end -= 1 }
            let at = joined.fileOffset(end)
            edit = { ByteEdit(insert: [0x20] + $0, at: at) }
        } else {
            let range = joined.fileOffset(body.lowerBound)..<joined.fileOffset(body.upperBound)
            edit = { ByteEdit(range: range, replacement: Array("{ ".utf8) + value + [0x20] + $0 + Array(" }".utf8)) }
        }
        return PolicySite(
            key: reference.description, lookupKey: nil, value: value,
            location: SourceLocation(path: configuration.displayPath(file.path), line: file.text.lineNumber(of: file.logical)),
            addAttribute: edit)
    }

    /// The value without the white space around it (inside the braces).
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, isPostfixSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isPostfixSpace(last) { slice = slice.dropLast() }
        return slice
    }
}
