// Output.swift: everything the command prints goes through here. Bytes go
// to standard output and error unchanged (diffs may carry non-UTF-8 bytes
// and CRs that must reach the reader as they are); colour is added only for
// a terminal (or --color always), and --quiet keeps only what a person must
// act on.

import FoundationEssentials
import TLSPolicyFix
import TerminalOutput

#if canImport(Glibc)
import Glibc
#endif

struct Output {
    /// Whether standard output and standard error get colour.
    let colorOut: Bool
    let colorErr: Bool
    let quiet: Bool

    init(_ options: GlobalOptions) {
        let mode = options.color ?? .auto
        let environment = ProcessInfo.processInfo.environment
        colorOut = mode.enabled(isTerminal: isatty(1) == 1, environment: environment)
        colorErr = mode.enabled(isTerminal: isatty(2) == 1, environment: environment)
        quiet = options.quiet
    }

    static func write(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }

    /// A line of the normal output (suppressed by --quiet).
    func line(_ text: String) {
        if !quiet { Self.write(Array((text + "\n").utf8), to: 1) }
    }

    /// How bad a message on standard error is, in Postfix's words.
    enum Severity: String {
        /// The command stopped.
        case fatal
        /// Something is wrong and stays so until a person acts.
        case error
        /// Worth a person's attention; the command went on.
        case warning
    }

    /// A message on standard error, as Postfix's programs write them:
    /// "postfix-tls-fix: fatal: TEXT".
    func error(_ text: String, _ severity: Severity = .fatal) {
        let message = "postfix-tls-fix: \(severity.rawValue): " + text
        Self.write(Array(((colorErr ? TerminalStyle.red.paint(message) : message) + "\n").utf8), to: 2)
    }

    /// A JSON document on standard output (--format json; never quiet).
    func json(_ bytes: [UInt8]) {
        Self.write(bytes, to: 1)
    }

    /// Findings, one line each, in Postfix's "file, line N: ..." style. The
    /// ones a person must act on (errors, manual fixes) go to standard error
    /// when `split`, and always under --quiet, as "postfix-tls-fix: error:"
    /// (or "warning:" for a manual fix) lines; the rest go to standard
    /// output, the report check prints.
    func findings(_ findings: [Finding], split: Bool) {
        for finding in findings {
            let needsPerson = finding.severity >= .manual
            if quiet && !needsPerson { continue }
            let toError = needsPerson && (split || quiet)
            var text = finding.line
            if toError {
                text = "postfix-tls-fix: \(finding.severity == .error ? Severity.error : .warning): " + finding.unmarkedLine
            }
            if toError ? colorErr : colorOut { text = TerminalStyle.of(finding.severity).paint(text) }
            Self.write(Array((text + "\n").utf8), to: toError ? 2 : 1)
        }
    }

    /// "findings by file:" and a line of counts per file.
    func fileCounts(_ files: [FileFindingCounts]) {
        if quiet || files.isEmpty { return }
        line("findings by file:")
        for file in files { line("  \(file.path): \(file.counts.description)") }
    }

    /// The diffs of every change and a line per index to rebuild.
    func plan(_ plan: FixPlan, rebuildVerb: String) {
        if quiet { return }
        for change in plan.changes {
            // Written as it is made: the diff of a large table is never held whole.
            if colorOut {
                var colorizer = DiffColorizer { Self.write($0, to: 1) }
                UnifiedDiff.render(change) { colorizer.write($0) }
                colorizer.finish()
            } else {
                UnifiedDiff.render(change) { Self.write($0, to: 1) }
            }
        }
        for rebuild in plan.rebuilds {
            line("\(rebuildVerb) \(rebuild.displayIndexPath) (\(rebuild.indexType): index, \(rebuild.reason.rawValue))")
        }
    }
}
