// GlobalOptions.swift: the options of check, diff and apply (and of the
// command before a subcommand's name): ConfigurationOptions, and those that
// change what a fix writes. probe takes ConfigurationOptions alone.

import ArgumentParser
import FoundationEssentials
import Glibc
import PostconfModel
import PostfixTools
import TLSPolicyFix
import TerminalOutput

struct GlobalOptions: ParsableArguments {
    @OptionGroup var configuration: ConfigurationOptions

    @Option(
        help: ArgumentHelp(
            "The Postfix version to write for, when postconf cannot be run (e.g. image builds; always needed with --root).",
            valueName: "X.Y.Z"))
    var postfixVersion: String?

    @Flag(help: "Also handle every instance in multi_instance_directories (postmulti), each as its own configuration.")
    var allInstances = false

    @Flag(help: "Also add servername to fingerprint entries (their pinned certificate may be one a server presents only with SNI).")
    var includeFingerprint = false

    @Flag(
        help: ArgumentHelp(
            "Set smtp_tls_servername (lmtp_tls_servername) in main.cf for every destination instead of editing each entry and service: the one-line alternative, which also gives SNI to fingerprint entries (each is noted). Also what smtp_tls_per_site MUST entries need."
        ))
    var globalServername = false

    @Option(
        name: .customLong("acknowledge"),
        help: ArgumentHelp(
            "A table the tool cannot edit (mysql:, socketmap:, ...) whose verify and secure entries you have checked, as main.cf names it; reported as a note instead of a manual fix. Repeatable.",
            valueName: "TYPE:NAME"))
    var acknowledged: [String] = []

    typealias Servername = ConfigurationOptions.Servername
    typealias Format = ConfigurationOptions.Format

    // The configuration options, read and set as if they were this group's.
    var configDirectory: String? {
        get { configuration.configDirectory }
        set { configuration.configDirectory = newValue }
    }
    var root: String? { configuration.root }
    var servername: Servername? { configuration.servername }
    var format: Format? { configuration.format }
    var color: ColorMode? { configuration.color }
    var quiet: Bool { configuration.quiet }
    var directory: String { configuration.directory }

    /// These options, with the ones given before the subcommand filling in
    /// what was not given after it.
    func merged(with parent: GlobalOptions) -> GlobalOptions {
        var merged = self
        merged.configuration = configuration.merged(with: parent.configuration)
        merged.postfixVersion = postfixVersion ?? parent.postfixVersion
        merged.allInstances = allInstances || parent.allInstances
        merged.includeFingerprint = includeFingerprint || parent.includeFingerprint
        merged.globalServername = globalServername || parent.globalServername
        merged.acknowledged = acknowledged + parent.acknowledged
        return merged
    }

    /// Where the configuration lies on this machine.
    var location: ConfigurationLocation { ConfigurationLocation(directory: directory, root: root) }

    var json: Bool { format == .json }

    func validate() throws {
        if let postfixVersion, PostfixVersion(postfixVersion) == nil {
            throw ValidationError("--postfix-version: \"\(postfixVersion)\" is not a version such as 3.7.11")
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
        var options = FixOptions(
            servername: (servername ?? .hostname).rawValue, postfixVersion: version,
            includeFingerprint: includeFingerprint, globalServername: globalServername)
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
