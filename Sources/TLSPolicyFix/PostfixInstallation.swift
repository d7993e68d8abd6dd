// PostfixInstallation.swift: facts about the installed Postfix that the tool
// asks Postfix itself for (its version), rather than guessing.

import Glibc
import PostconfModel

public enum PostfixInstallation {
    /// The installed Postfix's version, from `postconf -d -h mail_version`.
    /// Throws with the reason when postconf cannot be run or answers oddly.
    public static func version() throws(ConfigurationError) -> PostfixVersion {
        let result: PostfixProgram.Result
        do {
            result = try PostfixProgram.run("postconf", ["-d", "-h", "mail_version"])
        } catch {
            throw .postfixVersionUnknown(reason: error.description)
        }
        let text = PostfixProgram.Result.trimmed(result.output)
        guard result.status == 0, let version = PostfixVersion(text) else {
            throw .postfixVersionUnknown(reason: "postconf -d -h mail_version printed \"\(text)\" and exited \(result.status)")
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
    public static func reloadIfRunning(configDirectory: String) throws(ConfigurationError) -> ReloadOutcome {
        func run(_ arguments: [String]) throws(ConfigurationError) -> PostfixProgram.Result {
            do {
                return try PostfixProgram.run("postfix", ["-c", configDirectory] + arguments)
            } catch {
                throw .reloadFailed(reason: error.description)
            }
        }
        guard try run(["status"]).status == 0 else { return .notRunning }
        let reload = try run(["reload"])
        guard reload.status == 0 else {
            throw .reloadFailed(reason: "postfix -c \(configDirectory) reload: \(reload.errorText)")
        }
        return .reloaded
    }
}
