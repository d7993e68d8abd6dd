// TableLoader.swift: loads a table named in a policy map list, whatever its
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

enum TableLoader {
    static func load(
        _ reference: MapReference, listedAt location: SourceLocation, configuration: Configuration, options: FixOptions
    ) throws(LoadError) -> TableLoad {
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
            return InlineTables.load(reference, configuration: configuration)
        case "static":
            return StaticTables.load(reference, configuration: configuration)
        case "socketmap":
            if let finding = MtaStsResolver.finding(for: reference, listedAt: location, configuration: configuration) {
                return .problem(finding)
            }
            return .notEditable("socketmap: tables live outside the configuration files and are not edited by this tool")
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

    static func loadSource(_ reference: MapReference, _ configuration: Configuration, delivery: TableDelivery) throws(LoadError) -> TableLoad {
        let path = filePath(reference, configuration)
        let display = configuration.displayPath(path)
        let indexPath: String?
        switch delivery {
        case .nativeIndex(let method): indexPath = path + method.fileSuffix
        case .postmapIndex(_, let suffix): indexPath = path + suffix
        case .readAtStart: indexPath = nil
        }
        guard configuration.files.exists(path) else {
            let indexExists = indexPath.map(configuration.files.exists) ?? false
            return .problem(
                Finding(
                    indexExists ? .manual : .error, .missingSource, at: SourceLocation(path: display),
                    subject: reference.description,
                    indexExists
                        ? "the source file is missing; only its index exists, which cannot be fixed without it"
                        : "the table does not exist; Postfix defers mail that needs it",
                    fix: indexExists ? "restore the source, then run the tool again" : nil))
        }
        let utf8Checks = configuration.flag("smtputf8_enable")
        let source = try configuration.files.parse(path) { bytes throws(ConfigFileError) in
            try TableSource(path: display, bytes: bytes, utf8Checks: utf8Checks)
        }
        return .loaded(
            LoadedTable(
                reference: reference, path: path, text: source.text, sites: PolicySites(source: source, display: display), delivery: delivery,
                source: source, indexPath: indexPath))
    }

    static func loadPatterns(_ reference: MapReference, _ configuration: Configuration) throws(LoadError) -> TableLoad {
        let path = filePath(reference, configuration)
        let display = configuration.displayPath(path)
        guard configuration.files.exists(path) else {
            return .problem(
                Finding(
                    .error, .missingSource, at: SourceLocation(path: display), subject: reference.description,
                    "the table does not exist; Postfix defers mail that needs it"))
        }
        let table = try configuration.files.parse(path) { bytes throws(ConfigFileError) in try PatternTable(path: display, bytes: bytes) }
        let text = table.text
        let sites = table.rules.map { rule in
            let offset = text.endOfText(lastLine: rule.logicalLine.lastTextLine)
            return PolicySite(
                key: rule.pattern.printable, lookupKey: nil, value: rule.result,
                location: SourceLocation(path: display, line: rule.lineNumber),
                addAttribute: { ByteEdit(insert: [0x20] + $0, at: offset) })
        }
        return .loaded(LoadedTable(reference: reference, path: path, text: text, sites: PolicySites(sites), delivery: .readAtStart))
    }
}
