// Postmap.swift: runs Postfix's own postmap for the index types the
// tool does not write itself (lmdb:, cdb:, and hash: when Postfix 3.11
// redirects it). postmap exits 0 even when it skipped lines, so any output
// on stderr counts as failure.

public enum Postmap {
    public typealias Failure = PostfixToolError

    /// Runs postmap with `-c configDirectory` and `arguments`; returns stdout.
    /// Exit status 1 is `postmap -q`'s "not found", not a failure.
    public static func run(_ arguments: [String], configDirectory: String, input: [UInt8] = []) throws(Failure) -> [UInt8] {
        let result = try PostfixProgram.run("postmap", ["-c", configDirectory] + arguments, input: input)
        if (result.status != 0 && result.status != 1) || !result.errorText.isEmpty {
            throw .failed(command: "postmap \(arguments.joined(separator: " "))", status: result.status, errors: result.errorText)
        }
        return result.output
    }

    /// Whether the postmap-built index of the source at `path` holds exactly
    /// `expected`. `postmap -s` lists it; cdb cannot be listed, so there each
    /// expected key is looked up (`postmap -q -`), which cannot see records
    /// the source does not have.
    public static func indexHolds(_ expected: [[UInt8]: [UInt8]], type: String, path: String, configDirectory: String) throws(Failure) -> Bool {
        let output: [UInt8]
        if type == "cdb" {
            let keys: [UInt8] = expected.keys.flatMap { key -> [UInt8] in key + [0x0A] }
            output = try run(["-q", "-", "\(type):\(path)"], configDirectory: configDirectory, input: keys)
        } else {
            output = try run(["-s", "\(type):\(path)"], configDirectory: configDirectory)
        }
        return records(output) == expected
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
