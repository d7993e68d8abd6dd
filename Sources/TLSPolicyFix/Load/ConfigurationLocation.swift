// ConfigurationLocation.swift: where a configuration directory lies on this
// machine, with or without a --root image, and the path arithmetic the
// stages share.

#if canImport(Glibc)
import Glibc
#endif

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

/// The path with "//", "/./" and a trailing "/" taken out, as the kernel
/// reads it; ".." is kept (through a symbolic link it is not the lexical
/// parent).
func lexicallyNormalized(_ path: String) -> String {
    guard path.contains("//") || path.contains("/.") || path.hasPrefix("./") || (path.count > 1 && path.hasSuffix("/")) else {
        return path
    }
    let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
    let joined = parts.joined(separator: "/")
    if path.hasPrefix("/") { return "/" + joined }
    return joined.isEmpty ? "." : joined
}

func joinPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
