// Pipeline.swift: the stages of the tool, each in the folder of its name,
// and the two ways through them. docs/architecture.md draws the data flow.
//
//   Load     Configuration.load: main.cf, master.cf, parameter expansion;
//            tables through ConfigurationFiles (disk, or memory in tests).  Load/
//   Inspect  Inspector.inspect -> Inspection: findings, and EditIntents
//            saying what should change.                                       Inspect/
//   Plan     Planner.plan -> FixPlan: byte edits per file, index rebuilds,
//            reload, the Postfix version check.                               Plan/
//   Render   UnifiedDiff: a plan's changes as a streamed unified diff.        Render/
//   Apply    ApplyTransaction: lock, stage, commit through the journal,
//            with indexes built by Index/ (libdb, or postmap).              Apply/, Index/
//   Report   JSONReport, ApplyReport: what was found or done, for programs. Report/
//
// check and diff run Load, Inspect and Plan (preview); apply runs them again
// under its lock and carries the plan out. Probe/ is apart: it asks a
// server, through posttls-finger, whether it needs SNI.

import PostconfModel

/// Why a command stopped: the stage that failed, with its error.
public enum FixError: Error, Sendable, CustomStringConvertible {
    case load(LoadError)
    case plan(PlanError)
    case apply(ApplyError)

    public var description: String {
        switch self {
        case .load(let error): return error.description
        case .plan(let error): return error.description
        case .apply(let error): return error.description
        }
    }
}

/// What check and diff show: the configuration, what inspecting it found,
/// and what apply would do.
public struct Preview: Sendable {
    public let configuration: Configuration
    public let inspection: Inspection
    public let plan: FixPlan

    /// check/diff exit status: 2 on errors, 1 while anything needs fixing
    /// (by the tool or by hand), 0 when nothing does.
    public var exitStatus: Int32 {
        switch inspection.worstSeverity {
        case .error: return 2
        case .fixable, .manual: return 1
        case .note: return plan.isEmpty ? 0 : 1
        }
    }

    /// diff's exit status: 2 on errors, else 1 exactly when it prints a
    /// difference (a change or an index to rebuild), so that a gate on it
    /// can pass while something only a person can fix remains.
    public var diffExitStatus: Int32 {
        inspection.worstSeverity == .error ? 2 : (plan.isEmpty ? 0 : 1)
    }
}

public enum Pipeline {
    /// Load, inspect and plan, writing nothing; files are read from disk,
    /// inside the root, unless `files` says otherwise.
    public static func preview(
        _ location: ConfigurationLocation, options: FixOptions, files: (any ConfigurationFiles)? = nil
    ) throws(FixError) -> Preview {
        let configuration: Configuration
        do {
            configuration = try Configuration.load(location, files: files, defaults: options.parameterDefaults)
        } catch {
            throw .load(error)
        }
        return try preview(configuration, options: options, for: .preview)
    }

    /// Inspect and plan an already loaded configuration.
    public static func preview(_ configuration: Configuration, options: FixOptions, for purpose: Planner.Purpose) throws(FixError) -> Preview {
        let inspection: Inspection
        do {
            inspection = try Inspector.inspect(configuration, options: options)
        } catch {
            throw .load(error)
        }
        do {
            let plan = try Planner.plan(inspection, configuration: configuration, options: options, for: purpose)
            return Preview(configuration: configuration, inspection: inspection, plan: plan)
        } catch {
            throw .plan(error)
        }
    }

    /// Load, inspect and plan under apply's lock, then carry the plan out.
    public static func apply(
        _ location: ConfigurationLocation, options: FixOptions, writeOptions: WriteOptions = WriteOptions()
    ) throws(FixError) -> ApplyReport {
        try ApplyTransaction.run(location, options: options, writeOptions: writeOptions)
    }
}
