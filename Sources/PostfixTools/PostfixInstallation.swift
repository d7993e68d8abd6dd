// PostfixInstallation.swift: facts about the installed Postfix that the tool
// asks Postfix itself for (its version), and its reload, rather than guessing.

import PostconfModel

public enum PostfixInstallation {
    /// The installed Postfix's version, from `postconf -d -h mail_version`.
    /// Throws with the reason when postconf cannot be run or answers oddly.
    public static func version() throws(PostfixToolError) -> PostfixVersion {
        let result = try PostfixProgram.run("postconf", ["-d", "-h", "mail_version"])
        let text = PostfixProgram.Result.trimmed(result.output)
        guard result.status == 0, let version = PostfixVersion(text) else {
            throw .unexpectedOutput(command: "postconf -d -h mail_version", output: text, status: result.status)
        }
        return version
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
        guard try PostfixProgram.run("postfix", ["-c", configDirectory, "status"]).status == 0 else { return .notRunning }
        let reload = try PostfixProgram.run("postfix", ["-c", configDirectory, "reload"])
        guard reload.status == 0 else {
            throw .failed(command: "postfix -c \(configDirectory) reload", status: reload.status, errors: reload.errorText)
        }
        return .reloaded
    }
}
