// Inspection.swift: what inspecting a configuration found (findings, by
// file and line) and what it wants changed (intents, for the planner).

import PostconfModel

public struct Inspection: Sendable {
    /// The findings, except those of source entries that need servername.
    var otherFindings: [Finding] = []
    /// Those of source entries that need servername, compact (they can be
    /// most of a large table).
    var entryFixes = EntryFixFindings()
    var intents: [EditIntent] = []
    /// Every file of the configuration apply may write (main.cf, master.cf,
    /// each table's source and index), on this machine: beside them a
    /// killed apply's temporary files are looked for.
    public var writableFiles: [String] = []

    /// Everything found, by file and line (FindingOrder).
    public var findings: [Finding] { findings { _ in true } }

    /// The findings of the severities `include` accepts, by file and line;
    /// the entries' fixable ones are only made when `include` takes fixable.
    public func findings(_ include: (Finding.Severity) -> Bool) -> [Finding] {
        FindingOrder.byFileAndLine(entryFixes.merged(into: otherFindings, include))
    }

    /// The worst severity found (note when nothing was).
    public var worstSeverity: Finding.Severity {
        max(otherFindings.map(\.severity).max() ?? .note, entryFixes.isEmpty ? .note : .fixable)
    }
}
