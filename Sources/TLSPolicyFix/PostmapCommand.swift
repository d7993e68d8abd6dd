// PostmapCommand.swift: runs Postfix's own postmap for the index types the
// tool does not write itself (lmdb:, cdb:, and hash: when Postfix 3.11
// redirects it). postmap exits 0 even when it skipped lines, so any output
// on stderr counts as failure.

import Foundation

enum PostmapCommand {
    static let candidates = ["/usr/sbin/postmap", "/usr/local/sbin/postmap"]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs postmap with `-c configDirectory` and `arguments`; returns stdout.
    static func run(_ arguments: [String], configDirectory: String, input: [UInt8] = []) throws(Failure) -> [UInt8] {
        guard let postmap = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "postmap not found in /usr/sbin or /usr/local/sbin")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: postmap)
        process.arguments = ["-c", configDirectory] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run \(postmap): \(error.localizedDescription)")
        }
        // Feed stdin and drain stdout/stderr concurrently so no pipe fills up.
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let errorData = LockedData()
        let errorReader = Thread { errorData.set(stderr.fileHandleForReading.readDataToEndOfFile()) }
        errorReader.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { usleep(1000) }
        let errors = String(decoding: errorData.value, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if process.terminationStatus != 0 && process.terminationStatus != 1 || !errors.isEmpty {
            throw Failure(description: "postmap \(arguments.joined(separator: " ")): " + (errors.isEmpty ? "exit status \(process.terminationStatus)" : errors))
        }
        return Array(output)
    }

    /// Whether the postmap-built index of the source at `path` holds exactly
    /// `expected`. `postmap -s` lists it; cdb cannot be listed, so there each
    /// expected key is looked up (`postmap -q -`), which cannot see records
    /// the source does not have.
    static func indexHolds(_ expected: [[UInt8]: [UInt8]], type: String, path: String, configDirectory: String) throws(Failure) -> Bool {
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
    static func records(_ output: [UInt8]) -> [[UInt8]: [UInt8]] {
        var records: [[UInt8]: [UInt8]] = [:]
        for line in output.split(separator: 0x0A) {
            guard let tab = line.firstIndex(of: 0x09) else { continue }
            records[Array(line[..<tab])] = Array(line[(tab + 1)...])
        }
        return records
    }
}

/// Data handed from a reader thread to the caller.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return data != nil }
    var value: Data { lock.lock(); defer { lock.unlock() }; return data ?? Data() }
}
