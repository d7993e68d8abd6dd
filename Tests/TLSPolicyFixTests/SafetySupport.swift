// SafetySupport.swift: what the safety tests share: a configuration with
// many kinds of files to write (hash and btree tables, a symlinked source
// and index, files owned by another user with modes 0640 and 0600, an index
// that only needs a rebuild, a main.cf change), and exact snapshots of a
// tree (bytes or index records, owner, mode, link targets) to compare a
// configuration with its old and new versions.

import Foundation
import HashMap
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One entry of a directory tree, as exactly as the safety tests compare it.
enum TreeEntry: Equatable, CustomStringConvertible {
    case directory(mode: mode_t, uid: uid_t, gid: gid_t)
    /// Regular file; `records` instead of bytes for indexes (.db), whose
    /// bytes differ between two builds of the same records.
    case file(bytes: [UInt8], records: [IndexRecord]?, mode: mode_t, uid: uid_t, gid: gid_t)
    case symlink(target: String)

    var description: String {
        switch self {
        case let .directory(mode, uid, gid): return "directory \(String(mode, radix: 8)) \(uid):\(gid)"
        case let .file(bytes, records, mode, uid, gid):
            return "file \(records.map { "\($0.count) records" } ?? "\(bytes.count) bytes") \(String(mode, radix: 8)) \(uid):\(gid)"
        case let .symlink(target): return "symlink -> \(target)"
        }
    }
}

/// A whole tree: relative path -> entry.
struct TreeSnapshot: Equatable {
    var entries: [String: TreeEntry]

    init(_ root: String) throws {
        entries = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let path = root + "/" + relative
            var st = stat()
            guard lstat(path, &st) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                entries[relative] = .directory(mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid)
            case S_IFLNK:
                entries[relative] = .symlink(target: try FileManager.default.destinationOfSymbolicLink(atPath: path))
            default:
                let isIndex = relative.hasSuffix(".db") && !relative.hasPrefix(".") && !relative.contains("/.")
                let records =
                    isIndex
                    ? try ((try? IndexFile.readAll(path: path, method: .hash)) ?? IndexFile.readAll(path: path, method: .btree))
                        .sorted { $0.key.lexicographicallyPrecedes($1.key) }
                    : nil
                entries[relative] = .file(
                    bytes: isIndex ? [] : try readBytes(path), records: records,
                    mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid)
            }
        }
    }

    /// What a killed run may leave besides the configuration: staged
    /// temporary files and the journal (dot files), and postconf's lock
    /// file main.cf.tmp (empty; a crashed postconf leaves the same).
    var leftovers: [String] {
        entries.keys.filter { path in
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return name.hasPrefix(".") || name == "main.cf.tmp"
        }.sorted()
    }

    /// The snapshot without leftovers.
    var withoutLeftovers: TreeSnapshot {
        var copy = self
        for name in leftovers { copy.entries[name] = nil }
        return copy
    }

    /// Paths whose entry differs from `other`'s (or exists in one only).
    func differences(from other: TreeSnapshot) -> [String] {
        Set(entries.keys).union(other.entries.keys).filter { entries[$0] != other.entries[$0] }.sorted()
    }
}

/// Builds the many-files configuration the crash and concurrency tests use.
struct SafetyScenario {
    /// Tables named maps/t0 ... maps/t(count-1); t1 is btree.
    let tableCount: Int
    let entriesPerTable = 12

    /// The key that identifies entry `entry` of table `table` (unique across tables).
    func key(_ table: Int, _ entry: Int) -> String { "d\(table)-\(entry).example" }
    func isVerify(_ entry: Int) -> Bool { entry % 3 != 2 }

    /// Every table as the map spec main.cf names.
    var mapSpecs: [String] {
        (0..<tableCount).map { "\($0 == 1 ? "btree" : "hash"):$config_directory/maps/t\($0)" }
            + ["hash:$config_directory/maps/linked", "hash:$config_directory/maps/stale"]
    }

    func source(_ table: Int) -> String {
        var text = "# table \(table)\n"
        for entry in 0..<entriesPerTable {
            text += "\(key(table, entry))\t\(isVerify(entry) ? "verify" : "encrypt")\n"
        }
        return text
    }

    /// Writes the configuration into `config` (created), indexes built by
    /// the real postmap, with owners, modes and links set.
    func write(into directory: TestDirectory, at config: String) throws {
        let prefix = String(config.dropFirst(directory.path.count + 1))
        let mapList = mapSpecs.joined(separator: ",\n    ")
        try directory.write(
            prefix + "/main.cf",
            """
            compatibility_level = 3.6
            smtp_tls_policy_maps = \(mapList)
            lmtp_tls_security_level = verify

            """, mode: 0o640)
        for table in 0..<tableCount {
            try directory.write(prefix + "/maps/t\(table)", source(table), mode: table == 2 ? 0o600 : 0o644)
        }
        try directory.write(prefix + "/real/policy", "linked.example verify\nother.example may\n")
        try FileManager.default.createSymbolicLink(atPath: config + "/maps/linked", withDestinationPath: "../real/policy")
        try directory.write(prefix + "/maps/stale", "stale.example verify servername=hostname\n")
        try directory.write(prefix + "/maps/t0.template", "unrelated file that must stay\n", mode: 0o444)

        let postmapSpecs = mapSpecs.map { $0.replacingOccurrences(of: "$config_directory", with: config) }
        for spec in postmapSpecs where !spec.hasSuffix("/linked") {
            let built = try ExternalTool.postmap([spec], configDirectory: config)
            #expect(built.status == 0, "postmap \(spec): \(built.errors)")
        }
        // The linked table's index lives beside its real source, linked too.
        let built = try ExternalTool.postmap(["hash:" + config + "/real/policy"], configDirectory: config)
        #expect(built.status == 0, "\(built.errors)")
        try FileManager.default.createSymbolicLink(atPath: config + "/maps/linked.db", withDestinationPath: "../real/policy.db")
        // Stale: the source was edited after the index was built.
        try directory.write(prefix + "/maps/stale", "stale.example verify servername=hostname\nnew.example encrypt\n")

        if geteuid() == 0 {
            for name in ["maps/t1", "maps/t1.db", "maps/t2", "maps/t2.db"] {
                #expect(chown(config + "/" + name, 1234, 2345) == 0)
            }
            #expect(chmod(config + "/maps/t1", 0o640) == 0)
            #expect(chmod(config + "/maps/t1.db", 0o640) == 0)
            #expect(chmod(config + "/maps/t2", 0o600) == 0)
        }
        for path in try FileManager.default.subpathsOfDirectory(atPath: config) { backdate(config + "/" + path) }
    }

    /// Every key with the value Postfix answers for it, as `postmap -q -`
    /// prints it when asked through every table at once ("key\tvalue").
    var allKeys: [String] {
        (0..<tableCount).flatMap { table in (0..<entriesPerTable).map { key(table, $0) } }
            + ["linked.example", "other.example", "stale.example", "new.example"]
    }

    /// `postmap -q - TABLE...` over every table: key -> value.
    func lookUpAll(config: String) throws -> [String: String] {
        let specs = mapSpecs.map { $0.replacingOccurrences(of: "$config_directory", with: config) }
        let result = try ExternalTool.postmap(
            ["-q", "-"] + specs, configDirectory: config, input: Array((allKeys.joined(separator: "\n") + "\n").utf8))
        #expect(result.status == 0, "postmap -q: \(result.errors)")
        var values: [String: String] = [:]
        for line in result.outputText.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }
}

/// Makes `root` an exact copy of `pristine` (owners, modes, times, links).
func restoreTree(_ pristine: String, to root: String) throws {
    try? FileManager.default.removeItem(atPath: root)
    let copy = try ExternalTool.run("/bin/cp", ["-a", pristine, root])
    #expect(copy.status == 0, "cp -a: \(copy.errors)")
}

/// A process started in the background, with its output going to files.
final class BackgroundProcess {
    let process = Process()
    let scratch: TestDirectory
    let outPath: String
    let errPath: String

    init(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:]) throws {
        scratch = try TestDirectory("ptf-bg")
        outPath = try scratch.write("out", [])
        errPath = try scratch.write("err", [])
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MAIL_CONFIG"] = nil
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }

    /// Waits until the process has stopped itself (SIGSTOP) or `limit` passed.
    func waitUntilStopped(limit: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                status.contains("(stopped)")
            {
                return true
            }
            usleep(20_000)
        }
        return false
    }

    func resume() { kill(pid, SIGCONT) }

    struct Finished {
        var status: Int32
        var outputText: String
        var errors: String
    }

    /// Waits for the exit and returns status, standard output and error.
    func finish() throws -> Finished {
        process.waitUntilExit()
        return Finished(
            status: process.terminationStatus, outputText: String(decoding: try readBytes(outPath), as: UTF8.self),
            errors: String(decoding: try readBytes(errPath), as: UTF8.self))
    }
}
