// Progress.swift: word of long steps, for a person watching a large
// configuration being inspected. GlobalOptions turns it on only when
// standard error is a terminal (and not under --quiet); what is printed
// never goes to standard output, so it cannot mix with a diff or JSON.

import TLSPolicyFix

enum Progress {
    /// Tables with more entries than this are worth a word (a few seconds
    /// each at a million entries).
    static let largeTable = 100_000

    @Sendable static func report(_ event: ProgressEvent) {
        switch event {
        case .tableRead(let display, let entries):
            guard entries > largeTable else { return }
            Output.write(Array("postfix-tls-fix: \(display): \(entries) entries read; checking the entries and the index\n".utf8), to: 2)
        }
    }
}
