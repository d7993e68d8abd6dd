// ExternalTool.swift: runs the real Postfix tools (and the built
// postfix-tls-fix) the tests compare against. Output goes through files so a
// large dump can never fill a pipe.

import Foundation

public struct ToolResult: Sendable {
    public var status: Int32
    public var output: [UInt8]
    public var errors: String

    public var outputText: String { String(decoding: output, as: UTF8.self) }
}

public enum ExternalTool {
    /// Runs `executable` with `arguments`, feeding `input` on stdin.
    public static func run(_ executable: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String]? = nil) throws
        -> ToolResult
    {
        let scratch = try TestDirectory("tool-run")
        let inPath = try scratch.write("in", input)
        let outPath = try scratch.write("out", [])
        let errPath = try scratch.write("err", [])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        process.waitUntilExit()
        return ToolResult(
            status: process.terminationStatus,
            output: try readBytes(outPath),
            errors: String(decoding: try readBytes(errPath), as: UTF8.self))
    }

    /// The real postmap, with `-c configDirectory` first.
    public static func postmap(_ arguments: [String], configDirectory: String, input: [UInt8] = []) throws -> ToolResult {
        try run("/usr/sbin/postmap", ["-c", configDirectory] + arguments, input: input)
    }

    /// The real postconf, with `-c configDirectory` first.
    public static func postconf(_ arguments: [String], configDirectory: String) throws -> ToolResult {
        try run("/usr/sbin/postconf", ["-c", configDirectory] + arguments)
    }
}

extension TestDirectory {
    /// A configuration directory `name` holding only `mainCf` (backdated, as
    /// every write is), for postmap and postconf runs that must not depend on
    /// /etc/postfix/main.cf, which may not exist where the tests run.
    @discardableResult
    public func makeConfigDirectory(_ name: String = "postfix-config", mainCf: String = "compatibility_level = 3.6\n") throws -> String {
        try write(name + "/main.cf", mainCf)
        return file(name)
    }
}
