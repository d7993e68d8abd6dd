// PostfixInstallation.swift: facts about the installed Postfix that the tool
// asks Postfix itself for (its version and built-in defaults), and its
// reload, rather than guessing.

import PostconfModel

#if canImport(Glibc)
import Glibc
#endif

public enum PostfixInstallation {
    /// The installed Postfix's built-in defaults, `postconf -c DIR -d` (with
    /// the per-service parameters of DIR's master.cf); their `version` is
    /// its mail_version.
    public static func defaults(configDirectory: String) throws(PostfixToolError) -> PostfixDefaults {
        try requireRegularFiles(configDirectory)
        let result = try PostfixProgram.run("postconf", ["-c", configDirectory, "-d"])
        let defaults = PostfixDefaults(postconfOutput: result.output)
        guard result.status == 0, PostfixVersion(defaults.version) != nil else {
            throw .unexpectedOutput(command: "postconf -d", output: "mail_version = \(defaults.version)", status: result.status)
        }
        return defaults
    }

    /// postconf opens main.cf and master.cf with a blocking open: a FIFO
    /// planted in their place would hang it, and this tool with it. Anything
    /// there but a regular file (or nothing) is left for the tool's own
    /// reading, which refuses it with the file's name.
    static func requireRegularFiles(_ configDirectory: String) throws(PostfixToolError) {
        for name in ["main.cf", "master.cf"] {
            var st = stat()
            let path = configDirectory + "/" + name
            if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
                throw .wrongResult("\(path) is not a regular file; postconf is not run on it")
            }
        }
    }

    /// What `reloadIfRunning` did.
    public enum ReloadOutcome: Sendable, Equatable {
        case reloaded
        case notRunning
    }

    /// `postfix -c DIR reload` when that instance is running (isRunning), so that daemons read the new main.cf, master.cf
    /// and tables that are read only at start-up.
    public static func reloadIfRunning(configDirectory: String) throws(PostfixToolError) -> ReloadOutcome {
        guard try isRunning(configDirectory: configDirectory) else { return .notRunning }
        let reload = try PostfixProgram.run("postfix", ["-c", configDirectory, "reload"])
        guard reload.status == 0 else {
            throw .failed(command: "postfix -c \(configDirectory) reload", status: reload.status, errors: reload.errorText)
        }
        return .reloaded
    }

    /// Whether the instance of DIR runs: its master.pid names a live
    /// process. Its queue can be asked only then (postqueue talks to its
    /// daemons). Not `postfix status`, which logs "the Postfix mail system
    /// is (not) running" to the mail log at every call, nor `master -t`,
    /// which only root may run and which takes the master's lock for a
    /// moment; reading the pid file has neither effect. The queue directory
    /// comes from postconf -h here; callers that have main.cf's model use
    /// isRunning(queueDirectory:) (postconf expands every parameter of
    /// main.cf, without bound).
    public static func isRunning(configDirectory: String) throws(PostfixToolError) -> Bool {
        try requireRegularFiles(configDirectory)
        let queue = try PostfixProgram.run("postconf", ["-c", configDirectory, "-h", "queue_directory"])
        let directory = PostfixProgram.Result.trimmed(queue.output)
        guard queue.status == 0, directory.hasPrefix("/") else {
            throw .unexpectedOutput(command: "postconf -h queue_directory", output: directory, status: queue.status)
        }
        return isRunning(queueDirectory: directory)
    }

    /// Whether the master of the instance with this queue directory runs.
    public static func isRunning(queueDirectory: String) -> Bool {
        queueDirectory.hasPrefix("/") && masterRuns(pidFile: queueDirectory + "/pid/master.pid")
    }

    /// Whether `pidFile` holds the pid of a live process (kill(pid, 0)
    /// succeeds, or fails only for want of permission).
    static func masterRuns(pidFile: String) -> Bool {
        let fd = open(pidFile, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return false }
        let text = PostfixProgram.Result.trimmed(Array(buffer[..<count]))
        guard let pid = pid_t(text), pid > 1 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
