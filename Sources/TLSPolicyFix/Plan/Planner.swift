// Planner.swift: turns the inspection's intents into a FixPlan: the byte
// edits of each file (in a stable file order: main.cf, master.cf, then the
// tables by path), the index rebuilds, whether a reload is needed, and the
// one check of the Postfix version that every command shares.

import PostconfModel

public enum Planner {
    /// What the plan is for: check and diff show it (the version is checked
    /// only when known); apply carries it out (errors in the configuration
    /// and an unknown version refuse it).
    public enum Purpose: Sendable {
        case preview
        case apply
    }

    public static func plan(
        _ inspection: Inspection, configuration: Configuration, options: FixOptions, for purpose: Purpose
    ) throws(PlanError) -> FixPlan {
        if purpose == .apply {
            let errors = inspection.findings { $0 == .error }
            if !errors.isEmpty { throw .refusedBecauseOfErrors(errors) }
        }
        var builder = PlanBuilder(configuration: configuration, servername: Array(options.servername.utf8))
        for intent in inspection.intents { builder.add(intent) }
        let plan = builder.finish()
        try checkVersion(plan, options.postfixVersion, mustBeKnown: purpose == .apply)
        return plan
    }

    /// servername exists from Postfix 3.4 on; apply also needs to know.
    static func checkVersion(_ plan: FixPlan, _ version: PostfixVersion?, mustBeKnown: Bool) throws(PlanError) {
        guard plan.addsServername else { return }
        guard let version else {
            if mustBeKnown { throw .postfixVersionUnknown(cause: nil) }
            return
        }
        if version < PostfixVersion.sniSupport { throw .postfixTooOld(version) }
    }
}

/// The plan as the intents build it up.
struct PlanBuilder {
    let configuration: Configuration
    let servername: [UInt8]
    /// Edits per file path, and what each file is.
    private var edits: [String: ByteEdits] = [:]
    private var texts: [String: (display: String, text: ConfigText)] = [:]
    /// The entries given servername, per table source path.
    private var appended: [String: EntrySet] = [:]
    /// The entries whose keyword is lower-cased, per table source path.
    private var lowercased: [String: [Int: Range<Int>]] = [:]
    /// The indexes to rebuild, made into IndexRebuilds when the plan is
    /// finished: two tables can share one source (hash:t beside lmdb:t),
    /// and each index must be built from the source with every table's
    /// edits in it.
    private var rebuilds: [(table: LoadedTable, reason: IndexRebuild.Reason)] = []
    private var plan = FixPlan()

    init(configuration: Configuration, servername: [UInt8]) {
        self.configuration = configuration
        self.servername = servername
    }

    mutating func add(_ intent: EditIntent) {
        switch intent {
        case .setMainCfParameter(let parameter):
            let mainCf = configuration.mainCf
            add(ByteEdits([mainCf.edit(setting: parameter, to: servername)!]), to: mainCf.path, text: mainCf.text)
            plan.reloadNeeded = true
            plan.addsServername = true
        case .addServiceOverride(let service, let parameter):
            let masterCf = configuration.masterCf!
            add(ByteEdits([masterCf.edit(adding: parameter, value: servername, to: service)]), to: masterCf.path, text: masterCf.text)
            plan.reloadNeeded = true
            plan.addsServername = true
        case .lowercaseMainCfKeyword(let parameter, let keyword):
            let mainCf = configuration.mainCf
            add(ByteEdits([mainCf.edit(replacingValueOf: parameter, with: Array(keyword.utf8))!]), to: mainCf.path, text: mainCf.text)
            plan.reloadNeeded = true
        case .lowercaseServiceKeyword(let service, let parameter, let keyword):
            let masterCf = configuration.masterCf!
            let edit = masterCf.edit(replacingValueOf: service.override(parameter)!, with: Array(keyword.utf8))!
            add(ByteEdits([edit]), to: masterCf.path, text: masterCf.text)
            plan.reloadNeeded = true
        case .appendServername(let table, var sites):
            // The same postmap source through another table: its entries
            // once. (Inline and static tables share main.cf's path, not
            // entries.)
            if table.source != nil, let earlier = appended[table.path] {
                var new = EntrySet(count: table.sites.count)
                sites.forEach { if !earlier.contains($0) { new.insert($0) } }
                var union = earlier
                sites.forEach { union.insert($0) }
                appended[table.path] = union
                sites = new
            } else {
                appended[table.path] = sites
            }
            add(tableEdits(table, sites), to: table.path, text: table.text)
            plan.addsServername = true
            if table.delivery == .readAtStart { plan.reloadNeeded = true }
        case .lowercaseTableKeywords(let table, var entries):
            let earlier = table.source == nil ? [:] : lowercased[table.path] ?? [:]
            entries = entries.filter { earlier[$0.key] == nil }
            lowercased[table.path] = earlier.merging(entries) { first, _ in first }
            add(lowercaseEdits(table, entries), to: table.path, text: table.text)
            if table.delivery == .readAtStart { plan.reloadNeeded = true }
        case .rebuildIndex(let table, let reason):
            rebuilds.append((table, reason))
        }
    }

    /// The edits that append servername to `sites`. They all share one
    /// inserted array (" servername=..."), not one apiece.
    private var spacedAttribute: [UInt8] { [0x20] + Array("servername=".utf8) + servername }

    private func tableEdits(_ table: LoadedTable, _ sites: EntrySet) -> ByteEdits {
        let attribute = Array("servername=".utf8) + servername
        let spaced = spacedAttribute
        var edits = ByteEdits()
        edits.reserveCapacity(sites.count)
        sites.forEach { index in
            edits.append(table.sites.edit(of: table.sites.view(index), adding: attribute, spacedAttribute: spaced))
        }
        return edits
    }

    /// The edits that lower-case the keywords of `entries`, which are on
    /// one line each: their values are runs of the file's bytes.
    private func lowercaseEdits(_ table: LoadedTable, _ entries: [Int: Range<Int>]) -> ByteEdits {
        let source = table.source!
        return ByteEdits(
            entries.keys.sorted().map { entry in
                let value = source.record(at: entry).value
                let range = (value.startIndex + entries[entry]!.lowerBound)..<(value.startIndex + entries[entry]!.upperBound)
                return ByteEdit(range: range, replacement: source.text.bytes[range].asciiLowercased())
            })
    }

    private mutating func add(_ new: ByteEdits, to path: String, text: ConfigText) {
        // A file's first edits are kept as they are: appending them to an
        // empty list would copy them.
        if edits[path] == nil {
            edits[path] = new
        } else {
            edits[path]!.append(contentsOf: new)
        }
        texts[path] = (configuration.displayPath(path), text)
    }

    private func rebuild(_ table: LoadedTable, reason: IndexRebuild.Reason) -> IndexRebuild {
        let indexPath = table.indexPath!
        return IndexRebuild(
            reference: table.reference, sourcePath: table.path, indexPath: indexPath,
            displayIndexPath: configuration.displayPath(indexPath), delivery: table.delivery, reason: reason,
            source: table.source!, appended: appended[table.path].map { ($0, spacedAttribute) },
            lowercased: lowercased[table.path] ?? [:], configDirectory: configuration.directory)
    }

    func finish() -> FixPlan {
        var plan = self.plan
        // Every index of an edited source has its own intent (the inspection's
        // rebuildIndexesOfEditedSources); each is built from the final source.
        plan.rebuilds = rebuilds.map { rebuild($0.table, reason: $0.reason) }
        // Files in a stable order: main.cf, master.cf, then tables by path.
        let order = [configuration.mainCf.path, configuration.masterCf?.path].compactMap { $0 }
        let paths = edits.keys.sorted { a, b in
            let (ia, ib) = (order.firstIndex(of: a) ?? Int.max, order.firstIndex(of: b) ?? Int.max)
            return ia != ib ? ia < ib : a < b
        }
        plan.changes = paths.map { path in
            FileChange(path: path, displayPath: texts[path]!.display, original: texts[path]!.text, edits: edits[path]!)
        }
        return plan
    }
}
