// PostmapTool.swift: runs the real Debian /usr/sbin/postmap with a private
// configuration directory (a minimal main.cf), since /etc/postfix/main.cf may
// not exist where the tests run.

import Foundation
import HashMap

struct PostmapResult {
    var status: Int32
    var output: [UInt8]
    var errors: String
}

struct PostmapTool {
    let configDirectory: String

    init(in directory: TemporaryDirectory) throws {
        configDirectory = try directory.makeDirectory("postfix-config")
        let mainCf = "\(configDirectory)/main.cf"
        try writeFile(mainCf, "compatibility_level = 3.6\n")
        // Postfix re-reads a main.cf modified within the last second, pausing
        // 300 ms each time "to let it cool down"; backdate it so each test
        // does not spend 1.5 s waiting.
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: mainCf)
    }

    /// Runs postmap with `arguments` (after -c), feeding `input` on stdin.
    /// Output goes through files so a large dump can never fill a pipe.
    func run(_ arguments: [String], input: String? = nil) throws -> PostmapResult {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("postmap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out")
        let errURL = scratch.appendingPathComponent("err")
        let inURL = scratch.appendingPathComponent("in")
        try Data((input ?? "").utf8).write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/postmap")
        process.arguments = ["-c", configDirectory] + arguments
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        return PostmapResult(
            status: process.terminationStatus,
            output: Array(try Data(contentsOf: outURL)),
            errors: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// `postmap method:source`; returns its warnings.
    @discardableResult
    func build(_ method: IndexAccessMethod, _ source: String) throws -> String {
        let result = try run(["\(method.rawValue):\(source)"])
        guard result.status == 0 else { throw PostmapFailure(result: result) }
        return result.errors
    }

    /// `postmap -s method:source`, each line split on its first TAB.
    func dump(_ method: IndexAccessMethod, _ source: String) throws -> [IndexRecord] {
        let result = try run(["-s", "\(method.rawValue):\(source)"])
        guard result.status == 0 else { throw PostmapFailure(result: result) }
        return result.output.split(separator: UInt8(ascii: "\n")).map { line in
            let tab = line.firstIndex(of: UInt8(ascii: "\t")) ?? line.endIndex
            let value = tab == line.endIndex ? [] : Array(line[line.index(after: tab)...])
            return IndexRecord(key: Array(line[..<tab]), value: value)
        }
    }

    /// `postmap -q key method:source`: the value, or nil when postmap exits 1.
    func query(_ key: String, _ method: IndexAccessMethod, _ source: String) throws -> String? {
        let result = try run(["-q", key, "\(method.rawValue):\(source)"])
        switch result.status {
        case 0: return String(decoding: result.output, as: UTF8.self)
            .trimmingCharacters(in: .newlines)
        case 1: return nil
        default: throw PostmapFailure(result: result)
        }
    }

    /// `postmap -q - method:source` with every key on stdin: key as given -> value.
    func queryAll(_ keys: [String], _ method: IndexAccessMethod, _ source: String) throws -> [String: String] {
        let result = try run(["-q", "-", "\(method.rawValue):\(source)"],
                             input: keys.joined(separator: "\n") + "\n")
        guard result.status == 0 || result.status == 1 else { throw PostmapFailure(result: result) }
        var answers: [String: String] = [:]
        for line in String(decoding: result.output, as: UTF8.self).split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            answers[String(line[..<tab])] = String(line[line.index(after: tab)...])
        }
        return answers
    }
}

struct PostmapFailure: Error, CustomStringConvertible {
    var result: PostmapResult
    var description: String { "postmap exited \(result.status): \(result.errors)" }
}

/// Records in a canonical order, to compare tables whose database order differs.
func sorted(_ records: [IndexRecord]) -> [IndexRecord] {
    records.sorted {
        $0.key != $1.key ? $0.key.lexicographicallyPrecedes($1.key)
                         : $0.value.lexicographicallyPrecedes($1.value)
    }
}
