// ConfigFileError.swift: a configuration file Postfix itself would refuse
// or read differently, with the file and line it names.

/// A file that cannot be read as Postfix would read it: the location and
/// what is wrong.
public struct ConfigFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    public var problem: String

    public init(_ location: SourceLocation, _ problem: String) {
        self.location = location
        self.problem = problem
    }

    public var description: String { "\(location): \(problem)" }
}
