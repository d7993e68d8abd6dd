// Output.swift: writes bytes to standard output and error unchanged (diffs
// may carry non-UTF-8 bytes and CRs that must reach the reader as they are).

#if canImport(Glibc)
import Glibc
#endif
import TLSPolicyFix

enum Output {
    static func write(_ bytes: [UInt8], to fd: Int32 = 1) {
        var offset = 0
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }

    static func line(_ text: String) { write(Array((text + "\n").utf8), to: 1) }
    static func error(_ text: String) { write(Array(("postfix-tls-fix: " + text + "\n").utf8), to: 2) }

    /// Findings, one line each: fixable ones and notes on stdout, the ones a
    /// person must act on (errors, manual fixes) on stderr too when `split`.
    static func findings(_ findings: [Finding], split: Bool) {
        for finding in findings {
            if split && finding.severity >= .manual {
                error(finding.line)
            } else {
                line(finding.line)
            }
        }
    }

    /// The diffs of every change and a line per index to rebuild.
    static func plan(_ plan: FixPlan, rebuildVerb: String) {
        for change in plan.changes {
            write(UnifiedDiff.render(change))
        }
        for rebuild in plan.rebuilds {
            line("\(rebuildVerb) \(rebuild.displayIndexPath) (\(rebuild.reference.type): index, \(rebuild.reason.rawValue))")
        }
    }
}
