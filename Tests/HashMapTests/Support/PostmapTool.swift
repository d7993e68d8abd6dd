// PostmapTool.swift: the real postmap's build, dump and query in HashMap's
// terms (access methods, IndexRecord), run through ExternalTool.postmap with a
// private configuration directory.

import Foundation
import HashMap
import PostfixTestSupport

struct PostmapTool {
    let configDirectory: String

    init(in directory: TestDirectory) throws {
        configDirectory = try directory.makeConfigDirectory()
    }

    /// Runs postmap with `arguments` (after -c), feeding `input` on stdin.
    func run(_ arguments: [String], input: String = "") throws -> ToolResult {
        try ExternalTool.postmap(arguments, configDirectory: configDirectory, input: Array(input.utf8))
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
        case 0: return result.outputText.trimmingCharacters(in: .newlines)
        case 1: return nil
        default: throw PostmapFailure(result: result)
        }
    }

    /// `postmap -q - method:source` with every key on stdin: key as given -> value.
    func queryAll(_ keys: [String], _ method: IndexAccessMethod, _ source: String) throws -> [String: String] {
        let result = try run(
            ["-q", "-", "\(method.rawValue):\(source)"],
            input: keys.joined(separator: "\n") + "\n")
        guard result.status == 0 || result.status == 1 else { throw PostmapFailure(result: result) }
        var answers: [String: String] = [:]
        for line in result.outputText.split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            answers[String(line[..<tab])] = String(line[line.index(after: tab)...])
        }
        return answers
    }
}

struct PostmapFailure: Error, CustomStringConvertible {
    var result: ToolResult
    var description: String { "postmap exited \(result.status): \(result.errors)" }
}

/// Records in a canonical order, to compare tables whose database order differs.
func sorted(_ records: [IndexRecord]) -> [IndexRecord] {
    records.sorted {
        $0.key != $1.key
            ? $0.key.lexicographicallyPrecedes($1.key)
            : $0.value.lexicographicallyPrecedes($1.value)
    }
}
