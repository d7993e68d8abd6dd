// Progress.swift: word of long steps, for a person watching a large
// configuration being inspected. The command line turns it on only when
// standard error is a terminal (and not under --quiet); what is printed
// never goes to standard output, so it cannot mix with a diff or JSON.

/// Reports the steps that take long: those on tables above `largeTable`
/// entries (a few seconds each at a million entries).
public struct ProgressReporter: Sendable {
    /// Tables with more entries than this are worth a word.
    public static let largeTable = 100_000

    let emit: @Sendable (String) -> Void

    /// `emit` gets one line of text without its newline.
    public init(_ emit: @escaping @Sendable (String) -> Void) {
        self.emit = emit
    }

    /// A table was read; its entries and index are checked next.
    public func tableRead(_ display: String, entries: Int) {
        guard entries > Self.largeTable else { return }
        emit("\(display): \(entries) entries read; checking the entries and the index")
    }
}
