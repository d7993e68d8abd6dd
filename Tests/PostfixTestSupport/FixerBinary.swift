// FixerBinary.swift: runs the built postfix-tls-fix executable, as users and
// scripts do, to test its output and exit status.

import Foundation

public enum FixerBinary {
    /// The executable beside the test bundle in SwiftPM's build directory.
    public static var path: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // The runner may be inside the .xctest bundle's Contents on some layouts.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("postfix-tls-fix").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return repositoryRoot + "/.build/debug/postfix-tls-fix"
    }

    /// Runs the tool with `arguments` and no MAIL_CONFIG from the environment.
    /// With `within`, a run that takes longer is killed (status 124, as
    /// timeout(1) reports it): a test of a hang fails instead of hanging.
    public static func run(_ arguments: [String], environment extra: [String: String] = [:], within seconds: Int? = nil) throws
        -> ToolResult
    {
        var environment = ProcessInfo.processInfo.environment
        environment["MAIL_CONFIG"] = nil
        environment["NO_COLOR"] = "1"
        environment.merge(extra) { $1 }
        guard let seconds else { return try ExternalTool.run(path, arguments, environment: environment) }
        return try ExternalTool.run("/usr/bin/timeout", ["-k", "2", "\(seconds)", path] + arguments, environment: environment)
    }
}
