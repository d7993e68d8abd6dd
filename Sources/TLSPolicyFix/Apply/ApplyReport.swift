// ApplyReport.swift: what apply did, file by file.

public struct ApplyReport: Sendable {
    public var inspection: Inspection
    public var plan: FixPlan
    /// Files replaced, as display paths.
    public var writtenFiles: [String] = []
    /// Indexes rebuilt, as display paths.
    public var rebuiltIndexes: [String] = []
    /// Backups made (--backup), as paths.
    public var backups: [String] = []
    /// Files an interrupted earlier apply had not yet replaced, replaced now.
    public var completedFromInterruptedApply: [String] = []
    /// Files an interrupted earlier apply would have replaced but that were
    /// edited since; left as they are (this run planned from them).
    public var abandonedFromInterruptedApply: [String] = []
    /// What postmap warned while building indexes, as notes.
    public var warnings: [Finding] = []
    /// Temporary files of killed earlier runs that were removed.
    public var removedTemporaryFiles: [String] = []
    /// Whether running Postfix daemons need `postfix reload` to see what
    /// was replaced: the plan's answer, or for an apply interrupted after
    /// its commit point, that of the files it did replace.
    public var reloadNeeded: Bool
    /// Whether every file of the plan was replaced.
    public var complete = true

    init(inspection: Inspection, plan: FixPlan) {
        self.inspection = inspection
        self.plan = plan
        reloadNeeded = plan.reloadNeeded
    }
}
