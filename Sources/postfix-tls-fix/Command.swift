// Command.swift: steps the subcommands share.

import ArgumentParser
import TLSPolicyFix

/// Shared steps of the subcommands.
enum Command {
    /// Loads and inspects the configuration; errors that stop everything
    /// become a message and exit status 2.
    static func inspect(_ options: GlobalOptions) throws -> Inspection {
        let fixOptions = options.fixOptions()
        do {
            let configuration = try Configuration.load(directory: options.directory)
            let inspection = try Inspector.inspect(configuration, options: fixOptions)
            if inspection.plan.addsServername, let version = fixOptions.postfixVersion, version < .sniSupport {
                throw ConfigurationError.postfixTooOld(version)
            }
            return inspection
        } catch let error as ConfigurationError {
            Output.error(error.description)
            throw ExitCode(2)
        }
    }

    /// " -c DIR" when the directory was given, for messages that suggest a command.
    static func directoryArgument(_ options: GlobalOptions) -> String {
        options.configDirectory.map { " -c \($0)" } ?? ""
    }
}
