// EditIntent.swift: what the inspection wants changed, in the rule's terms
// (a parameter, a service, entries of a table, an index). The planner alone
// turns intents into byte edits and rebuilds.

import PostconfModel

enum EditIntent: Sendable {
    /// Give main.cf's `parameter` (unset or empty in force) the servername.
    case setMainCfParameter(String)
    /// Add "-o parameter=servername" to a master.cf service.
    case addServiceOverride(MasterCfService, parameter: String)
    /// Write main.cf's `parameter` (a servername keyword in the wrong case)
    /// as `keyword`.
    case lowercaseMainCfKeyword(String, keyword: String)
    /// Write a service's "-o parameter=..." (a keyword in the wrong case) as `keyword`.
    case lowercaseServiceKeyword(MasterCfService, parameter: String, keyword: String)
    /// Write the servername keyword of these entries of a table's source
    /// (each on one line) in lower case: entry -> the keyword's range in its value.
    case lowercaseTableKeywords(LoadedTable, entries: [Int: Range<Int>])
    /// Append servername to these sites of a table.
    case appendServername(LoadedTable, sites: EntrySet)
    /// Rebuild a table's index.
    case rebuildIndex(LoadedTable, reason: IndexRebuild.Reason)
}
