// InlineTables.swift: finds an inline:{...} table where the value in force
// of the parameter that names it is written (main.cf's last definition, or
// a master.cf service's -o), and loads its elements as sites whose edits
// land there.

import PostconfModel

enum InlineTables {
    /// inline:{ key=value, { key = value with spaces } } found in main.cf or
    /// master.cf. An entry in the short form gets the long form, since the
    /// new value has white space in it.
    static func load(_ reference: MapReference, configuration: Configuration) -> TableLoad {
        let needle = Array("inline:".utf8) + reference.name
        let origin = reference.origin ?? .mainCf(parameter: "smtp_tls_policy_maps")
        for place in places(of: origin, configuration) {
            let joined = place.text.joinedText(of: place.logical)
            guard let start = firstRange(of: needle, in: joined.bytes)?.lowerBound else { continue }
            return load(reference, at: start, in: joined, of: place, configuration)
        }
        return .notEditable("inline: table built by parameter expansion; it is not written literally in main.cf or master.cf")
    }

    /// The table whose text starts at `start` of `place`'s joined line.
    private static func load(
        _ reference: MapReference, at start: Int, in joined: JoinedText, of place: (path: String, text: ConfigText, logical: LogicalLine),
        _ configuration: Configuration
    ) -> TableLoad {
        let bodyStart = start + 7  // after "inline:"
        let bodyEnd = bodyStart + reference.name.count
        guard Tokens.isBraced(joined.bytes[bodyStart..<bodyEnd]) else {
            return .problem(
                Finding(
                    .error, .brokenEntry,
                    at: SourceLocation(path: configuration.displayPath(place.path), line: place.text.lineNumber(of: place.logical)),
                    subject: reference.description, "inline: table without its closing '}'; Postfix cannot open it"))
        }
        let display = configuration.displayPath(place.path)
        let lineNumber = place.text.lineNumber(of: place.logical)
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
                reference: reference, path: place.path, text: place.text, sites: PolicySites(sites, lastDuplicateWins: true),
                delivery: .readAtStart, lastDuplicateWins: true))
    }

    /// The logical lines a list from `origin` can have its inline: text
    /// in, the likeliest first, and only lines in force: the service's own
    /// entry or main.cf's last definition of the parameter, then every other
    /// definition in force in main.cf (the list may name it as $name). An
    /// overridden earlier definition is never edited: Postfix does not read
    /// it.
    static func places(of origin: MapOrigin, _ configuration: Configuration) -> [(path: String, text: ConfigText, logical: LogicalLine)] {
        let mainCf = configuration.mainCf
        var result: [(path: String, text: ConfigText, logical: LogicalLine)] = []
        switch origin {
        case .service(let id, _):
            if let masterCf = configuration.masterCf, let service = masterCf.services.first(where: { $0.id == id }) {
                result.append((masterCf.path, masterCf.text, service.logicalLine))
            }
        case .mainCf(let parameter):
            if let own = mainCf.definition(of: parameter) { result.append((mainCf.path, mainCf.text, own.logicalLine)) }
        }
        for definition in mainCf.definitions where mainCf.definition(of: definition.name)?.lineNumber == definition.lineNumber {
            result.append((mainCf.path, mainCf.text, definition.logicalLine))
        }
        return result
    }

    static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start..<(start + needle.count) }
        }
        return nil
    }
}
