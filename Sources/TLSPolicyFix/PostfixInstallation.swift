// PostfixInstallation.swift: facts about the installed Postfix that the tool
// asks Postfix itself for (its version), rather than guessing.

import Foundation
import PostconfModel

public enum PostfixInstallation {
    /// The installed Postfix's version, from `postconf -d -h mail_version`.
    /// Throws with the reason when postconf cannot be run or answers oddly.
    public static func version() throws(ConfigurationError) -> PostfixVersion {
        let candidates = ["/usr/sbin/postconf", "/usr/local/sbin/postconf"]
        guard let postconf = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw .postfixVersionUnknown(reason: "postconf not found in /usr/sbin or /usr/local/sbin")
        }
        let result: (status: Int32, output: [UInt8])
        do {
            result = try runCapturingOutput(postconf, ["-d", "-h", "mail_version"])
        } catch {
            throw .postfixVersionUnknown(reason: "cannot run \(postconf): \(String(cString: strerror(error.code)))")
        }
        let text = String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, let version = PostfixVersion(text) else {
            throw .postfixVersionUnknown(reason: "\(postconf) -d -h mail_version printed \"\(text)\" and exited \(result.status)")
        }
        return version
    }

    struct SpawnError: Error {
        var code: Int32
    }

    /// Runs a program with standard error discarded; its exit status (-1
    /// when killed by a signal) and standard output. Foundation's Process
    /// waits for the child in a run loop that polls in steps of 50-100 ms,
    /// which made every run of the tool that much slower; this waits with
    /// waitpid.
    static func runCapturingOutput(_ path: String, _ arguments: [String]) throws(SpawnError) -> (status: Int32, output: [UInt8]) {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw SpawnError(code: errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(pipeEnds[1])
        guard spawned == 0 else {
            close(pipeEnds[0])
            throw SpawnError(code: spawned)
        }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            output += chunk[0..<count]
        }
        close(pipeEnds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw SpawnError(code: errno) }
        }
        let exited = status & 0x7F == 0
        return (exited ? (status >> 8) & 0xFF : -1, output)
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
        let candidates = ["/usr/sbin/postfix", "/usr/local/sbin/postfix"]
        guard let postfix = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw .reloadFailed(reason: "postfix not found in /usr/sbin or /usr/local/sbin")
        }
        func run(_ arguments: [String]) throws(ConfigurationError) -> (status: Int32, errors: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: postfix)
            process.arguments = ["-c", configDirectory] + arguments
            let errors = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            do { try process.run() } catch {
                throw .reloadFailed(reason: "cannot run \(postfix): \(error.localizedDescription)")
            }
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard try run(["status"]).status == 0 else { return .notRunning }
        let reload = try run(["reload"])
        guard reload.status == 0 else {
            throw .reloadFailed(reason: "postfix -c \(configDirectory) reload: \(reload.errors)")
        }
        return .reloaded
    }
}
