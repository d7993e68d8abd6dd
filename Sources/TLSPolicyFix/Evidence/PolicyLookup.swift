// PolicyLookup.swift: which entry of smtp_tls_policy_maps smtp(8) selects
// for a next hop, from the tables as loaded (src/smtp/smtp_tls_policy.c):
// each candidate key (PolicyKeys) is searched in every table of the list,
// in order, before the next candidate is tried; within a table the entry
// postmap keeps for a repeated key wins. No entry: main.cf's level governs.
// Only the main.cf map list is followed (a master.cf service's own
// smtp_tls_policy_maps is not).

import PostconfModel

struct PolicyLookup {
    /// What governs the TLS level of a next hop.
    enum Selected: Equatable {
        /// A table entry, where it is written.
        case entry(SourceLocation)
        /// No entry: main.cf's smtp_tls_security_level.
        case global
        /// A table the tool cannot search (patterns, a database, a missing
        /// file) comes first; its answer is unknown.
        case unknown
    }

    private enum Table {
        /// The wanted keys this table has, with where each entry is.
        case keys([[UInt8]: SourceLocation])
        case unsearchable
    }

    private let tables: [Table]

    /// Loads main.cf's smtp_tls_policy_maps, remembering only the entries
    /// of `wanted` keys (a table can have a million entries; a queue names a
    /// few destinations).
    init(configuration: Configuration, options: FixOptions, wanted: Set<[UInt8]>) {
        var tables: [Table] = []
        for element in MapReference.splitList(configuration.value("smtp_tls_policy_maps")) {
            guard let reference = MapReference(element),
                case .loaded(let table)? = try? TableLoader.load(
                    reference, listedAt: configuration.mainCfLocation("smtp_tls_policy_maps"), configuration: configuration,
                    options: options)
            else {
                tables.append(.unsearchable)
                continue
            }
            var found: [[UInt8]: SourceLocation] = [:]
            var patterns = false
            for index in table.sites.indices {
                let site = table.sites.view(index)
                guard let key = table.sites.lookupKey(of: site) else {
                    patterns = true
                    continue
                }
                if wanted.contains(key), table.sites.usedSite(forKeyOf: site) == index {
                    found[key] = table.sites.location(of: site)
                }
            }
            tables.append(patterns ? .unsearchable : .keys(found))
        }
        self.tables = tables
    }

    /// What smtp(8) selects for these candidate keys (PolicyKeys.candidates).
    func select(_ candidates: [[UInt8]]) -> Selected {
        for key in candidates {
            for table in tables {
                switch table {
                case .unsearchable: return .unknown
                case .keys(let found): if let location = found[key] { return .entry(location) }
                }
            }
        }
        return .global
    }
}
