// Postmap.swift: runs Postfix's own postmap for the index types the
// tool does not write itself (lmdb:, cdb:, and hash: when Postfix 3.11
// redirects it). postmap exits 0 after warnings (a duplicate key, first
// wins; a main.cf parameter defined twice): only a non-zero exit (1 is
// `-q`'s "not found") or a "fatal:" line is a failure, and the warnings are
// handed back for the caller to report.

public enum Postmap {
    public typealias Failure = PostfixToolError

    /// What postmap printed when it did not fail.
    public struct Output: Sendable {
        public var stdout: [UInt8]
        /// Its "warning:" lines, each once, without the "postmap: " prefix.
        public var warnings: [String]
    }

    /// How long building or listing a whole index may take: a table of
    /// millions of entries takes minutes, a query (the default) far less.
    public static let buildTimeout: Duration = .seconds(600)

    /// Runs postmap with `-c configDirectory` and `arguments`, killed after
    /// `timeout` (PostfixProgram.run).
    public static func run(
        _ arguments: [String], configDirectory: String, input: [UInt8] = [], timeout: Duration = PostfixProgram.defaultTimeout
    ) throws(Failure) -> Output {
        let result = try PostfixProgram.run("postmap", ["-c", configDirectory] + arguments, input: input, timeout: timeout)
        let lines = String(decoding: result.errors, as: UTF8.self).split(separator: "\n").map { line in
            line.hasPrefix("postmap: ") ? String(line.dropFirst("postmap: ".count)) : String(line)
        }
        if (result.status != 0 && result.status != 1) || lines.contains(where: { $0.hasPrefix("fatal:") }) {
            throw .failed(command: "postmap \(arguments.joined(separator: " "))", status: result.status, errors: result.errorText)
        }
        var warnings: [String] = []
        for line in lines where line.hasPrefix("warning:") && !warnings.contains(line) { warnings.append(line) }
        return Output(stdout: result.output, warnings: warnings)
    }

    /// Whether the postmap-built index of the source at `path` holds exactly
    /// `expected`, and what postmap warned while reading it. `postmap -s`
    /// lists it; cdb cannot be listed, so there each expected key is looked
    /// up (`postmap -q -`), which cannot see records the source does not have.
    public static func indexHolds(
        _ expected: [[UInt8]: [UInt8]], type: String, path: String, configDirectory: String
    ) throws(Failure) -> (holds: Bool, warnings: [String]) {
        let output: Output
        if type == "cdb" {
            let keys: [UInt8] = expected.keys.flatMap { key -> [UInt8] in key + [0x0A] }
            output = try run(["-q", "-", "\(type):\(path)"], configDirectory: configDirectory, input: keys, timeout: buildTimeout)
        } else {
            output = try run(["-s", "\(type):\(path)"], configDirectory: configDirectory, timeout: buildTimeout)
        }
        return (records(output.stdout) == expected, output.warnings)
    }

    /// "key<TAB>value" lines (postmap -s, postmap -q -) as records.
    public static func records(_ output: [UInt8]) -> [[UInt8]: [UInt8]] {
        var records: [[UInt8]: [UInt8]] = [:]
        for line in output.split(separator: 0x0A) {
            guard let tab = line.firstIndex(of: 0x09) else { continue }
            records[Array(line[..<tab])] = Array(line[(tab + 1)...])
        }
        return records
    }
}
