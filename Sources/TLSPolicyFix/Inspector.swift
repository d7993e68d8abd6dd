// Inspector.swift: the rule. Finds every place where a verifying TLS level
// (verify, secure) is used without SNI, and plans the smallest edits that
// add it, plus the index rebuilds that make Postfix see them.
//
// Where a level can come from, and the fix for each:
// - main.cf <role>_tls_security_level (or the obsolete <role>_enforce_tls
//   with <role>_tls_enforce_peername): <role>_tls_servername in main.cf;
// - a master.cf smtp/lmtp service's "-o <role>_tls_security_level=...":
//   "-o <role>_tls_servername=..." on that service;
// - entries of the tables in <role>_tls_policy_maps (from main.cf or a
//   service's override): " servername=..." on the entry;
// - <role>_tls_per_site MUST entries (used only while the policy maps are
//   empty): they cannot carry attributes, so only a global servername helps.
// The roles are smtp and lmtp; lmtp(8) reads only lmtp_* parameters.
// An entry needs no edit when every client that reads it already has a
// servername from main.cf or its service, or when it can never be selected
// (a later duplicate key, or a key an earlier map in the list also has).

import HashMap
import PostconfModel

/// Choices that change what a fix writes.
public struct FixOptions: Sendable {
    /// The servername keyword to add: "hostname" (the MX host name) or "nexthop".
    public var servername: String = "hostname"
    /// The Postfix version, when known; it decides which policy syntax is valid.
    public var postfixVersion: PostfixVersion?
    /// Also add servername to fingerprint entries.
    public var includeFingerprint = false
    /// Set <role>_tls_servername in main.cf for per-site MUST entries.
    public var globalServernameForPerSite = false
    /// Where to report the steps on large tables (nil: nowhere).
    public var progress: ProgressReporter?

    public init(servername: String = "hostname", postfixVersion: PostfixVersion? = nil,
                includeFingerprint: Bool = false, globalServernameForPerSite: Bool = false) {
        self.servername = servername
        self.postfixVersion = postfixVersion
        self.includeFingerprint = includeFingerprint
        self.globalServernameForPerSite = globalServernameForPerSite
    }
}

/// What inspecting a configuration found and what would fix it.
public struct Inspection: Sendable {
    /// The findings, except those of source entries that need servername.
    var otherFindings: [Finding] = []
    /// Those of source entries that need servername, compact (they can be
    /// most of a large table).
    var entryFixes = EntryFixFindings()
    public var plan = FixPlan()

    /// Everything found, in the order found.
    public var findings: [Finding] { findings { _ in true } }

    /// The findings of the severities `include` accepts, in the order found;
    /// the entries' fixable ones are only made when `include` takes fixable.
    public func findings(_ include: (Finding.Severity) -> Bool) -> [Finding] {
        entryFixes.merged(into: otherFindings, include)
    }

    /// check/diff exit status: 2 on errors, 1 while anything needs fixing
    /// (by the tool or by hand), 0 when nothing does.
    public var exitStatus: Int32 {
        let worst = max(otherFindings.map(\.severity).max() ?? .note, entryFixes.isEmpty ? .note : .fixable)
        switch worst {
        case .error: return 2
        case .fixable, .manual: return 1
        case .note: return plan.isEmpty ? 0 : 1
        }
    }
}

/// One reader of TLS policy: main.cf's settings for a role, or a master.cf
/// service with its overrides.
struct PolicyClient {
    var role: String
    /// "main.cf" or "master.cf service relay/unix", for messages.
    var label: String
    var hasServername: Bool
    /// The policy map list in force, and where it is set.
    var maps: [UInt8]
    var mapsLocation: SourceLocation
}

public enum Inspector {
    /// The client roles whose TLS policy Postfix reads.
    static let roles = ["smtp", "lmtp"]

    public static func inspect(_ configuration: Configuration, options: FixOptions) throws(ConfigurationError) -> Inspection {
        var state = InspectionState(configuration: configuration, options: options)
        try state.loadMasterCf()
        state.checkParametersPostfixRejects()
        state.checkInterruptedApply()
        for role in roles { state.inspectGlobalLevel(role: role) }
        for role in roles { state.inspectPerSite(role: role) }
        for role in roles { state.inspectServices(role: role) }
        try state.inspectTables()
        return state.finish()
    }
}

/// The work of one inspection: findings and edits accumulate here.
struct InspectionState {
    let configuration: Configuration
    let options: FixOptions
    var masterCf: MasterCf?
    var findings: [Finding] = []
    var entryFixes = EntryFixFindings()
    /// Edits per file path, and what each file is.
    var edits: [String: ByteEdits] = [:]
    var texts: [String: (display: String, text: ConfigText)] = [:]
    var rebuilds: [IndexRebuild] = []
    var reloadNeeded = false
    var addsServername = false
    /// Whether main.cf (after the planned edits) gives each role a servername.
    var roleHasServername: [String: Bool] = [:]
    var clients: [PolicyClient] = []

    init(configuration: Configuration, options: FixOptions) {
        self.configuration = configuration
        self.options = options
        for role in Inspector.roles {
            roleHasServername[role] = !configuration.value("\(role)_tls_servername").isEmpty
        }
    }

    var servername: [UInt8] { Array(options.servername.utf8) }

    func mainCfLocation(_ parameter: String) -> SourceLocation {
        SourceLocation(path: configuration.displayPath(configuration.mainCf.path),
                       line: configuration.mainCf.definition(of: parameter)?.lineNumber)
    }

    mutating func addEdit(_ edit: ByteEdit, path: String, text: ConfigText) {
        edits[path, default: ByteEdits()].append(edit)
        texts[path] = (configuration.displayPath(path), text)
    }

    mutating func loadMasterCf() throws(ConfigurationError) {
        let path = joinPath(configuration.directory, "master.cf")
        guard pathExists(path) else { return }
        masterCf = try parseFile(path) { bytes throws(ConfigFileError) in try MasterCf(path: path, bytes: bytes) }
    }

    /// The level a parameter set gives a role: <role>_tls_security_level, or
    /// when that is empty the obsolete <role>_enforce_tls.
    static func level(role: String, value: (String) -> [UInt8]) -> (level: TLSSecurityLevel, parameter: String)? {
        let levelParameter = "\(role)_tls_security_level"
        let levelValue = value(levelParameter)
        if !levelValue.isEmpty {
            return TLSSecurityLevel(token: levelValue).map { ($0, levelParameter) }
        }
        if value("\(role)_enforce_tls").equalsIgnoringASCIICase("yes") {
            let peername = value("\(role)_tls_enforce_peername").equalsIgnoringASCIICase("yes")
            return (peername ? .verify : .encrypt, "\(role)_enforce_tls")
        }
        return nil
    }

    /// Values that make Postfix's SMTP/LMTP client exit at start-up (a
    /// macro that does not expand, a level that is not one): errors, since
    /// no fix of ours helps while they stand.
    mutating func checkParametersPostfixRejects() {
        for role in Inspector.roles {
            for suffix in ["_tls_security_level", "_tls_servername", "_tls_policy_maps", "_tls_per_site", "_enforce_tls", "_tls_enforce_peername"] {
                let name = role + suffix
                if let error = configuration.parameters.expansion(ofParameter: name)?.error {
                    findings.append(Finding(.error, .invalidParameter, at: mainCfLocation(name), subject: name,
                                            "\(error); Postfix stops with \"macro processing error\""))
                }
            }
            let level = configuration.value("\(role)_tls_security_level")
            if !level.isEmpty && TLSSecurityLevel(token: level) == nil {
                findings.append(Finding(.error, .invalidParameter, at: mainCfLocation("\(role)_tls_security_level"),
                                        subject: "\(role)_tls_security_level",
                                        "invalid TLS security level \"\(level.printable)\"; \(role)(8) stops with a fatal error"))
            }
        }
    }

    /// A journal left by an apply that was killed after its commit point:
    /// some of its files may not be in place yet; the next apply finishes it.
    mutating func checkInterruptedApply() {
        let journal = joinPath(configuration.directory, Fixer.journalName)
        guard pathExists(journal) else { return }
        findings.append(Finding(.fixable, .interruptedApply, at: SourceLocation(path: configuration.displayPath(journal)),
                                "an earlier apply was interrupted while it renamed its files into place",
                                fix: "run apply: it completes the interrupted one first"))
    }

    /// main.cf: a verifying level for every destination and no servername.
    mutating func inspectGlobalLevel(role: String) {
        let parameter = "\(role)_tls_servername"
        guard roleHasServername[role] == false,
            let level = InspectionState.level(role: role, value: configuration.value), level.level.verifiesPeerName
        else { return }
        setGlobalServername(role: role, at: mainCfLocation(level.parameter), subject: level.parameter, level: level.level,
                            message: "\(role) TLS level \(level.level.rawValue) without \(parameter) (Postfix sends no SNI)")
    }

    mutating func setGlobalServername(role: String, at location: SourceLocation, subject: String, level: TLSSecurityLevel?, message: String) {
        let parameter = "\(role)_tls_servername"
        guard let edit = configuration.mainCf.edit(setting: parameter, to: servername) else {
            // Set, but to something that expands to nothing ("$unset").
            findings.append(Finding(.manual, .missingServername, at: mainCfLocation(parameter), subject: parameter, level: level,
                                    "\(parameter) is set but expands to nothing", fix: "set \(parameter) = \(options.servername) by hand"))
            return
        }
        findings.append(Finding(.fixable, .missingServername, at: location, subject: subject, level: level, message,
                                fix: "set \(parameter) = \(options.servername) in main.cf"))
        addEdit(edit, path: configuration.mainCf.path, text: configuration.mainCf.text)
        roleHasServername[role] = true
        reloadNeeded = true
        addsServername = true
    }

    /// <role>_tls_per_site: consulted only while the policy maps are empty;
    /// MUST means verify, and the table has no room for attributes.
    mutating func inspectPerSite(role: String) {
        let parameter = "\(role)_tls_per_site"
        let list = configuration.value(parameter)
        guard !list.isEmpty, roleHasServername[role] == false else { return }
        if !configuration.value("\(role)_tls_policy_maps").isEmpty {
            findings.append(Finding(.note, .perSiteIgnored, at: mainCfLocation(parameter), subject: parameter,
                                    "ignored: Postfix does not read \(parameter) while \(role)_tls_policy_maps is set"))
            return
        }
        var mustEntries: [PolicySite] = []
        for element in MapReference.splitList(list) {
            guard let reference = MapReference(element) else { continue }
            let load: TableLoad
            do {
                load = try PolicyTables.load(reference, listedAt: mainCfLocation(parameter), configuration: configuration, masterCf: masterCf, options: options)
            } catch {
                findings.append(Finding(.error, .brokenEntry, at: mainCfLocation(parameter), subject: reference.description, error.description))
                continue
            }
            guard case .loaded(let table) = load else { continue }
            mustEntries += table.sites.filter { $0.value.equalsIgnoringASCIICase("MUST") }
        }
        guard !mustEntries.isEmpty else { return }
        if options.globalServernameForPerSite {
            setGlobalServername(role: role, at: mainCfLocation(parameter), subject: parameter, level: .verify,
                                message: "\(mustEntries.count) MUST entr\(mustEntries.count == 1 ? "y" : "ies") (= verify) in \(parameter) without SNI")
            return
        }
        for site in mustEntries {
            findings.append(Finding(
                .manual, .perSiteMust, at: site.location, subject: site.key, level: .verify,
                "MUST (= verify) without SNI; \(parameter) entries cannot carry servername",
                fix: "set \(role)_tls_servername = \(options.servername) in main.cf (--global-servername), or move the entry to \(role)_tls_policy_maps"))
        }
    }

    /// master.cf: smtp/lmtp services with their own level, servername or maps.
    mutating func inspectServices(role: String) {
        let mainMaps = configuration.value("\(role)_tls_policy_maps")
        let mainClient = PolicyClient(role: role, label: "main.cf", hasServername: roleHasServername[role] ?? false,
                                      maps: mainMaps, mapsLocation: mainCfLocation("\(role)_tls_policy_maps"))
        guard let masterCf else {
            clients.append(mainClient)
            return
        }
        let services = masterCf.services.filter { $0.command == role }
        if services.isEmpty { clients.append(mainClient) }
        for service in services {
            var values = configuration.mainCf.values
            for override in service.overrides { values[override.name] = override.value }
            let expander = ParameterExpander(explicit: values, configDirectory: Array(configuration.postfixConfigDirectory.utf8))
            let value: (String) -> [UInt8] = { expander.expandedValue($0) ?? [] }
            let location = SourceLocation(path: configuration.displayPath(masterCf.path), line: service.lineNumber)
            let servernameParameter = "\(role)_tls_servername"
            var hasServername: Bool
            if let own = service.override(servernameParameter) {
                hasServername = !expander.expand(own.value).isEmpty
            } else {
                hasServername = roleHasServername[role] ?? false
            }
            let ownLevel = service.override("\(role)_tls_security_level") != nil || service.override("\(role)_enforce_tls") != nil
            let levelValue = value("\(role)_tls_security_level")
            if ownLevel, !levelValue.isEmpty, TLSSecurityLevel(token: levelValue) == nil {
                findings.append(Finding(.error, .invalidParameter, at: location, subject: service.id,
                                        "invalid TLS security level \"\(levelValue.printable)\"; the service stops with a fatal error"))
                continue
            }
            if ownLevel, !hasServername, let level = InspectionState.level(role: role, value: value), level.level.verifiesPeerName {
                if service.override(servernameParameter) != nil {
                    findings.append(Finding(.manual, .missingServername, at: location, subject: service.id, level: level.level,
                                            "\(level.level.rawValue) with an empty -o \(servernameParameter)",
                                            fix: "set -o \(servernameParameter)=\(options.servername) on this service by hand"))
                } else {
                    findings.append(Finding(.fixable, .missingServername, at: location, subject: service.id, level: level.level,
                                            "service sets \(role) TLS level \(level.level.rawValue) without \(servernameParameter) (Postfix sends no SNI)",
                                            fix: "add -o \(servernameParameter)=\(options.servername) to the service"))
                    addEdit(masterCf.edit(adding: servernameParameter, value: servername, to: service), path: masterCf.path, text: masterCf.text)
                    reloadNeeded = true
                    addsServername = true
                    hasServername = true
                }
            }
            let mapsParameter = "\(role)_tls_policy_maps"
            if service.override(mapsParameter) != nil {
                clients.append(PolicyClient(role: role, label: "master.cf service \(service.id)", hasServername: hasServername,
                                            maps: value(mapsParameter), mapsLocation: location))
            } else {
                clients.append(PolicyClient(role: role, label: "master.cf service \(service.id)", hasServername: hasServername,
                                            maps: mainMaps, mapsLocation: mainClient.mapsLocation))
            }
        }
    }

    /// Every table of every client's map list, each inspected once.
    mutating func inspectTables() throws(ConfigurationError) {
        // Which tables, in which lists, with which clients.
        var references: [MapReference] = []
        var listedAt: [MapReference: SourceLocation] = [:]
        var needsSNI: [MapReference: Bool] = [:]
        var lists: [[MapReference]] = []
        for client in clients {
            var list: [MapReference] = []
            for element in MapReference.splitList(client.maps) {
                guard let reference = MapReference(element) else {
                    findings.append(Finding(.error, .unsupportedTable, at: client.mapsLocation, subject: "\(client.role)_tls_policy_maps",
                                            "\"\(element.printable)\" is not a type:name table"))
                    continue
                }
                let key = MapReference(type: reference.type, name: reference.name, viaProxy: false)
                if listedAt[key] == nil {
                    references.append(key)
                    listedAt[key] = client.mapsLocation
                }
                needsSNI[key] = (needsSNI[key] ?? false) || !client.hasServername
                list.append(key)
            }
            if !lists.contains(list) { lists.append(list) }
        }

        var loaded: [MapReference: LoadedTable] = [:]
        for reference in references {
            switch try PolicyTables.load(reference, listedAt: listedAt[reference]!, configuration: configuration, masterCf: masterCf, options: options) {
            case .loaded(let table):
                options.progress?.tableRead(configuration.displayPath(table.path), entries: table.sites.count)
                loaded[reference] = table
            case .notEditable(let reason):
                findings.append(Finding(.manual, .unsupportedTable, at: listedAt[reference]!, subject: reference.description, reason,
                                        fix: "add servername=\(options.servername) to its verify and secure entries by hand"))
            case .problem(let finding):
                findings.append(finding)
            }
        }

        // Keys an earlier table of the same list also has are never
        // selected from the later one (every table is searched for the exact
        // key before any parent domain is tried), in any list.
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

        for reference in references {
            guard let table = loaded[reference] else { continue }
            try inspect(table, needsSNI: needsSNI[reference] ?? false, shadowed: shadowedEverywhere[reference] ?? [])
        }
    }

    mutating func inspect(_ table: LoadedTable, needsSNI: Bool, shadowed: Set<[UInt8]>) throws(ConfigurationError) {
        if let source = table.source {
            for skipped in source.skippedLines {
                findings.append(Finding(.note, .skippedLine, at: SourceLocation(path: source.path, line: skipped.lineNumber), skipped.message))
            }
        }
        // Sites are looked at through views (see PolicySites): a site is
        // only made into strings when there is something to say about it.
        let sites = table.sites
        let version = options.postfixVersion ?? PostfixVersion(3, 10)
        let braces = version >= PostfixVersion(3, 10)
        let attribute = Array("servername=\(options.servername)".utf8)
        let spacedAttribute = [0x20] + attribute
        var verdicts = PolicyVerdicts(braces: braces, postfixVersion: version)
        // One string per level, shared by every finding (not one apiece).
        let missingMessages = Dictionary(uniqueKeysWithValues: TLSSecurityLevel.allCases.map {
            ($0, "\($0.rawValue) without servername (Postfix sends no SNI)")
        })
        let appendFix = "append servername=\(options.servername)"
        var entryFixTable: Int?
        // Room for a finding and an edit per site up front: growing by
        // doubling would copy (and touch) the large arrays of a large table
        // over and over; memory reserved and never used costs nothing.
        var tableEdits = ByteEdits()
        tableEdits.reserveCapacity(sites.count)
        entryFixes.reserveCapacity(sites.count)
        var changed = false
        for index in sites.indices {
            let view = sites.view(index)
            // The entry smtp(8) uses for each key.
            if let winner = sites.usedSite(forKeyOf: view) {
                if winner != index {
                    findings.append(Finding(.note, .duplicateKey, at: sites.location(of: view), subject: sites.key(of: view),
                                            "never used: \(sites.location(at: winner)) has the same key and wins"))
                    continue
                }
                if !shadowed.isEmpty, let key = sites.lookupKey(of: view), shadowed.contains(key) {
                    findings.append(Finding(.note, .duplicateKey, at: sites.location(of: view), subject: sites.key(of: view),
                                            "never used: an earlier table in the same map list has the same key"))
                    continue
                }
            }
            let policy = verdicts.verdict(for: view.value)
            if !policy.problems.isEmpty {
                findings.append(Finding(.error, .brokenEntry, at: sites.location(of: view), subject: sites.key(of: view), level: policy.level,
                                        policy.problems.joined(separator: "; ") + "; smtp(8) defers mail for this destination",
                                        fix: "correct the entry by hand"))
                continue
            }
            guard let level = policy.level, needsSNI, !policy.hasServername else { continue }
            if level == .fingerprint && !options.includeFingerprint {
                findings.append(Finding(.note, .fingerprintAtRisk, at: sites.location(of: view), subject: sites.key(of: view), level: level,
                                        "fingerprint without servername: a server that picks its certificate by SNI may present one that does not match the pin",
                                        fix: "append servername=\(options.servername) (--include-fingerprint)"))
                continue
            }
            guard level.verifiesPeerName || level == .fingerprint else { continue }
            var compact = false
            if let key = sites.keyInSource(of: view) {
                let tableNumber = entryFixTable ?? entryFixes.addTable(EntryFixFindings.Table(
                    display: sites.sourceDisplay!, text: table.text, messages: missingMessages, fix: appendFix))
                entryFixTable = tableNumber
                compact = entryFixes.add(table: tableNumber, keyRange: key.range, line: key.line, lineStart: key.lineStart, level: level, position: findings.count)
            }
            if !compact {
                findings.append(Finding(.fixable, .missingServername, at: sites.location(of: view), subject: sites.key(of: view), level: level,
                                        missingMessages[level]!, fix: appendFix))
            }
            tableEdits.append(sites.edit(of: view, adding: attribute, spacedAttribute: spacedAttribute))
            changed = true
        }
        if changed {
            // The table's edits as they are: appending them to an empty
            // list would copy them.
            if edits[table.path] == nil {
                edits[table.path] = tableEdits
            } else {
                edits[table.path]!.append(contentsOf: tableEdits)
            }
            texts[table.path] = (configuration.displayPath(table.path), table.text)
            addsServername = true
            if table.delivery == .readAtStart { reloadNeeded = true }
        }

        // The index, for tables that have one.
        guard let indexPath = table.indexPath, let source = table.source else { return }
        var reason: IndexRebuild.Reason? = changed ? .sourceChanged : nil
        if reason == nil, let state = try PolicyTables.indexState(table, configuration: configuration) {
            reason = state
            findings.append(Finding(
                .fixable, state == .missing ? .missingIndex : .staleIndex,
                at: SourceLocation(path: configuration.displayPath(indexPath)), subject: table.reference.description,
                state == .missing ? "the index is missing; Postfix cannot read this table" : "the index differs from its source; Postfix uses the index",
                fix: "rebuild the index from the source"))
        }
        if let reason {
            rebuilds.append(IndexRebuild(
                reference: table.reference, sourcePath: table.path, indexPath: indexPath,
                displayIndexPath: configuration.displayPath(indexPath), delivery: table.delivery, reason: reason,
                source: source, configDirectory: configuration.directory))
        }
    }

    func finish() -> Inspection {
        var inspection = Inspection()
        inspection.otherFindings = findings
        inspection.entryFixes = entryFixes
        // Files in a stable order: main.cf, master.cf, then tables as found.
        let order = [configuration.mainCf.path, masterCf?.path].compactMap { $0 }
        let paths = edits.keys.sorted { a, b in
            let (ia, ib) = (order.firstIndex(of: a) ?? Int.max, order.firstIndex(of: b) ?? Int.max)
            return ia != ib ? ia < ib : a < b
        }
        inspection.plan.changes = paths.map { path in
            FileChange(path: path, displayPath: texts[path]!.display, original: texts[path]!.text, edits: edits[path]!)
        }
        inspection.plan.rebuilds = rebuilds
        inspection.plan.reloadNeeded = reloadNeeded
        inspection.plan.addsServername = addsServername
        return inspection
    }
}
