// GlobalOptions.swift: options every subcommand takes.

import ArgumentParser
import Foundation
import PostconfModel
import TLSPolicyFix

struct GlobalOptions: ParsableArguments {
    @Option(
        name: [.customShort("c"), .customLong("config-directory")],
        help: ArgumentHelp("The Postfix configuration directory (default: $MAIL_CONFIG, else /etc/postfix).", valueName: "DIR"))
    var configDirectory: String?

    @Option(help: ArgumentHelp("The Postfix version to write for, when postconf cannot be run (e.g. image builds).", valueName: "X.Y.Z"))
    var postfixVersion: String?

    @Option(help: ArgumentHelp("The servername value to add: hostname (the MX host name; the default) or nexthop.", valueName: "hostname|nexthop"))
    var servername: Servername?

    enum Servername: String, ExpressibleByArgument, CaseIterable {
        case hostname, nexthop
    }

    /// These options, with the ones given before the subcommand filling in
    /// what was not given after it: `postfix-tls-fix -c DIR check` and
    /// `postfix-tls-fix check -c DIR` mean the same.
    func merged(with parent: GlobalOptions) -> GlobalOptions {
        var merged = self
        merged.configDirectory = configDirectory ?? parent.configDirectory
        merged.postfixVersion = postfixVersion ?? parent.postfixVersion
        merged.servername = servername ?? parent.servername
        return merged
    }

    /// -c, else $MAIL_CONFIG, else /etc/postfix: the same order as postconf.
    var directory: String {
        if let configDirectory { return configDirectory }
        if let environment = ProcessInfo.processInfo.environment["MAIL_CONFIG"], !environment.isEmpty { return environment }
        return "/etc/postfix"
    }

    func validate() throws {
        if let postfixVersion, PostfixVersion(postfixVersion) == nil {
            throw ValidationError("--postfix-version: \"\(postfixVersion)\" is not a version such as 3.7.11")
        }
    }

    /// The fix options: the version from the flag, else from postconf; nil
    /// (unknown) is fine for check and diff, apply refuses to write without it.
    func fixOptions() -> FixOptions {
        var version = postfixVersion.flatMap(PostfixVersion.init)
        if version == nil { version = try? PostfixInstallation.version() }
        return FixOptions(servername: (servername ?? .hostname).rawValue, postfixVersion: version)
    }
}
