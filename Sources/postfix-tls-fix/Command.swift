// Command.swift: steps the subcommands share.

import ArgumentParser
import TLSPolicyFix

/// Shared steps of the subcommands.
enum Command {
    /// Loads, inspects and plans (writing nothing). An error that stops
    /// everything is reported (as text or JSON) and becomes exit status 2.
    static func preview(_ options: GlobalOptions, _ fixOptions: FixOptions, command: String, output: Output) throws -> Preview {
        do {
            return try Pipeline.preview(options.location, options: fixOptions)
        } catch {
            try fail(error, command: command, options: options, fixOptions: fixOptions, output: output)
        }
    }

    /// Reports an error that stopped `command`; throws exit status 2. In
    /// JSON mode standard output still carries a report (with `error` set),
    /// so that a configuration manager always has a document to read.
    static func fail(
        _ error: FixError, command: String, options: GlobalOptions, fixOptions: FixOptions, output: Output
    ) throws -> Never {
        if case .plan(.refusedBecauseOfErrors(let findings)) = error {
            output.findings(findings, split: true)
        }
        output.error(error.description)
        if case .apply(let stopped) = error, let done = stopped.done {
            MailLog.interrupted(done, directory: options.location.directory, error: error.description)
            try interrupted(done, error: error, options: options, fixOptions: fixOptions, output: output)
        }
        if options.json {
            output.json(
                JSONReport(
                    command: command, location: options.location, postfixVersion: fixOptions.postfixVersion, error: error
                ).encoded())
        }
        throw ExitCode(2)
    }

    /// An apply that stopped after its commit point: exit status 3, with
    /// what it replaced, so that automation knows to reload.
    static func interrupted(
        _ done: ApplyReport, error: FixError, options: GlobalOptions, fixOptions: FixOptions, output: Output
    ) throws -> Never {
        if options.json {
            output.json(JSONReport(interrupted: done, location: options.location, postfixVersion: fixOptions.postfixVersion, error: error).encoded())
        } else {
            for path in done.rebuiltIndexes + done.writtenFiles { output.line("replaced \(path)") }
            if done.reloadNeeded {
                output.line("run `\(reloadCommand(options))` so that running Postfix daemons read the changed files")
            }
        }
        throw ExitCode(3)
    }

    /// Runs `body` for the configuration directory and, with
    /// --all-instances, for every directory its multi_instance_directories
    /// names (postmulti's secondary instances), each as its own
    /// configuration. Text output gets a header per instance; JSON output
    /// becomes an array of reports (a failed instance's report carries its
    /// error). Exits with the worst status.
    static func forEachInstance(_ options: GlobalOptions, command: String, _ body: (GlobalOptions) throws -> Int32) throws -> Never {
        guard options.allInstances else { throw ExitCode(try body(options)) }
        let output = Output(options)
        let fixOptions = options.fixOptions()
        let primary: Configuration
        do {
            primary = try Configuration.load(options.location, readMasterCf: false, defaults: fixOptions.parameterDefaults)
        } catch {
            try fail(.load(error), command: command, options: options, fixOptions: fixOptions, output: output)
        }
        var directories = [options.directory]
        for directory in primary.instanceDirectories where !directories.contains(directory) {
            directories.append(directory)
        }
        var worst: Int32 = 0
        if options.json { Output.write(Array("[\n".utf8), to: 1) }
        for (index, directory) in directories.enumerated() {
            var instance = options
            instance.configDirectory =
                options.root.map { root in
                    directory.hasPrefix(root) ? String(directory.dropFirst(root.count)) : directory
                } ?? directory
            if options.json {
                if index > 0 { Output.write(Array(",\n".utf8), to: 1) }
            } else if !options.quiet {
                output.line("==> instance \(directory)")
            }
            // An instance that fails is reported and the others still run.
            do {
                worst = max(worst, try body(instance))
            } catch let code as ExitCode {
                worst = max(worst, code.rawValue)
            }
        }
        if options.json { Output.write(Array("]\n".utf8), to: 1) }
        throw ExitCode(worst)
    }

    /// The reload a hint names: `postfix reload`, with -c DIR when the
    /// configuration directory was given (another instance than the default).
    static func reloadCommand(_ options: GlobalOptions) -> String {
        options.configDirectory == nil ? "postfix reload" : "postfix -c \(options.location.postfixDirectory) reload"
    }

    /// The apply that does what check described: the same location and
    /// every option that changes what a fix writes, and --allow-path for
    /// `outside`, shell-quoted where a word needs it.
    static func applyCommand(_ options: GlobalOptions, allowing outside: [String]) -> String {
        var words = ["postfix-tls-fix"]
        if let root = options.root { words += ["--root", root] }
        if let directory = options.configDirectory { words += ["-c", directory] }
        if let version = options.postfixVersion { words += ["--postfix-version", version] }
        if let servername = options.servername, servername != .hostname { words += ["--servername", servername.rawValue] }
        if options.includeFingerprint { words.append("--include-fingerprint") }
        if options.globalServername { words.append("--global-servername") }
        for table in options.acknowledged { words += ["--acknowledge", table] }
        words.append("apply")
        for path in outside { words += ["--allow-path", path] }
        return words.map(shellQuoted).joined(separator: " ")
    }

    /// A word as a POSIX shell reads it back: as it is when it is plain.
    static func shellQuoted(_ word: String) -> String {
        let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "/._-:,=+@%".contains($0) }
        return plain && !word.isEmpty ? word : "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
