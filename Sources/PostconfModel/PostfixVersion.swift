// PostfixVersion.swift: a Postfix release number, which decides what a fix
// may write (servername needs 3.4; "{ name = value }" in policy values 3.10).

public struct PostfixVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses "3.7.11", "3.4" or a snapshot's "3.12-20260821".
    public init?(_ text: String) {
        let release = text.split(separator: "-", maxSplits: 1).first ?? ""
        let parts = release.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count) else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard let n = Int(part), n >= 0 else { return nil }
            numbers.append(n)
        }
        self.init(numbers[0], numbers[1], numbers.count > 2 ? numbers[2] : 0)
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (a: PostfixVersion, b: PostfixVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    /// The first release with servername (SNI) in the SMTP client.
    public static let sniSupport = PostfixVersion(3, 4)
}
