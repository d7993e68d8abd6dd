// Configuration.swift: a Postfix configuration directory as the tool sees
// it: main.cf, parameter values as Postfix would expand them, and the Postfix
// version that decides what may be written.

import PostconfModel

#if canImport(Glibc)
import Glibc
#endif

public struct Configuration: Sendable {
    /// The configuration directory on this machine, absolute (-c, $MAIL_CONFIG
    /// or /etc/postfix; inside `root` when there is one).
    public let directory: String
    /// The directory treated as the file system's root (--root: an image or
    /// a chroot), absolute and without a trailing slash; nil for "/".
    public let root: String?
    /// The configuration directory as Postfix inside the root sees it: the
    /// value of $config_directory.
    public let postfixConfigDirectory: String
    public let mainCf: MainCf
    public let parameters: ParameterExpander

    /// Loads DIR/main.cf. The directory becomes config_directory, as with
    /// `postconf -c DIR`; a relative DIR is made absolute first, because
    /// Postfix resolves relative map paths against queue_directory, not the
    /// current directory. With a root, DIR is a path inside it (a relative
    /// one is taken from the root), and so is every path main.cf names.
    public static func load(directory given: String, root givenRoot: String? = nil) throws(ConfigurationError) -> Configuration {
        let location = ConfigurationLocation(directory: given, root: givenRoot)
        let (directory, root, postfixDirectory) = (location.directory, location.root, location.postfixDirectory)
        let path = joinPath(directory, "main.cf")
        let bytes = try readFileBytes(path)
        let mainCf: MainCf
        do {
            mainCf = try MainCf(path: path, bytes: bytes)
        } catch {
            throw .invalid(error)
        }
        let parameters = ParameterExpander(explicit: mainCf.values, configDirectory: Array(postfixDirectory.utf8))
        return Configuration(
            directory: directory, root: root, postfixConfigDirectory: postfixDirectory, mainCf: mainCf, parameters: parameters)
    }

    /// A parameter's value in force, expanded; empty when unset.
    public func value(_ name: String) -> [UInt8] {
        parameters.expandedValue(name) ?? []
    }

    /// A yes/no parameter, as Postfix reads booleans (case-insensitive "yes").
    public func flag(_ name: String) -> Bool {
        value(name).equalsIgnoringASCIICase("yes")
    }

    /// A path as Postfix daemons see it, as a path on this machine: relative
    /// paths are relative to queue_directory, because they chdir there, and
    /// the result lies inside the root.
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return hostPath(path) }
        return hostPath(joinPath(String(decoding: value("queue_directory"), as: UTF8.self), path))
    }

    /// An absolute path inside the root as a path on this machine.
    public func hostPath(_ path: String) -> String {
        guard let root else { return path }
        return path.hasPrefix("/") ? root + path : root + "/" + path
    }

    /// The other instances' configuration directories
    /// (multi_instance_directories, as postmulti reads it), on this machine.
    public var instanceDirectories: [String] {
        MapReference.splitList(value("multi_instance_directories"))
            .map { hostPath(String(decoding: $0, as: UTF8.self)) }
    }

    /// A path for display and diffs: relative to the configuration directory
    /// when inside it.
    public func displayPath(_ path: String) -> String {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}

/// Where a configuration directory lies, with or without a --root.
public struct ConfigurationLocation: Sendable {
    /// The directory on this machine, absolute.
    public let directory: String
    /// The root, absolute and without a trailing slash; nil for none or "/".
    public let root: String?
    /// The directory as Postfix inside the root sees it ($config_directory).
    public let postfixDirectory: String

    /// Without a root, a relative DIR is relative to the current directory;
    /// with one, DIR is a path inside the root (a relative DIR starts there).
    public init(directory given: String, root givenRoot: String?) {
        var root = givenRoot.map(absolutePath)
        while let current = root, current.hasSuffix("/") { root = String(current.dropLast()) }
        if root?.isEmpty == true { root = nil }
        self.root = root
        postfixDirectory = root == nil ? absolutePath(given) : (given.hasPrefix("/") ? given : "/" + given)
        directory = (root ?? "") + postfixDirectory
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
