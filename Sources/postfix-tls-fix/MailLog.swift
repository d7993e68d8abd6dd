// MailLog.swift: a trace of every change apply makes, sent to syslog with
// facility mail as Postfix's own programs log, so that it lands in the mail
// log (Debian's /var/log/mail.log) beside what it changed: which files,
// how many edits, which indexes, which backups, and whether a reload is
// due. Unattended runs (package hooks, configuration managers) leave a
// record there even when nobody reads their output.

import TLSPolicyFix

#if canImport(Glibc)
import Glibc
#endif

enum MailLog {
    /// A successful apply that changed something (nothing is logged when
    /// there was nothing to do).
    static func applied(_ report: ApplyReport, directory: String) {
        for path in report.completedFromInterruptedApply {
            log(LOG_INFO, "\(directory): completed an interrupted earlier apply: replaced \(path)")
        }
        guard !report.plan.isEmpty else { return }
        log(LOG_INFO, "\(directory): " + summary(of: report))
    }

    /// An apply that stopped after its commit point (exit status 3).
    static func interrupted(_ done: ApplyReport, directory: String, error: String) {
        log(LOG_WARNING, "\(directory): stopped after replacing files: " + summary(of: done) + "; \(error)")
    }

    /// "replaced FILE (N edits), ...; rebuilt INDEX, ...; backups ...; postfix reload needed".
    static func summary(of report: ApplyReport) -> String {
        let edits = Dictionary(report.plan.changes.map { ($0.displayPath, $0.edits.count) }, uniquingKeysWith: { $1 })
        var parts: [String] = []
        if !report.writtenFiles.isEmpty {
            parts.append(
                "replaced "
                    + report.writtenFiles.map { file in
                        let count = edits[file] ?? 0
                        return "\(file) (\(count) edit\(count == 1 ? "" : "s"))"
                    }.joined(separator: ", "))
        }
        if !report.rebuiltIndexes.isEmpty { parts.append("rebuilt " + report.rebuiltIndexes.joined(separator: ", ")) }
        if !report.backups.isEmpty { parts.append("backups " + report.backups.joined(separator: ", ")) }
        parts.append(report.reloadNeeded ? "postfix reload needed" : "no reload needed")
        return parts.joined(separator: "; ")
    }

    /// syslog(3) is variadic, which Swift cannot call; vsyslog with one
    /// "%s" argument logs the text as it is (no format directives in it).
    private static func log(_ priority: Int32, _ message: String) {
        openlog("postfix-tls-fix", LOG_PID | LOG_NDELAY, LOG_MAIL)
        message.withCString { text in
            withVaList([text]) { vsyslog(priority, "%s", $0) }
        }
        closelog()
    }
}
