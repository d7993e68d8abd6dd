// JSONReport.swift: the machine-readable result of check, diff and apply
// (`--format json`), for configuration managers and CI. The schema is
// documented in docs/json-schema.md and versioned by `schemaVersion`: fields
// may be added within a version; a field is never removed, renamed or given
// another meaning without a new version.
//
// Every key is always present (null when it does not apply), so that a
// consumer can index without guarding. Keys are sorted, so the output of two
// runs compares byte for byte.

import FoundationEssentials
import Glibc
import PostconfModel

public struct JSONReport: Encodable, Sendable {
    public static let schemaVersion = 1

    /// "check", "diff" or "apply".
    public var command: String
    /// The configuration directory as read (absolute; inside `root` when set).
    public var configDirectory: String
    /// The --root directory, or nil.
    public var root: String?
    /// The Postfix version the fix was planned for, or nil when unknown.
    public var postfixVersion: String?
    /// The command's exit status (see the README's table).
    public var exitStatus: Int32
    /// check and diff: whether apply would change any file. apply: whether
    /// it changed any.
    public var changed: Bool
    /// Whether running Postfix daemons need `postfix reload` to see the result.
    public var reloadNeeded: Bool
    public var findings: [FindingRecord]
    /// Every file with findings and how many of each kind, by file as the
    /// findings are (all of them, also when `findings` keeps only some).
    public var findingsByFile: [FileCountsRecord]
    /// Files apply would change (check, diff) or changed (apply).
    public var changedFiles: [ChangedFile]
    /// Indexes apply would rebuild (check, diff) or rebuilt (apply).
    public var rebuiltIndexes: [RebuiltIndex]
    /// Why the command stopped, when it did (exit status 2); nil otherwise.
    public var error: String?
    /// The deferred mail waiting for the fixes; encoded only when the tool
    /// read a queue or a mail log (DeferredMailReport.swift).
    public var deferredMail: DeferredMailRecord?
    /// The postfix-tls-fix that wrote the report (ToolVersion.current).
    public let toolVersion = ToolVersion.current

    public struct FileCountsRecord: Encodable, Sendable {
        public var file: String
        public var fixable: Int
        public var errors: Int
        public var manual: Int
        public var notes: Int

        init(_ file: FileFindingCounts) {
            self.file = file.path
            (fixable, errors, manual, notes) = (file.counts.fixable, file.counts.errors, file.counts.manual, file.counts.notes)
        }
    }

    /// Keeps only the findings of severity `least` or worse (check
    /// --summary); findingsByFile still counts them all.
    public mutating func keepOnlyFindings(atLeast least: Finding.Severity) {
        findings.removeAll { (Finding.Severity(rawValue: $0.severity) ?? .error) < least }
    }

    public struct FindingRecord: Encodable, Sendable {
        /// As in the text output: relative to configDirectory when inside it.
        public var file: String
        public var line: Int?
        /// The table key or the parameter the finding is about.
        public var key: String?
        /// The TLS security level in force there.
        public var level: String?
        /// note, fixable, manual or error.
        public var severity: String
        /// A stable name, such as "missing-servername".
        public var rule: String
        public var message: String
        /// What fixes it: what apply does for "fixable", what a person must
        /// do otherwise; nil when there is nothing to do.
        public var action: String?
        /// The finding as the text output prints it.
        public var text: String

        public init(_ finding: Finding) {
            file = finding.location.path
            line = finding.location.line
            key = finding.subject
            level = finding.level?.rawValue
            severity = finding.severity.rawValue
            rule = finding.rule.rawValue
            message = finding.message
            action = finding.fix
            text = finding.line
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(file, forKey: .file)
            try container.encode(line, forKey: .line)
            try container.encode(key, forKey: .key)
            try container.encode(level, forKey: .level)
            try container.encode(severity, forKey: .severity)
            try container.encode(rule, forKey: .rule)
            try container.encode(message, forKey: .message)
            try container.encode(action, forKey: .action)
            try container.encode(text, forKey: .text)
        }

        enum CodingKeys: String, CodingKey {
            case file, line, key, level, severity, rule, message, action, text
        }
    }

    public struct ChangedFile: Encodable, Sendable {
        /// As in the diff headers: relative to configDirectory when inside it.
        public var path: String
        /// The unified diff (diff and apply; nil for check). Bytes that are
        /// not UTF-8 appear as U+FFFD; the text output has the exact bytes.
        public var diff: String?

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(path, forKey: .path)
            try container.encode(diff, forKey: .diff)
        }

        enum CodingKeys: String, CodingKey { case path, diff }
    }

    public struct RebuiltIndex: Encodable, Sendable {
        /// The index file, relative to configDirectory when inside it.
        public var path: String
        /// The table as main.cf names it, e.g. "hash:/etc/postfix/tls_policy".
        public var table: String
        /// "source changed", "index missing" or "index differs from source".
        public var reason: String
    }

    /// The report of check or diff: what apply would do.
    public init(
        command: String, location: ConfigurationLocation, postfixVersion: PostfixVersion?,
        preview: Preview, includeDiffs: Bool
    ) {
        self.init(
            command: command, location: location, postfixVersion: postfixVersion,
            exitStatus: command == "diff" ? preview.diffExitStatus : preview.exitStatus,
            changes: preview.plan, includeDiffs: includeDiffs, reloadNeeded: preview.plan.reloadNeeded,
            findings: preview.inspection.findings, error: nil)
    }

    /// The report of a successful apply: what it did.
    public init(applied report: ApplyReport, location: ConfigurationLocation, postfixVersion: PostfixVersion?) {
        self.init(
            command: "apply", location: location, postfixVersion: postfixVersion, exitStatus: 0,
            changes: report.plan, includeDiffs: true, reloadNeeded: report.plan.reloadNeeded,
            findings: report.inspection.findings + report.warnings, error: nil)
    }

    /// The report of an apply that stopped after its commit point (exit
    /// status 3): the files it did replace, and whether they need a reload.
    public init(interrupted done: ApplyReport, location: ConfigurationLocation, postfixVersion: PostfixVersion?, error: FixError) {
        var replaced = done.plan
        replaced.changes = replaced.changes.filter { done.writtenFiles.contains($0.displayPath) }
        replaced.rebuilds = replaced.rebuilds.filter { done.rebuiltIndexes.contains($0.displayIndexPath) }
        self.init(
            command: "apply", location: location, postfixVersion: postfixVersion, exitStatus: 3,
            changes: replaced, includeDiffs: true, reloadNeeded: done.reloadNeeded,
            findings: done.inspection.findings + done.warnings, error: error.description)
    }

    /// The report of a command that stopped with an error: nothing changed.
    public init(
        command: String, location: ConfigurationLocation, postfixVersion: PostfixVersion?, error: FixError
    ) {
        var findings: [Finding] = []
        if case .plan(.refusedBecauseOfErrors(let errors)) = error { findings = errors }
        self.init(
            command: command, location: location, postfixVersion: postfixVersion, exitStatus: 2,
            changes: FixPlan(), includeDiffs: false, reloadNeeded: false, findings: findings, error: error.description)
    }

    /// Every report: `changes` are the files and indexes it names (and
    /// `changed` says whether there are any).
    private init(
        command: String, location: ConfigurationLocation, postfixVersion: PostfixVersion?, exitStatus: Int32,
        changes: FixPlan, includeDiffs: Bool, reloadNeeded: Bool, findings: [Finding], error: String?
    ) {
        self.command = command
        configDirectory = location.directory
        root = location.root
        self.postfixVersion = postfixVersion?.description
        self.exitStatus = exitStatus
        changed = !changes.isEmpty
        self.reloadNeeded = reloadNeeded
        self.findings = findings.map(FindingRecord.init)
        findingsByFile = FileFindingCounts.of(findings).map(FileCountsRecord.init)
        changedFiles = Self.files(changes, includeDiffs: includeDiffs)
        rebuiltIndexes = Self.indexes(changes)
        self.error = error
    }

    static func files(_ plan: FixPlan, includeDiffs: Bool) -> [ChangedFile] {
        plan.changes.map { change in
            ChangedFile(
                path: change.displayPath,
                diff: includeDiffs ? String(decoding: UnifiedDiff.render(change), as: UTF8.self) : nil)
        }
    }

    static func indexes(_ plan: FixPlan) -> [RebuiltIndex] {
        plan.rebuilds.map {
            RebuiltIndex(path: $0.displayIndexPath, table: $0.reference.description, reason: $0.reason.rawValue)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schemaVersion, forKey: .schemaVersion)
        try container.encode(command, forKey: .command)
        try container.encode(configDirectory, forKey: .configDirectory)
        try container.encode(root, forKey: .root)
        try container.encode(postfixVersion, forKey: .postfixVersion)
        try container.encode(exitStatus, forKey: .exitStatus)
        try container.encode(changed, forKey: .changed)
        try container.encode(reloadNeeded, forKey: .reloadNeeded)
        try container.encode(findings, forKey: .findings)
        try container.encode(findingsByFile, forKey: .findingsByFile)
        try container.encode(changedFiles, forKey: .changedFiles)
        try container.encode(rebuiltIndexes, forKey: .rebuiltIndexes)
        try container.encode(error, forKey: .error)
        try container.encodeIfPresent(deferredMail, forKey: .deferredMail)
        try container.encode(toolVersion, forKey: .toolVersion)
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion, command, configDirectory, root, postfixVersion, exitStatus, changed, reloadNeeded
        case findings, findingsByFile, changedFiles, rebuiltIndexes, error, deferredMail, toolVersion
    }

    /// The report as pretty-printed JSON with sorted keys and a final newline.
    public func encoded() -> [UInt8] {
        JSONOutput.encode(self)
    }
}

/// The one JSON writer for every report the tool prints.
public enum JSONOutput {
    public static func encode<Value: Encodable>(_ value: Value) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value)) + [0x0A]
        } catch {
            // Reports hold only strings, numbers, booleans and nulls.
            fatalError("cannot encode the JSON report: \(error)")
        }
    }
}
