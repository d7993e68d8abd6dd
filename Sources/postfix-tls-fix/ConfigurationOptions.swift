// ConfigurationOptions.swift: the options every subcommand takes, probe
// included, before or after the subcommand's name: where the configuration
// is, the servername to use, and how to print.

import ArgumentParser
import FoundationEssentials
import TLSPolicyFix
import TerminalOutput

struct ConfigurationOptions: ParsableArguments {
    @Option(
        name: [.customShort("c"), .customLong("config-directory")],
        help: ArgumentHelp("The Postfix configuration directory (default: $MAIL_CONFIG, else /etc/postfix).", valueName: "DIR"),
        completion: .directory)
    var configDirectory: String?

    @Option(
        help: ArgumentHelp(
            "Treat DIR as the file system's root (an image or a chroot): the configuration directory and every path main.cf names are looked up inside it.",
            valueName: "DIR"),
        completion: .directory)
    var root: String?

    @Option(help: ArgumentHelp("The servername value to add: hostname (the MX host name; the default) or nexthop.", valueName: "hostname|nexthop"))
    var servername: Servername?

    @Option(help: ArgumentHelp("Output format: text (the default) or json (see docs/json-schema.md).", valueName: "text|json"))
    var format: Format?

    @Option(
        help: ArgumentHelp(
            "Colour the output: auto (the default: on a terminal, unless NO_COLOR is set), always or never.",
            valueName: "auto|always|never"))
    var color: ColorMode?

    @Flag(
        name: .shortAndLong,
        help: "Print only what needs a person (errors, manual fixes), on standard error; the exit status tells the rest. JSON output stays complete.")
    var quiet = false

    enum Servername: String, ExpressibleByArgument, CaseIterable {
        case hostname, nexthop
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    /// These options, with the ones given before the subcommand filling in
    /// what was not given after it: `postfix-tls-fix -c DIR check` and
    /// `postfix-tls-fix check -c DIR` mean the same.
    func merged(with parent: ConfigurationOptions) -> ConfigurationOptions {
        var merged = self
        merged.configDirectory = configDirectory ?? parent.configDirectory
        merged.root = root ?? parent.root
        merged.servername = servername ?? parent.servername
        merged.format = format ?? parent.format
        merged.color = color ?? parent.color
        merged.quiet = quiet || parent.quiet
        return merged
    }

    /// -c, else $MAIL_CONFIG, else /etc/postfix: the same order as postconf.
    var directory: String {
        if let configDirectory { return configDirectory }
        if let environment = ProcessInfo.processInfo.environment["MAIL_CONFIG"], !environment.isEmpty { return environment }
        return "/etc/postfix"
    }

    func validate() throws {
        if let root, !FileManager.default.fileExists(atPath: root) {
            throw ValidationError("--root: \(root): no such directory")
        }
    }
}

extension ColorMode: ExpressibleByArgument {}
