// Configuration.swift: a Postfix configuration directory as the tool sees
// it: main.cf, parameter values as Postfix would expand them, and the Postfix
// version that decides what may be written.

import PostconfModel

#if canImport(Glibc)
import Glibc
#endif

public struct Configuration: Sendable {
    /// The configuration directory, as given (-c, $MAIL_CONFIG or /etc/postfix).
    public let directory: String
    public let mainCf: MainCf
    public let parameters: ParameterExpander

    /// Loads DIR/main.cf. The directory becomes config_directory, as with
    /// `postconf -c DIR`; a relative DIR is made absolute first, because
    /// Postfix resolves relative map paths against queue_directory, not the
    /// current directory.
    public static func load(directory given: String) throws(ConfigurationError) -> Configuration {
        let directory = absolutePath(given)
        let path = joinPath(directory, "main.cf")
        let bytes = try readFileBytes(path)
        let mainCf: MainCf
        do {
            mainCf = try MainCf(path: path, bytes: bytes)
        } catch {
            throw .invalid(error)
        }
        let parameters = ParameterExpander(explicit: mainCf.values, configDirectory: Array(directory.utf8))
        return Configuration(directory: directory, mainCf: mainCf, parameters: parameters)
    }

    /// A parameter's value in force, expanded; empty when unset.
    public func value(_ name: String) -> [UInt8] {
        parameters.expandedValue(name) ?? []
    }

    /// A yes/no parameter, as Postfix reads booleans (case-insensitive "yes").
    public func flag(_ name: String) -> Bool {
        value(name).equalsIgnoringASCIICase("yes")
    }

    /// A path as Postfix daemons see it: relative paths are relative to
    /// queue_directory, because they chdir there.
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return joinPath(String(decoding: value("queue_directory"), as: UTF8.self), path)
    }

    /// A path for display and diffs: relative to the configuration directory
    /// when inside it.
    public func displayPath(_ path: String) -> String {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}

/// The path made absolute against the current directory (no symlinks resolved).
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    guard let cwd = getcwd(nil, 0) else { return path }
    defer { free(cwd) }
    var base = String(cString: cwd)
    var rest = Substring(path)
    while rest.hasPrefix("./") { rest = rest.dropFirst(2) }
    if rest == "." || rest.isEmpty { return base }
    if !base.hasSuffix("/") { base += "/" }
    return base + rest
}

func joinPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
