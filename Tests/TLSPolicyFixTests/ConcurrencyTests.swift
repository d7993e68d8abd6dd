// ConcurrencyTests.swift: apply never interleaves with another apply, with
// postconf -e or with postmap. Two applies at once give the result of one
// (the second finds nothing to do); an apply waits for the locks postmap
// and postconf hold, and the real postmap and postconf wait for apply's
// (an apply is stopped mid-run by the DEBUG-only FaultInjection hook).

import FileSafety
import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ConcurrencyTests {
    let directory: TestDirectory
    let config: String
    let scenario = SafetyScenario(tableCount: 3)
    static let version = ["--postfix-version", "3.7.11"]

    init() throws {
        directory = try TestDirectory("ptf-concurrent")
        config = directory.file("postfix")
        try scenario.write(into: directory, at: config)
    }

    func startApply(stopAt point: String? = nil) throws -> BackgroundProcess {
        try BackgroundProcess(
            FixerBinary.path, ["-c", config] + Self.version + ["apply"],
            environment: point.map { ["POSTFIX_TLS_FIX_TEST_STOP_AT": $0] } ?? [:])
    }

    /// The configuration one apply alone makes of this one.
    func appliedOnce() throws -> TreeSnapshot {
        let copy = directory.file("reference")
        try restoreTree(config, to: copy)
        #expect(try FixerBinary.run(["-c", copy] + Self.version + ["apply"]).status == 0)
        return try TreeSnapshot(copy)
    }

    /// Whether the process is still running after `seconds`.
    func stillRunning(_ process: BackgroundProcess, after seconds: Double) -> Bool {
        usleep(useconds_t(seconds * 1_000_000))
        return process.process.isRunning
    }

    @Test func twoAppliesAtOnceGiveTheResultOfOne() throws {
        let expected = try appliedOnce()
        let first = try startApply()
        let second = try startApply()
        let results = [try first.finish(), try second.finish()]
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.errors))")
        #expect(results.filter { $0.outputText.hasSuffix("nothing to do\n") }.count == 1, "\(results.map(\.outputText))")
        #expect(try TreeSnapshot(config) == expected)
    }

    @Test func applyWaitsForAnotherApplyHoldingTheDirectoryLock() throws {
        let lock = try #require(try FileLock.ownLockFile(config + "/.postfix-tls-fix.lock", timeout: .zero))
        let before = try treeStamps(config)
        let apply = try startApply()
        #expect(stillRunning(apply, after: 0.5))
        #expect(try treeStamps(config) == before)
        lock.release()
        #expect(try apply.finish().status == 0)
        #expect(try treeStamps(config) != before)
    }

    @Test func postconfEditWaitsForApplyAndKeepsBothChanges() throws {
        let apply = try startApply(stopAt: "apply: writers locked")
        try #require(apply.waitUntilStopped())
        let postconf = try BackgroundProcess("/usr/sbin/postconf", ["-c", config, "-e", "myhostname=mx.example"])
        #expect(stillRunning(postconf, after: 0.5), "postconf -e did not wait for apply's lock on main.cf.tmp")
        apply.resume()
        let applied = try apply.finish()
        #expect(applied.status == 0, "\(applied.errors)")
        #expect(try postconf.finish().status == 0)
        let main = String(decoding: try readBytes(config + "/main.cf"), as: UTF8.self)
        #expect(main.contains("lmtp_tls_servername = hostname\n"), "apply's change was lost: \(main)")
        #expect(main.contains("myhostname = mx.example\n"), "postconf's change was lost: \(main)")
        #expect(!FileManager.default.fileExists(atPath: config + "/main.cf.tmp"))
    }

    @Test func applyWaitsForPostconfsLock() throws {
        let postconfLock = try FileLock.postfixEdit(of: config + "/main.cf")
        let before = try treeStamps(config)
        let apply = try startApply()
        #expect(stillRunning(apply, after: 0.5))
        #expect(try treeStamps(config) == before)
        postconfLock.release()
        #expect(try apply.finish().status == 0)
        #expect(String(decoding: try readBytes(config + "/main.cf"), as: UTF8.self).contains("lmtp_tls_servername = hostname\n"))
    }

    @Test func applyWaitsForPostmapsLockAndPostmapForApplys() throws {
        // An apply waits while postmap holds its exclusive lock on the index.
        let index = config + "/maps/t0.db"
        let postmapLock = try FileLock.exclusive(path: index, timeout: .zero)
        // File stamps, not a TreeSnapshot: reading the index would wait for our own lock.
        let before = try treeStamps(config)
        let apply = try startApply()
        #expect(stillRunning(apply, after: 0.5))
        #expect(try treeStamps(config) == before)
        postmapLock.release()
        #expect(try apply.finish().status == 0)
        #expect(try scenario.lookUpAll(config: config)["d0-0.example"] == "verify servername=hostname")

        // The real postmap waits while apply holds that lock.
        try directory.write("postfix/maps/t0", scenario.source(0) + "added.example verify\n")
        backdate(config + "/maps/t0")
        let second = try startApply(stopAt: "apply: writers locked")
        try #require(second.waitUntilStopped())
        let postmap = try BackgroundProcess("/usr/sbin/postmap", ["-c", config, "hash:" + config + "/maps/t0"])
        #expect(stillRunning(postmap, after: 0.5), "postmap did not wait for apply's lock on the index")
        second.resume()
        #expect(try second.finish().status == 0)
        #expect(try postmap.finish().status == 0)
        // postmap opened the source before it waited, so it rebuilt the
        // index from the source as it was then: the index is whole and
        // valid, and either apply's or postmap's (see docs/safety.md).
        // The next apply brings the index in line with the source.
        func added() throws -> String {
            try ExternalTool.postmap(["-q", "added.example", "hash:" + config + "/maps/t0"], configDirectory: config).outputText
        }
        let value = try added()
        #expect(value == "verify servername=hostname\n" || value == "verify\n", "\(value)")
        #expect(try FixerBinary.run(["-c", config] + Self.version + ["apply"]).status == 0)
        #expect(try added() == "verify servername=hostname\n")
    }
}

/// A line appended to a table source while apply renames its new version
/// into place goes to the old file, which the rename takes out of the tree:
/// apply keeps that old version beside the table, names it, and exits 3 so
/// that automation does not take the run as complete.
struct LateChangeTests {
    @Test func aLineAppendedDuringTheCommitIsKeptAndReported() throws {
        let directory = try TestDirectory("ptf-late")
        let config = directory.file("postfix")
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = texthash:$config_directory/policy\n")
        let source = try directory.write("postfix/policy", "a.example verify\n")
        backdate(source)
        let apply = try BackgroundProcess(
            FixerBinary.path, ["-c", config, "--postfix-version", "3.7.11", "apply"],
            environment: ["POSTFIX_TLS_FIX_TEST_STOP_AT": "journal: written (commit point)"])
        try #require(apply.waitUntilStopped())
        // An editor appends by name: the name still holds the old file.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("late.example verify\n".utf8))
        try handle.close()
        apply.resume()
        let result = try apply.finish()
        #expect(result.status == 3, "exit \(result.status): \(result.outputText)\(result.errors)")
        #expect(
            result.errors.contains(
                "policy was changed by another program while apply replaced it; that version is kept as policy.changed-during-apply"),
            "\(result.errors)")
        let kept = String(decoding: try readBytes(source + ".changed-during-apply"), as: UTF8.self)
        #expect(kept == "a.example verify\nlate.example verify\n")
        #expect(String(decoding: try readBytes(source), as: UTF8.self) == "a.example verify servername=hostname\n")
    }
}
