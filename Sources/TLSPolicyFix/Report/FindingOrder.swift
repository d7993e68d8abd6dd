// FindingOrder.swift: the order findings are shown in, and their counts per
// file. A large configuration's findings come from many files in the order
// the inspection met them; a person reads them by file (paths in byte
// order) and by line within a file, a finding about a whole file (no line)
// first, findings at the same place in the order found.

import PostconfModel

public enum FindingOrder {
    /// `findings` by file, then line. The common case, one table's entries
    /// already in line order, costs one pass and no copy.
    public static func byFileAndLine(_ findings: [Finding]) -> [Finding] {
        let runs = pathRuns(findings)
        let paths = runs.keys.sorted()
        if runs.count == 1 || isInOrder(findings, paths: paths) {
            if runs.values.allSatisfy({ linesAscend($0, findings) }) { return findings }
        }
        var result: [Finding] = []
        result.reserveCapacity(findings.count)
        for path in paths {
            var indices = runs[path]!
            if !linesAscend(indices, findings) {
                indices.sort { (findings[$0].location.line ?? 0, $0) < (findings[$1].location.line ?? 0, $1) }
            }
            for index in indices { result.append(findings[index]) }
        }
        return result
    }

    /// The indices of each path's findings, in the order found. A path is
    /// hashed once per run of findings about it, not once per finding.
    private static func pathRuns(_ findings: [Finding]) -> [String: [Int]] {
        var runs: [String: [Int]] = [:]
        var start = 0
        while start < findings.count {
            let path = findings[start].location.path
            var end = start + 1
            while end < findings.count, findings[end].location.path == path { end += 1 }
            runs[path, default: []].append(contentsOf: start..<end)
            start = end
        }
        return runs
    }

    /// Whether the files' findings already come one file after another in
    /// `paths`' order.
    private static func isInOrder(_ findings: [Finding], paths: [String]) -> Bool {
        var next = 0
        var current: String?
        for finding in findings where finding.location.path != current {
            guard next < paths.count, paths[next] == finding.location.path else { return false }
            current = finding.location.path
            next += 1
        }
        return true
    }

    private static func linesAscend(_ indices: [Int], _ findings: [Finding]) -> Bool {
        var previous = Int.min
        for index in indices {
            let line = findings[index].location.line ?? 0
            if line < previous { return false }
            previous = line
        }
        return true
    }
}

/// How many findings of each kind.
public struct FindingCounts: Sendable, Equatable {
    public var fixable = 0
    public var errors = 0
    public var manual = 0
    public var notes = 0

    public init() {}

    public init(_ findings: some Sequence<Finding>) {
        for finding in findings { add(finding.severity) }
    }

    public mutating func add(_ severity: Finding.Severity) {
        switch severity {
        case .fixable: fixable += 1
        case .error: errors += 1
        case .manual: manual += 1
        case .note: notes += 1
        }
    }

    /// "3 fixable, 1 error, 2 notes": the kinds there are, worst last.
    public var description: String {
        var parts: [String] = []
        if fixable > 0 { parts.append("\(fixable) fixable") }
        if manual > 0 { parts.append("\(manual) to fix by hand") }
        if errors > 0 { parts.append("\(errors) error\(errors == 1 ? "" : "s")") }
        if notes > 0 { parts.append("\(notes) note\(notes == 1 ? "" : "s")") }
        return parts.joined(separator: ", ")
    }
}

/// One file's counts.
public struct FileFindingCounts: Sendable, Equatable {
    public var path: String
    public var counts: FindingCounts

    /// Every file with findings, in the order `findings` names them first
    /// (by file, once the findings are in FindingOrder).
    public static func of(_ findings: [Finding]) -> [FileFindingCounts] {
        var result: [FileFindingCounts] = []
        var position: [String: Int] = [:]
        var current = -1
        for finding in findings {
            if current < 0 || result[current].path != finding.location.path {
                if let known = position[finding.location.path] {
                    current = known
                } else {
                    position[finding.location.path] = result.count
                    current = result.count
                    result.append(FileFindingCounts(path: finding.location.path, counts: FindingCounts()))
                }
            }
            result[current].counts.add(finding.severity)
        }
        return result
    }
}
