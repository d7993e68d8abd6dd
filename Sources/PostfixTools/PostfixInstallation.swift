// PostfixInstallation.swift: facts about the installed Postfix that the tool
// asks Postfix itself for (its version and built-in defaults), and its
// reload, rather than guessing.

import PostconfModel

public enum PostfixInstallation {
    /// The installed Postfix's built-in defaults, `postconf -c DIR -d` (with
    /// the per-service parameters of DIR's master.cf); their `version` is
    /// its mail_version.
    public static func defaults(configDirectory: String) throws(PostfixToolError) -> PostfixDefaults {
        let result = try PostfixProgram.run("postconf", ["-c", configDirectory, "-d"])
        let defaults = PostfixDefaults(postconfOutput: result.output)
        guard result.status == 0, PostfixVersion(defaults.version) != nil else {
            throw .unexpectedOutput(command: "postconf -d", output: "mail_version = \(defaults.version)", status: result.status)
        }
        return defaults
    }

    /// What `reloadIfRunning` did.
    public enum ReloadOutcome: Sendable, Equatable {
        case reloaded
        case notRunning
    }

    /// `postfix -c DIR reload` when that instance is running (`postfix -c
    /// DIR status` exits 0), so that daemons read the new main.cf, master.cf
    /// and tables that are read only at start-up.
    public static func reloadIfRunning(configDirectory: String) throws(PostfixToolError) -> ReloadOutcome {
        guard try isRunning(configDirectory: configDirectory) else { return .notRunning }
        let reload = try PostfixProgram.run("postfix", ["-c", configDirectory, "reload"])
        guard reload.status == 0 else {
            throw .failed(command: "postfix -c \(configDirectory) reload", status: reload.status, errors: reload.errorText)
        }
        return .reloaded
    }

    /// Whether the instance of DIR runs (`postfix -c DIR status` exits 0):
    /// its queue can be asked only then (postqueue talks to its daemons).
    public static func isRunning(configDirectory: String) throws(PostfixToolError) -> Bool {
        try PostfixProgram.run("postfix", ["-c", configDirectory, "status"]).status == 0
    }
}
