// GlobalOptions.swift: options every subcommand takes, before or after the
// subcommand's name.

import ArgumentParser
import FoundationEssentials
import Glibc
import PostconfModel
import PostfixTools
import TLSPolicyFix
import TerminalOutput

struct GlobalOptions: ParsableArguments {
    @Option(
        name: [.customShort("c"), .customLong("config-directory")],
        help: ArgumentHelp("The Postfix configuration directory (default: $MAIL_CONFIG, else /etc/postfix).", valueName: "DIR"),
        completion: .directory)
    var configDirectory: String?

    @Option(help: ArgumentHelp(
        "Treat DIR as the file system's root (an image or a chroot): the configuration directory and every path main.cf names are looked up inside it.",
        valueName: "DIR"),
        completion: .directory)
    var root: String?

    @Option(help: ArgumentHelp(
        "The Postfix version to write for, when postconf cannot be run (e.g. image builds; always needed with --root).",
        valueName: "X.Y.Z"))
    var postfixVersion: String?

    @Option(help: ArgumentHelp("The servername value to add: hostname (the MX host name; the default) or nexthop.", valueName: "hostname|nexthop"))
    var servername: Servername?

    @Option(help: ArgumentHelp("Output format: text (the default) or json (see docs/json-schema.md).", valueName: "text|json"))
    var format: Format?

    @Option(help: ArgumentHelp(
        "Colour the output: auto (the default: on a terminal, unless NO_COLOR is set), always or never.",
        valueName: "auto|always|never"))
    var color: ColorMode?

    @Flag(name: .shortAndLong, help: "Print only what needs a person (errors, manual fixes), on standard error; the exit status tells the rest. JSON output stays complete.")
    var quiet = false

    @Flag(help: "Also handle every instance in multi_instance_directories (postmulti), each as its own configuration.")
    var allInstances = false

    @Flag(help: "Also add servername to fingerprint entries (their pinned certificate may be one a server presents only with SNI).")
    var includeFingerprint = false

    @Flag(help: "For smtp_tls_per_site MUST entries, which cannot carry attributes, set smtp_tls_servername in main.cf.")
    var globalServername = false

    @Option(
        name: .customLong("acknowledge"),
        help: ArgumentHelp(
            "A table the tool cannot edit (mysql:, socketmap:, ...) whose verify and secure entries you have checked, as main.cf names it; reported as a note instead of a manual fix. Repeatable.",
            valueName: "TYPE:NAME"))
    var acknowledged: [String] = []

    enum Servername: String, ExpressibleByArgument, CaseIterable {
        case hostname, nexthop
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    /// These options, with the ones given before the subcommand filling in
    /// what was not given after it: `postfix-tls-fix -c DIR check` and
    /// `postfix-tls-fix check -c DIR` mean the same.
    func merged(with parent: GlobalOptions) -> GlobalOptions {
        var merged = self
        merged.configDirectory = configDirectory ?? parent.configDirectory
        merged.root = root ?? parent.root
        merged.postfixVersion = postfixVersion ?? parent.postfixVersion
        merged.servername = servername ?? parent.servername
        merged.format = format ?? parent.format
        merged.color = color ?? parent.color
        merged.quiet = quiet || parent.quiet
        merged.allInstances = allInstances || parent.allInstances
        merged.includeFingerprint = includeFingerprint || parent.includeFingerprint
        merged.globalServername = globalServername || parent.globalServername
        merged.acknowledged = acknowledged + parent.acknowledged
        return merged
    }

    /// -c, else $MAIL_CONFIG, else /etc/postfix: the same order as postconf.
    var directory: String {
        if let configDirectory { return configDirectory }
        if let environment = ProcessInfo.processInfo.environment["MAIL_CONFIG"], !environment.isEmpty { return environment }
        return "/etc/postfix"
    }

    /// Where the configuration lies on this machine.
    var location: ConfigurationLocation { ConfigurationLocation(directory: directory, root: root) }

    var json: Bool { format == .json }

    func validate() throws {
        if let postfixVersion, PostfixVersion(postfixVersion) == nil {
            throw ValidationError("--postfix-version: \"\(postfixVersion)\" is not a version such as 3.7.11")
        }
        if let root, !FileManager.default.fileExists(atPath: root) {
            throw ValidationError("--root: \(root): no such directory")
        }
    }

    /// The fix options: the version from the flag, else from postconf; nil
    /// (unknown) is fine for check and diff, apply refuses to add servername
    /// without it. Parameter defaults are the installed Postfix's (`postconf
    /// -d`) when it is the version planned for, else the shipped table. Under
    /// --root the postconf on this machine is not asked: it is not the
    /// Postfix of the image. Progress on large tables goes to standard error
    /// when that is a terminal, unless --quiet.
    func fixOptions() -> FixOptions {
        let installed = location.root == nil ? try? PostfixInstallation.defaults(configDirectory: location.directory) : nil
        let version = postfixVersion.flatMap(PostfixVersion.init) ?? installed.flatMap { PostfixVersion($0.version) }
        var options = FixOptions(servername: (servername ?? .hostname).rawValue, postfixVersion: version,
                                 includeFingerprint: includeFingerprint, globalServernameForPerSite: globalServername)
        options.acknowledgedTables = Set(acknowledged.map { $0.hasPrefix("proxy:") ? String($0.dropFirst(6)) : $0 })
        if let installed, let version, PostfixVersion(installed.version) == version {
            options.parameterDefaults = installed
        }
        if !quiet && isatty(2) == 1 {
            options.progress = Progress.report
        }
        return options
    }
}

extension ColorMode: ExpressibleByArgument {}
