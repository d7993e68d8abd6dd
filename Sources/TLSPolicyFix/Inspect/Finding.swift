// Finding.swift: what the tool found, in the words an admin needs: where,
// which entry, what is wrong, and what the fix is.

import PostconfModel

public struct Finding: Sendable, Equatable {
    public enum Severity: String, Sendable, Comparable {
        /// Worth knowing; changes nothing (a duplicate key, a line postmap skips).
        case note
        /// The tool will fix it (check/diff exit 1 while it is pending).
        case fixable
        /// Needs a person: the tool cannot or will not change it (exit 1).
        case manual
        /// The configuration is broken as it stands (exit 2; apply writes nothing).
        case error

        private var rank: Int {
            switch self {
            case .note: 0
            case .fixable: 1
            case .manual: 2
            case .error: 3
            }
        }

        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    /// Stable names for what kind of finding this is (used in tests and output).
    public enum Rule: String, Sendable {
        case missingServername = "missing-servername"
        case miscasedKeyword = "miscased-keyword"
        case brokenEntry = "broken-entry"
        case unsupportedTable = "unsupported-table"
        case missingSource = "missing-source"
        case missingIndex = "missing-index"
        case staleIndex = "stale-index"
        case duplicateKey = "duplicate-key"
        case skippedLine = "skipped-line"
        case fingerprintAtRisk = "fingerprint-at-risk"
        case perSiteMust = "per-site-must"
        case perSiteIgnored = "per-site-ignored"
        case invalidParameter = "invalid-parameter"
        case interruptedApply = "interrupted-apply"
        case postmapWarning = "postmap-warning"
        case unreadableIndex = "unreadable-index"
        case abandonedTemporaryFile = "abandoned-temporary-file"
    }

    public var severity: Severity
    public var rule: Rule
    public var location: SourceLocation
    /// The table key (or parameter name) the finding is about, if any.
    public var subject: String?
    /// The TLS security level in force there, when the finding is about one.
    public var level: TLSSecurityLevel?
    /// What is wrong.
    public var message: String
    /// What will fix it, when there is a fix.
    public var fix: String?

    public init(
        _ severity: Severity, _ rule: Rule, at location: SourceLocation, subject: String? = nil,
        level: TLSSecurityLevel? = nil, _ message: String, fix: String? = nil
    ) {
        self.severity = severity
        self.rule = rule
        self.location = location
        self.subject = subject
        self.level = level
        self.message = message
        self.fix = fix
    }

    /// One line, Postfix style: "path, line N: subject: message; fix: ...".
    public var line: String { line(markingSeverity: true) }

    /// The line without its "error: " or "note: ", for a caller that says
    /// the severity itself ("postfix-tls-fix: error: path, line N: ...").
    public var unmarkedLine: String { line(markingSeverity: false) }

    private func line(markingSeverity: Bool) -> String {
        var text = "\(location): "
        if markingSeverity && severity == .error { text += "error: " } else if markingSeverity && severity == .note { text += "note: " }
        if let subject { text += "\(subject): " }
        text += message
        if let fix { text += "; fix: \(fix)" }
        return text
    }
}
