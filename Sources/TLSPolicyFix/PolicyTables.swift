// PolicyTables.swift: loads a table named in a policy map list, whatever its
// kind, as a list of policy entries ("sites") that say where each entry is
// written and how to add an attribute to it without touching anything else.
//
// Kinds:
//   hash:, btree:      postmap source; the tool writes the .db itself
//   lmdb:, cdb:        postmap source; postmap TYPE:PATH builds the index
//   texthash:          postmap-style source read at start-up (needs a reload)
//   regexp:, pcre:     pattern rules; the policy is the rule's result (reload)
//   inline:{...}       entries inside main.cf or master.cf (reload)
// Other kinds (mysql, pgsql, ldap, sqlite, socketmap, tcp, memcache, ...)
// live outside the configuration files and are reported, not edited.

import HashMap
import PostconfModel

/// How running Postfix sees a table's new content.
public enum TableDelivery: Sendable, Equatable {
    /// hash:/btree: indexes, written by the tool; noticed by running daemons.
    case nativeIndex(IndexAccessMethod)
    /// Indexes built by postmap TYPE:PATH (lmdb:, cdb:, or hash: redirected
    /// by Postfix 3.11's non_bdb_migration_level); noticed by running daemons.
    case postmapIndex(type: String, suffix: String)
    /// Read when a daemon starts: edits need `postfix reload`.
    case readAtStart
}

/// One policy entry where it is written.
struct PolicySite {
    /// The key or pattern as written, for messages.
    var key: String
    /// The key smtp(8) matches exactly (lower-cased), nil for pattern rules.
    var lookupKey: [UInt8]?
    var value: [UInt8]
    var location: SourceLocation
    /// The edit that adds "name=value" (no leading space) to this entry.
    var addAttribute: @Sendable ([UInt8]) -> ByteEdit
}

/// A table ready for inspection.
struct LoadedTable {
    var reference: MapReference
    /// The file the sites' edits address (the source, or main.cf/master.cf for inline:).
    var path: String
    var text: ConfigText
    var sites: PolicySites
    var delivery: TableDelivery
    /// The postmap source, for tables with an index.
    var source: TableSource?
    /// Where the index is, for tables with one.
    var indexPath: String?
    /// inline: keeps the last of duplicate keys; every other kind the first.
    var lastDuplicateWins = false
}

enum TableLoad {
    case loaded(LoadedTable)
    /// A kind the tool does not edit, with the reason.
    case notEditable(String)
    /// A problem to report instead of the table.
    case problem(Finding)
}

enum PolicyTables {
    static func load(
        _ reference: MapReference, listedAt location: SourceLocation,
        configuration: Configuration, masterCf: MasterCf?, options: FixOptions
    ) throws(ConfigurationError) -> TableLoad {
        switch reference.type {
        case "hash", "btree":
            let method = IndexAccessMethod(rawValue: reference.type)!
            if let redirected = redirectedIndexType(configuration, options: options) {
                return try loadSource(reference, configuration, delivery: .postmapIndex(type: redirected, suffix: "." + redirected))
            }
            return try loadSource(reference, configuration, delivery: .nativeIndex(method))
        case "lmdb", "cdb":
            return try loadSource(reference, configuration, delivery: .postmapIndex(type: reference.type, suffix: "." + reference.type))
        case "texthash":
            return try loadSource(reference, configuration, delivery: .readAtStart)
        case "regexp", "pcre":
            return try loadPatterns(reference, configuration)
        case "inline":
            return loadInline(reference, listedAt: location, configuration: configuration, masterCf: masterCf)
        default:
            return .notEditable("\(reference.type): tables live outside the configuration files and are not edited by this tool")
        }
    }

    /// The index type Postfix 3.11+ uses instead of hash:/btree: when
    /// non_bdb_migration_level redirects them (NON_BERKELEYDB_README).
    static func redirectedIndexType(_ configuration: Configuration, options: FixOptions) -> String? {
        guard let version = options.postfixVersion, version >= PostfixVersion(3, 11) else { return nil }
        let level = String(decoding: configuration.value("non_bdb_migration_level"), as: UTF8.self).lowercased()
        guard level == "enable-redirect" || level == "enable-reindex" else { return nil }
        let type = String(decoding: configuration.value("default_database_type"), as: UTF8.self)
        return type.isEmpty || type == "hash" || type == "btree" ? nil : type
    }

    /// The file a table names, resolved as the daemons resolve it.
    static func filePath(_ reference: MapReference, _ configuration: Configuration) -> String {
        configuration.resolve(String(decoding: reference.name, as: UTF8.self))
    }

    static func loadSource(_ reference: MapReference, _ configuration: Configuration, delivery: TableDelivery) throws(ConfigurationError) -> TableLoad {
        let path = filePath(reference, configuration)
        let display = configuration.displayPath(path)
        let indexPath: String?
        switch delivery {
        case .nativeIndex(let method): indexPath = path + method.fileSuffix
        case .postmapIndex(_, let suffix): indexPath = path + suffix
        case .readAtStart: indexPath = nil
        }
        guard pathExists(path) else {
            let indexExists = indexPath.map(pathExists) ?? false
            return .problem(Finding(
                indexExists ? .manual : .error, .missingSource, at: SourceLocation(path: display),
                subject: reference.description,
                indexExists ? "the source file is missing; only its index exists, which cannot be fixed without it"
                    : "the table does not exist; Postfix defers mail that needs it",
                fix: indexExists ? "restore the source, then run the tool again" : nil))
        }
        let utf8Checks = configuration.flag("smtputf8_enable")
        let source = try parseFile(path) { bytes throws(ConfigFileError) in
            try TableSource(path: display, bytes: bytes, utf8Checks: utf8Checks)
        }
        return .loaded(LoadedTable(
            reference: reference, path: path, text: source.text, sites: PolicySites(source: source, display: display), delivery: delivery,
            source: source, indexPath: indexPath))
    }

    static func loadPatterns(_ reference: MapReference, _ configuration: Configuration) throws(ConfigurationError) -> TableLoad {
        let path = filePath(reference, configuration)
        let display = configuration.displayPath(path)
        guard pathExists(path) else {
            return .problem(Finding(.error, .missingSource, at: SourceLocation(path: display), subject: reference.description,
                                    "the table does not exist; Postfix defers mail that needs it"))
        }
        let table = try parseFile(path) { bytes throws(ConfigFileError) in try PatternTable(path: display, bytes: bytes) }
        let text = table.text
        let sites = table.rules.map { rule in
            let offset = endOfText(lastLine: rule.logicalLine.lastTextLine, in: text)
            return PolicySite(
                key: rule.pattern.printable, lookupKey: nil, value: rule.result,
                location: SourceLocation(path: display, line: rule.lineNumber),
                addAttribute: { ByteEdit(insert: [0x20] + $0, at: offset) })
        }
        return .loaded(LoadedTable(reference: reference, path: path, text: text, sites: PolicySites(sites), delivery: .readAtStart))
    }

    /// inline:{ key=value, { key = value with spaces } } found in main.cf or
    /// master.cf. An entry in the short form gets the long form, since the
    /// new value has white space in it.
    static func loadInline(_ reference: MapReference, listedAt location: SourceLocation, configuration: Configuration, masterCf: MasterCf?) -> TableLoad {
        let needle = Array("inline:".utf8) + reference.name
        let files: [(path: String, text: ConfigText)] =
            [(configuration.mainCf.path, configuration.mainCf.text)] + (masterCf.map { [($0.path, $0.text)] } ?? [])
        for file in files {
            for logical in file.text.logicalLines where !logical.startsWithWhitespace {
                let joined = file.text.joinedText(of: logical)
                guard let start = firstRange(of: needle, in: joined.bytes)?.lowerBound else { continue }
                let bodyStart = start + 7  // after "inline:"
                let bodyEnd = bodyStart + reference.name.count
                guard Tokens.isBraced(joined.bytes[bodyStart..<bodyEnd]) else {
                    return .problem(Finding(.error, .brokenEntry, at: SourceLocation(path: configuration.displayPath(file.path), line: file.text.lineNumber(of: logical)),
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
                        return .problem(Finding(.error, .brokenEntry, at: SourceLocation(path: display, line: lineNumber),
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
                        edit = { ByteEdit(range: range, replacement: Array("{ ".utf8) + keyBytes + Array(" = ".utf8) + valueBytes + [0x20] + $0 + Array(" }".utf8)) }
                    }
                    sites.append(PolicySite(
                        key: keyBytes.printable, lookupKey: keyBytes.postfixFoldedKey(utf8: configuration.flag("smtputf8_enable")), value: valueBytes,
                        location: SourceLocation(path: display, line: lineNumber), addAttribute: edit))
                }
                return .loaded(LoadedTable(
                    reference: reference, path: file.path, text: file.text, sites: PolicySites(sites, lastDuplicateWins: true),
                    delivery: .readAtStart, lastDuplicateWins: true))
            }
        }
        return .notEditable("inline: table built by parameter expansion; it is not written literally in main.cf or master.cf")
    }

    /// Where to append to an entry: the end of its last text line, before
    /// trailing white space or CR, so the line end stays as it was.
    static func endOfText(lastLine index: Int, in text: ConfigText) -> Int {
        let line = text.lines[index]
        var end = line.contentEnd
        while end > line.start && isPostfixSpace(text.bytes[end - 1]) { end -= 1 }
        return end
    }

    static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start..<(start + needle.count) }
        }
        return nil
    }

    /// Whether an index is missing or differs from what postmap would build
    /// from the source (nil when it is current).
    static func indexState(_ table: LoadedTable, configuration: Configuration) throws(ConfigurationError) -> IndexRebuild.Reason? {
        guard let indexPath = table.indexPath, let source = table.source else { return nil }
        guard pathExists(indexPath) else { return .missing }
        if case .nativeIndex(let method) = table.delivery {
            do {
                return try NativeIndex.matches(indexPath: indexPath, method: method, source: source) ? nil : .stale
            } catch {
                throw .unreadable(path: configuration.displayPath(indexPath), reason: "\(error)")
            }
        }
        guard case .postmapIndex(let type, _) = table.delivery else { return nil }  // native: compared above
        do {
            let current = try PostmapCommand.indexHolds(source.storedRecords(), type: type, path: table.path, configDirectory: configuration.directory)
            return current ? nil : .stale
        } catch {
            throw .unreadable(path: configuration.displayPath(indexPath), reason: "\(error)")
        }
    }
}
