// Configuration.swift: a Postfix configuration directory as the tool sees
// it: main.cf, master.cf, parameter values as Postfix would expand them,
// and the files they name, read through ConfigurationFiles (the disk, or
// bytes in memory for tests).

import PostconfModel

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
    /// master.cf, when there is one (and it was asked for).
    public let masterCf: MasterCf?
    public let parameters: ParameterExpander
    /// Where every other file (tables, indexes) is read.
    public let files: any ConfigurationFiles

    /// Loads DIR/main.cf and DIR/master.cf. The directory becomes
    /// config_directory, as with `postconf -c DIR`; a relative DIR is made
    /// absolute first, because Postfix resolves relative map paths against
    /// queue_directory, not the current directory. With a root, DIR is a path
    /// inside it (a relative one is taken from the root), and so is every
    /// path main.cf names. `readMasterCf: false` reads main.cf alone (for
    /// what needs only main.cf's parameters). Parameters main.cf does not
    /// set take `defaults`. Files are read from disk, inside the root, unless
    /// `files` says otherwise.
    public static func load(
        _ location: ConfigurationLocation, files given: (any ConfigurationFiles)? = nil, readMasterCf: Bool = true,
        defaults: PostfixDefaults = .shipped
    ) throws(LoadError) -> Configuration {
        let files = given ?? DiskFiles(root: location.root)
        let mainCfPath = joinPath(location.directory, "main.cf")
        let mainCf = try files.parse(mainCfPath) { bytes throws(ConfigFileError) in try MainCf(path: mainCfPath, bytes: bytes) }
        let masterCfPath = joinPath(location.directory, "master.cf")
        var masterCf: MasterCf?
        if readMasterCf && files.exists(masterCfPath) {
            masterCf = try files.parse(masterCfPath) { bytes throws(ConfigFileError) in try MasterCf(path: masterCfPath, bytes: bytes) }
        }
        let parameters = ParameterExpander(explicit: mainCf.values, configDirectory: Array(location.postfixDirectory.utf8), defaults: defaults)
        return Configuration(
            directory: location.directory, root: location.root, postfixConfigDirectory: location.postfixDirectory,
            mainCf: mainCf, masterCf: masterCf, parameters: parameters, files: files)
    }

    /// A configuration held in memory: `mainCf` and `masterCf` texts, and
    /// `files` (tables, by absolute path) for what they name. The directory
    /// is /etc/postfix unless given.
    public static func inMemory(
        mainCf: String, masterCf: String? = nil, files: [String: String] = [:], directory: String = "/etc/postfix"
    ) throws(LoadError) -> Configuration {
        var all = files
        all[joinPath(directory, "main.cf")] = mainCf
        all[joinPath(directory, "master.cf")] = masterCf
        return try load(ConfigurationLocation(directory: directory, root: nil), files: InMemoryFiles(all))
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
        let path = lexicallyNormalized(path)
        let directory = lexicallyNormalized(directory)
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Where a parameter's definition in force is in main.cf, for messages.
    func mainCfLocation(_ parameter: String) -> SourceLocation {
        SourceLocation(path: displayPath(mainCf.path), line: mainCf.definition(of: parameter)?.lineNumber)
    }
}
