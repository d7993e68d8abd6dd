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
        let stamps = try treeStamps(config)
        let second = try startApply(stopAt: "apply: writers locked")
        try #require(second.waitUntilStopped())
        let postmap = try BackgroundProcess("/usr/sbin/postmap", ["-c", config, "hash:" + config + "/maps/t0"])
        try #require(waitUntilBlockedOnLock(postmap.pid), "postmap did not wait for apply's lock on the index")
        second.resume()
        // postmap opened the index (for writing) and the source before it
        // waited: once it has the lock it rebuilds, by name, whatever file
        // is there from the source as it read it. apply sees the waiting
        // writer and replaces nothing.
        let refused = try second.finish()
        #expect(refused.status == 2, "\(refused.outputText)\(refused.errors)")
        #expect(
            refused.errors.contains("maps/t0.db: open for writing by postmap (pid \(postmap.pid))"), "\(refused.errors)")
        #expect(refused.errors.contains("nothing replaced"), "\(refused.errors)")
        // Every file as it was; postmap (which got the lock as apply
        // exited) rebuilds the old index in place, in the same inode.
        var after = try treeStamps(config)
        #expect(after.removeValue(forKey: "maps/t0.db")?.inode == stamps["maps/t0.db"]?.inode)
        #expect(after == stamps.filter { $0.key != "maps/t0.db" })
        #expect(try postmap.finish().status == 0)
        func added() throws -> String {
            try ExternalTool.postmap(["-q", "added.example", "hash:" + config + "/maps/t0"], configDirectory: config).outputText
        }
        #expect(try added() == "verify\n")
        #expect(try FixerBinary.run(["-c", config] + Self.version + ["apply"]).status == 0)
        #expect(try added() == "verify servername=hostname\n")
    }

    @Test func aPostmapThatStartsAfterTheLastLookIsReported() throws {
        // postmap opens the old index after apply looked for writers and
        // waits for its lock; when it gets it, it rebuilds apply's new
        // index by name from the source it read. That cannot be stopped
        // (rename(2) has no compare-and-swap) but it is seen and reported.
        try directory.write("postfix/maps/t0", scenario.source(0) + "added.example verify\n")
        backdate(config + "/maps/t0")
        let apply = try startApply(stopAt: "journal: written (commit point)")
        try #require(apply.waitUntilStopped())
        let postmap = try BackgroundProcess("/usr/sbin/postmap", ["-c", config, "hash:" + config + "/maps/t0"])
        try #require(waitUntilBlockedOnLock(postmap.pid), "postmap did not wait for apply's lock on the index")
        apply.resume()
        let result = try apply.finish()
        #expect(try postmap.finish().status == 0)
        #expect(result.status == 3, "\(result.outputText)\(result.errors)")
        #expect(
            result.errors.contains(
                "maps/t0.db was open for writing by postmap (pid \(postmap.pid)) while apply replaced it; it may rebuild the new file from what it read"
            ), "\(result.errors)")
        #expect(try FixerBinary.run(["-c", config] + Self.version + ["apply"]).status == 0)
        #expect(
            try ExternalTool.postmap(["-q", "added.example", "hash:" + config + "/maps/t0"], configDirectory: config).outputText
                == "verify servername=hostname\n")
    }

    /// Waits until `pid` waits for a lock (a "->" line of /proc/locks).
    func waitUntilBlockedOnLock(_ pid: pid_t, limit: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            let locks = (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? ""
            if locks.split(separator: "\n").contains(where: { $0.contains("->") && $0.split(separator: " ").contains("\(pid)") }) {
                return true
            }
            usleep(20_000)
        }
        return false
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

    @Test func aLineAppendedWhileAnInterruptedApplyIsCompletedIsKept() throws {
        let directory = try TestDirectory("ptf-late-recovery")
        let config = directory.file("postfix")
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/policy\n")
        let source = try directory.write("postfix/policy", "a.example verify\n")
        #expect(try ExternalTool.postmap(["hash:" + source], configDirectory: config).status == 0)
        backdate(source)
        func start(stopAt point: String) throws -> BackgroundProcess {
            try BackgroundProcess(
                FixerBinary.path, ["-c", config, "--postfix-version", "3.7.11", "apply"], environment: ["POSTFIX_TLS_FIX_TEST_STOP_AT": point])
        }
        // Killed after its commit point, before the index's rename (#1 is the journal's) ...
        let killed = try start(stopAt: "commit: before rename#2")
        try #require(killed.waitUntilStopped())
        kill(killed.pid, SIGKILL)
        _ = try killed.finish()
        #expect(FileManager.default.fileExists(atPath: config + "/.postfix-tls-fix.journal"))
        // ... and completed by the next apply, which renames the index, then
        // the source. A line appended in between must not be renamed over.
        let recovering = try start(stopAt: "recover: renamed#1")
        try #require(recovering.waitUntilStopped())
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("late.example encrypt\n".utf8))
        try handle.close()
        recovering.resume()
        let result = try recovering.finish()
        #expect(result.status == 0, "\(result.outputText)\(result.errors)")
        #expect(result.errors.contains("policy changed after an earlier apply was interrupted"), "\(result.errors)")
        #expect(String(decoding: try readBytes(source), as: UTF8.self) == "a.example verify servername=hostname\nlate.example encrypt\n")
        func lookUp(_ key: String) throws -> String {
            try ExternalTool.postmap(["-q", key, "hash:" + source], configDirectory: config).outputText
        }
        #expect(try lookUp("a.example") == "verify servername=hostname\n")
        #expect(try lookUp("late.example") == "encrypt\n")
    }
}
