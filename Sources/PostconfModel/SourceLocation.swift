// SourceLocation.swift: where something is, for messages in Postfix's style
// ("/etc/postfix/tls_policy, line 12").

public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var path: String
    /// 1-based line number; nil when the message is about the whole file.
    public var line: Int?

    public init(path: String, line: Int? = nil) {
        self.path = path
        self.line = line
    }

    public var description: String {
        if let line { return "\(path), line \(line)" }
        return path
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.path, a.line ?? 0) < (b.path, b.line ?? 0)
    }
}
