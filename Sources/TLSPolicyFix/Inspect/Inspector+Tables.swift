// Inspector+Tables.swift: the rule for policy tables: every table of every
// client's map list, each inspected once; the entries that verify without
// SNI, those smtp(8) rejects, those it never selects; and their indexes.

import FileSafety
import HashMap
import PostconfModel

extension InspectionState {
    /// Every table of every client's map list, each inspected once.
    mutating func inspectTables() throws(LoadError) {
        let lists = mapLists()
        var loaded: [MapReference: LoadedTable] = [:]
        for reference in lists.references {
            switch try TableLoader.load(reference, listedAt: lists.listedAt[reference]!, configuration: configuration, options: options) {
            case .loaded(let table):
                options.progress?(.tableRead(display: configuration.displayPath(table.path), entries: table.sites.count))
                loaded[reference] = table
            case .notEditable(let reason) where options.acknowledgedTables.contains(reference.description):
                findings.append(
                    Finding(
                        .note, .unsupportedTable, at: lists.listedAt[reference]!, subject: reference.description,
                        "acknowledged (--acknowledge): \(reason)"))
            case .notEditable(let reason):
                findings.append(
                    Finding(
                        .manual, .unsupportedTable, at: lists.listedAt[reference]!, subject: reference.description, reason,
                        fix: "add servername=\(options.servername) to its verify and secure entries by hand, then name it with --acknowledge"))
            case .problem(let finding):
                findings.append(finding)
            }
        }
        let shadowed = Self.shadowedKeys(lists.lists, loaded)
        for reference in lists.references {
            guard let table = loaded[reference] else { continue }
            try inspect(
                table, rolesWithoutSNI: lists.rolesWithoutSNI[reference] ?? [], gainsSNIFrom: lists.gainsSNIFrom[reference],
                shadowed: shadowed[reference] ?? [])
        }
        rebuildIndexesOfEditedSources(lists.references.compactMap { loaded[$0] })
    }

    /// Two tables can share one source (hash:t beside lmdb:t). When another
    /// table's fix edits it, an index whose own table needed nothing is
    /// built from the new source too, or it would differ from it.
    mutating func rebuildIndexesOfEditedSources(_ tables: [LoadedTable]) {
        var edited: Set<String> = []
        var rebuilt: Set<MapReference> = []
        for intent in intents {
            switch intent {
            case .appendServername(let table, _), .lowercaseTableKeywords(let table, _): edited.insert(table.path)
            case .rebuildIndex(let table, _): rebuilt.insert(table.reference)
            default: break
            }
        }
        for table in tables where edited.contains(table.path) && !rebuilt.contains(table.reference) && table.indexPath != nil {
            intents.append(.rebuildIndex(table, reason: .sourceChanged))
        }
    }

    /// Which tables, in which lists, with which clients.
    struct MapLists {
        /// Each table once, in the order first named (without proxy:).
        var references: [MapReference] = []
        /// Where each was first named.
        var listedAt: [MapReference: SourceLocation] = [:]
        /// The roles of the clients that read it without a servername.
        var rolesWithoutSNI: [MapReference: Set<String>] = [:]
        /// The main.cf servername parameter this run adds that gives some
        /// client that reads it SNI, if any.
        var gainsSNIFrom: [MapReference: String] = [:]
        /// The distinct map lists.
        var lists: [[MapReference]] = []
        /// The first reference to each file, by type.
        var tableOfFile: [TableFile: MapReference] = [:]
    }

    struct TableFile: Hashable {
        var type: String
        var file: FileKey
    }

    /// The table as first named, when `reference` names the same file
    /// (hash:$config_directory/t and hash:/etc/postfix/t, or a link to it):
    /// it is read, locked and written once.
    func sameTable(_ reference: MapReference, _ lists: inout MapLists) -> MapReference {
        guard lists.listedAt[reference] == nil, MapReference.fileTypes.contains(reference.type) else { return reference }
        let path = TableLoader.filePath(reference, configuration)
        guard let file = configuration.files.fileKey(path) else { return reference }
        if let first = lists.tableOfFile[TableFile(type: reference.type, file: file)] { return first }
        lists.tableOfFile[TableFile(type: reference.type, file: file)] = reference
        return reference
    }

    mutating func mapLists() -> MapLists {
        var result = MapLists()
        for client in clients {
            var list: [MapReference] = []
            for element in MapReference.splitList(client.maps) {
                guard let reference = MapReference(element) else {
                    findings.append(
                        Finding(
                            .error, .unsupportedTable, at: client.mapsLocation, subject: "\(client.role)_tls_policy_maps",
                            "\"\(element.printable)\" is not a type:name table"))
                    continue
                }
                var plain = reference.normalized
                if plain.type == "inline" || plain.type == "static" { plain.origin = client.mapsOrigin }
                let key = sameTable(plain, &result)
                if result.listedAt[key] == nil {
                    result.references.append(key)
                    result.listedAt[key] = client.mapsLocation
                }
                if !client.hasServername { result.rolesWithoutSNI[key, default: []].insert(client.role) }
                if client.servernameFromFix { result.gainsSNIFrom[key] = result.gainsSNIFrom[key] ?? "\(client.role)_tls_servername" }
                list.append(key)
            }
            if !result.lists.contains(list) { result.lists.append(list) }
        }
        return result
    }

    /// Keys an earlier table of the same list also has are never selected
    /// from the later one (every table is searched for the exact key before
    /// any parent domain is tried), in any list.
    static func shadowedKeys(_ lists: [[MapReference]], _ loaded: [MapReference: LoadedTable]) -> [MapReference: Set<[UInt8]>] {
        var shadowedEverywhere: [MapReference: Set<[UInt8]>] = [:]
        for list in lists {
            var seen: Set<[UInt8]> = []
            for reference in list {
                guard let table = loaded[reference] else { continue }
                // A list's only table shadows nothing and is shadowed by
                // nothing: no need for its (possibly a million) keys.
                if list.count == 1 {
                    shadowedEverywhere[reference] = []
                    continue
                }
                let keys = Set(table.sites.indices.compactMap { table.sites.lookupKey(of: table.sites.view($0)) })
                let shadowed = keys.intersection(seen)
                shadowedEverywhere[reference] = shadowedEverywhere[reference].map { $0.intersection(shadowed) } ?? shadowed
                seen.formUnion(keys)
            }
        }
        return shadowedEverywhere
    }

    mutating func inspect(_ table: LoadedTable, rolesWithoutSNI: Set<String>, gainsSNIFrom: String?, shadowed: Set<[UInt8]>) throws(LoadError) {
        let needsSNI = !rolesWithoutSNI.isEmpty
        for skipped in table.source?.skippedLines ?? [] {
            findings.append(Finding(.note, .skippedLine, at: SourceLocation(path: table.source!.path, line: skipped.lineNumber), skipped.message))
        }
        // Sites are looked at through views (see PolicySites): a site is
        // only made into strings when there is something to say about it.
        let sites = table.sites
        let version = options.postfixVersion ?? PostfixVersion(3, 10)
        var verdicts = PolicyVerdicts(braces: version >= PostfixVersion(3, 10), postfixVersion: version)
        var missing = MissingServernameFindings(table: table, options: options)
        // Room for a finding per site up front: growing by doubling would
        // copy (and touch) the large array of a large table over and over;
        // memory reserved and never used costs nothing.
        entryFixes.reserveCapacity(sites.count)
        var fixed = EntrySet(count: sites.count)
        var lowercase: [Int: Range<Int>] = [:]
        for index in sites.indices {
            let view = sites.view(index)
            guard isSelected(view, of: sites, shadowed: shadowed, duplicatesBreakTable: table.reference.type == "texthash") else { continue }
            let policy = verdicts.verdict(for: view.value)
            if !policy.problems.isEmpty {
                findings.append(
                    Finding(
                        .error, .brokenEntry, at: sites.location(of: view), subject: sites.key(of: view), level: policy.level,
                        policy.problems.joined(separator: "; ") + "; smtp(8) defers mail for this destination",
                        fix: "correct the entry by hand"))
                continue
            }
            guard let level = policy.level, level != .none else { continue }
            if let miscased = policy.miscased {
                let range = Self.keywordRange(of: view, in: table, braces: verdicts.braces)
                if let range { lowercase[view.index] = range }
                reportMiscasedKeyword(miscased, of: view, in: sites, level: level, fixable: range != nil)
                continue
            }
            guard !policy.hasServername else { continue }
            guard needsSNI else {
                if level == .fingerprint, let gainsSNIFrom { noteFingerprintGainsSNI(view, in: sites, from: gainsSNIFrom) }
                continue
            }
            if level == .fingerprint && !options.includeFingerprint {
                findings.append(
                    Finding(
                        .note, .fingerprintAtRisk, at: sites.location(of: view), subject: sites.key(of: view), level: level,
                        "fingerprint without servername: a server that picks its certificate by SNI may present one that does not match the pin",
                        fix: "append servername=\(options.servername) (--include-fingerprint)"))
                continue
            }
            guard level.verifiesPeerName || level == .fingerprint else { continue }
            missing.add(view, level: level, to: &self)
            fixed.insert(index)
        }
        if !fixed.isEmpty {
            intents.append(.appendServername(table, sites: fixed))
            rolesNeedingServername.formUnion(rolesWithoutSNI)
        }
        if !lowercase.isEmpty { intents.append(.lowercaseTableKeywords(table, entries: lowercase)) }
        let changed = !fixed.isEmpty || !lowercase.isEmpty

        try inspectIndex(of: table, sourceChanged: changed)
    }

    /// The index, for tables that have one: rebuilt when the source changes,
    /// or when it is missing or differs from its source already.
    mutating func inspectIndex(of table: LoadedTable, sourceChanged: Bool) throws(LoadError) {
        if table.source != nil { writableFiles.append(table.path) }
        guard let indexed = table.indexed(in: configuration) else { return }
        writableFiles.append(indexed.indexPath)
        var reason: IndexRebuild.Reason? = sourceChanged ? .sourceChanged : nil
        let check: IndexCheck
        do throws(LoadError) {
            // A changed source is not compared with the index, but apply
            // replaces only an index it can read as its database.
            if sourceChanged, let problem = configuration.files.unreadableIndex(of: indexed) {
                throw .unreadableIndex(path: indexed.displayIndexPath, cause: .unreadable(path: indexed.displayIndexPath, cause: problem))
            }
            check = sourceChanged ? IndexCheck() : try configuration.files.indexState(of: indexed)
        } catch {
            guard case .unreadableIndex(_, let cause) = error else { throw error }
            findings.append(unreadableIndexFinding(indexed, table, cause: cause))
            return
        }
        for warning in check.warnings {
            findings.append(
                Finding(
                    .note, .postmapWarning, at: SourceLocation(path: indexed.displayIndexPath), subject: table.reference.description,
                    "postmap: \(warning)"))
        }
        if let state = check.reason {
            reason = state
            findings.append(
                Finding(
                    .fixable, state == .missing ? .missingIndex : .staleIndex,
                    at: SourceLocation(path: indexed.displayIndexPath), subject: table.reference.description,
                    state == .missing
                        ? "the index is missing; Postfix cannot read this table" : "the index differs from its source; Postfix uses the index",
                    fix: "rebuild the index from the source"))
        }
        if let reason { intents.append(.rebuildIndex(table, reason: reason)) }
    }

    /// An existing index that cannot be read as the database main.cf names:
    /// apply would refuse to replace it, so check says so first.
    func unreadableIndexFinding(_ indexed: IndexedTable, _ table: LoadedTable, cause: IndexError) -> Finding {
        if let timeout = Self.lockTimeout(in: cause) {
            // Not the index's fault: someone holds a lock on it.
            return Finding(
                .error, .unreadableIndex, at: SourceLocation(path: indexed.displayIndexPath),
                "the index is locked by another process for more than \(FileSafetyError.seconds(timeout)); the tool cannot read it",
                fix: "find the process that holds it (fuser or lsof), then run again")
        }
        let type: String
        if case .nativeIndex(let method) = indexed.delivery { type = method.rawValue } else { type = table.reference.type }
        return Finding(
            .error, .unreadableIndex, at: SourceLocation(path: indexed.displayIndexPath),
            "the existing index is not a readable \(type) database (\(cause)); apply will not replace it",
            fix: "move it away if it is not needed (apply then builds a new one), or find what wrote it")
    }

    /// How long a lock was waited for, when that is why the index could not
    /// be read.
    static func lockTimeout(in error: any Error) -> Duration? {
        switch error {
        case FileSafetyError.lockTimedOut(_, let timeout): return timeout
        case FileSafetyError.lockBusy: return .zero
        case IndexError.unreadable(_, let cause): return lockTimeout(in: cause)
        default: return nil
        }
    }

    /// An entry's own servername is the keyword in another case: sent
    /// literally as the SNI name (see Inspector+Keywords).
    mutating func reportMiscasedKeyword(
        _ miscased: (keyword: String, written: [UInt8]), of view: PolicySites.View, in sites: PolicySites,
        level: TLSSecurityLevel, fixable: Bool
    ) {
        findings.append(
            Finding(
                fixable ? .fixable : .manual, .miscasedKeyword, at: sites.location(of: view), subject: sites.key(of: view),
                level: level, Self.miscasedMessage(miscased.written, keyword: miscased.keyword),
                fix: "write servername=\(miscased.keyword) in lower case" + (fixable ? "" : " by hand")))
    }

    /// Where an entry's servername value is in its value, when the tool can
    /// rewrite it in place: an entry of a postmap source on one line, whose
    /// value is a run of the file's bytes (the table writer and the index
    /// take the same range). Nil for other entries (continued ones, those of
    /// pattern and inline tables).
    static func keywordRange(of view: PolicySites.View, in table: LoadedTable, braces: Bool) -> Range<Int>? {
        guard let source = table.source, !source.logicalLine(ofEntry: view.index).isContinued,
            let value = PolicyValue(Array(view.value), braces: braces).attributes(named: "servername").first?.value
        else { return nil }
        return value.startIndex..<value.endIndex
    }

    /// A fingerprint entry without servername that main.cf's new servername
    /// reaches: it will send SNI without an edit of its own.
    mutating func noteFingerprintGainsSNI(_ view: PolicySites.View, in sites: PolicySites, from parameter: String) {
        findings.append(
            Finding(
                .note, .fingerprintAtRisk, at: sites.location(of: view), subject: sites.key(of: view), level: .fingerprint,
                "fingerprint: the new main.cf \(parameter) gives this entry SNI too;"
                    + " a server that picks its certificate by SNI may then present another one than the pinned"))
    }

    /// Whether smtp(8) can ever select this site: the one it uses for its
    /// key (not a later duplicate), and a key no earlier table of the same
    /// list has. A site that cannot be selected gets a note; a duplicate in
    /// a texthash table is an error, since dict_thash.c then opens the
    /// whole table as unavailable.
    mutating func isSelected(_ view: PolicySites.View, of sites: PolicySites, shadowed: Set<[UInt8]>, duplicatesBreakTable: Bool) -> Bool {
        guard let winner = sites.usedSite(forKeyOf: view) else { return true }
        if winner != view.index && duplicatesBreakTable {
            findings.append(
                Finding(
                    .error, .duplicateKey, at: sites.location(of: view), subject: sites.key(of: view),
                    "duplicate entry (\(sites.location(at: winner)) has the same key): smtp(8) opens this texthash table as unavailable and defers every delivery through it",
                    fix: "remove one of the two lines"))
            return false
        }
        if winner != view.index {
            findings.append(
                Finding(
                    .note, .duplicateKey, at: sites.location(of: view), subject: sites.key(of: view),
                    "never used: \(sites.location(at: winner)) has the same key and wins"))
            return false
        }
        if !shadowed.isEmpty, let key = sites.lookupKey(of: view), shadowed.contains(key) {
            findings.append(
                Finding(
                    .note, .duplicateKey, at: sites.location(of: view), subject: sites.key(of: view),
                    "never used: an earlier table in the same map list has the same key"))
            return false
        }
        return true
    }
}

/// The "append servername" findings of one table: compact ones for a
/// source's entries (EntryFixFindings), Finding values for the rest, all
/// sharing one message string per level.
struct MissingServernameFindings {
    let table: LoadedTable
    let messages: [TLSSecurityLevel: String]
    let fix: String
    /// The table's number in EntryFixFindings, once it has one.
    var compactTable: Int?

    init(table: LoadedTable, options: FixOptions) {
        self.table = table
        messages = Dictionary(
            uniqueKeysWithValues: TLSSecurityLevel.allCases.map {
                ($0, "\($0.rawValue) without servername (Postfix sends no SNI)")
            })
        fix = "append servername=\(options.servername)"
    }

    mutating func add(_ view: PolicySites.View, level: TLSSecurityLevel, to state: inout InspectionState) {
        let sites = table.sites
        if let key = sites.keyInSource(of: view) {
            let number =
                compactTable
                ?? state.entryFixes.addTable(
                    EntryFixFindings.Table(
                        display: sites.sourceDisplay!, text: table.text, messages: messages, fix: fix))
            compactTable = number
            if state.entryFixes.add(
                table: number, keyRange: key.range, line: key.line, lineStart: key.lineStart, level: level, position: state.findings.count)
            {
                return
            }
        }
        state.findings.append(
            Finding(
                .fixable, .missingServername, at: sites.location(of: view), subject: sites.key(of: view), level: level,
                messages[level]!, fix: fix))
    }
}
