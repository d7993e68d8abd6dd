// CrashSafetyTests.swift: kills `apply` with SIGKILL at every fault point of
// its run (FaultInjection, DEBUG builds only) on a configuration with many
// kinds of files, and after each kill checks that
//  - without a journal the configuration is exactly the old one or exactly
//    the new one (bytes, index records, owners, modes, links), plus at most
//    temporary files;
//  - with a journal (killed in the commit phase) every file is exactly its
//    old or its new version, no source is newer than its index, and main.cf
//    is new only when every table is;
//  - the real postmap -q and postconf read it, answering old or new values;
//  - the next apply completes the change: exactly the new configuration,
//    with no temporary file, journal or lock file left.

import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct CrashSafetyTests {
    static let version = ["--postfix-version", "3.7.11"]

    @Test func killedAtEveryFaultPointLeavesOldOrNewAndTheNextRunCompletesIt() throws {
        // tmpfs when there is one: fsync costs nothing there, and SIGKILL
        // (unlike a power cut) loses nothing the kernel already has.
        let directory = try TestDirectory("ptf-crash", in: FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : "/tmp")
        let scenario = SafetyScenario(tableCount: 10)
        let pristine = directory.file("pristine")
        try scenario.write(into: directory, at: pristine)
        let oldTree = try TreeSnapshot(pristine)
        let oldValues = try scenario.lookUpAll(config: pristine)
        #expect(oldValues["d0-0.example"] == "verify")

        // A full run: the new configuration and the fault points it passes.
        let config = directory.file("postfix")
        try restoreTree(pristine, to: config)
        let trace = directory.file("trace")
        let full = try FixerBinary.run(["-c", config] + Self.version + ["apply"], environment: ["POSTFIX_TLS_FIX_TEST_TRACE": trace])
        try #require(full.status == 0, "apply: \(full.errors)")
        let points = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
            .map { String($0.drop { $0 != " " }.dropFirst()) }
        let newTree = try TreeSnapshot(config)
        #expect(newTree.leftovers.isEmpty, "left behind: \(newTree.leftovers)")
        #expect(newTree.differences(from: oldTree).count == 2 * scenario.tableCount + 4)
        backdate(config + "/main.cf")
        let newValues = try scenario.lookUpAll(config: config)
        #expect(newValues["d0-0.example"] == "verify servername=hostname")
        #expect(newValues["d0-2.example"] == "encrypt")
        #expect(newValues["linked.example"] == "verify servername=hostname")
        #expect(newValues["new.example"] == "encrypt")
        #expect(try lmtpServername(config) == "hostname")
        // Owners, modes and links are those of the old files.
        for path in ["main.cf", "maps/t1", "maps/t1.db", "maps/t2", "maps/linked", "maps/linked.db", "real/policy", "real/policy.db"] {
            #expect(metadata(of: newTree.entries[path]) == metadata(of: oldTree.entries[path]), "\(path)")
        }

        let commitPoint = try #require(points.firstIndex(of: "journal: written (commit point)")) + 1
        #expect(points.count >= 200, "only \(points.count) fault points")
        var outcomes = (old: 0, inCommit: 0, new: 0)
        for killAt in 1...points.count {
            try restoreTree(pristine, to: config)
            let killed = try FixerBinary.run(
                ["-c", config] + Self.version + ["apply"], environment: ["POSTFIX_TLS_FIX_TEST_KILL_AT": "\(killAt)"])
            #expect(killed.status == SIGKILL, "not killed at point \(killAt) (\(points[killAt - 1])): \(killed.errors)")

            let after = try TreeSnapshot(config)
            let tree = after.withoutLeftovers
            let inCommit = after.entries[".postfix-tls-fix.journal"] != nil
            let place = "point \(killAt) (\(points[killAt - 1]))"
            if inCommit {
                if outcomes.inCommit == 0 {
                    // check tells the admin what apply will do about it.
                    let check = try FixerBinary.run(["-c", config] + Self.version + ["check"])
                    #expect(check.status == 1 && check.outputText.contains("an earlier apply was interrupted"), "\(check.outputText)")
                }
                outcomes.inCommit += 1
                // The journal exists from its own rename, two points before
                // the one that marks the commit point.
                #expect(killAt >= commitPoint - 2, "journal before the commit point at \(place)")
                for path in Set(tree.entries.keys).union(oldTree.entries.keys) {
                    #expect(
                        tree.entries[path] == oldTree.entries[path] || tree.entries[path] == newTree.entries[path],
                        "\(path) is neither old nor new at \(place)")
                }
                let isNew = { (path: String) in tree.entries[path] == newTree.entries[path] && tree.entries[path] != oldTree.entries[path] }
                for table in ["maps/t0", "maps/t1", "real/policy"] where isNew(table) {
                    #expect(isNew(table + ".db"), "\(table) is new but its index is not at \(place)")
                }
                if isNew("main.cf") {
                    #expect(tree.differences(from: newTree).isEmpty, "main.cf is new before the tables at \(place)")
                }
            } else if tree == oldTree {
                outcomes.old += 1
                #expect(killAt < commitPoint, "old configuration after the commit point at \(place)")
            } else {
                outcomes.new += 1
                #expect(tree.differences(from: newTree).isEmpty, "neither old nor new at \(place): \(tree.differences(from: newTree))")
            }
            for leftover in after.leftovers {
                let name = leftover.split(separator: "/").last.map(String.init) ?? leftover
                #expect(
                    name.contains(".tmp-") || name == ".postfix-tls-fix.journal" || name == "main.cf.tmp"
                        || name == ".postfix-tls-fix.lock",
                    "unexpected file \(leftover) at \(place)")
            }

            // Postfix reads what is there. (A main.cf younger than a second
            // makes every Postfix program pause up to 2 s; only a new main.cf
            // is backdated, so an old one keeps its identity for the journal.)
            if tree.entries["main.cf"] == newTree.entries["main.cf"] { backdate(config + "/main.cf") }
            let values = try scenario.lookUpAll(config: config)
            for key in scenario.allKeys {
                #expect(values[key] == oldValues[key] || values[key] == newValues[key], "\(key) = \(values[key] ?? "none") at \(place)")
            }
            let servername = try lmtpServername(config)
            #expect(servername == "" || servername == "hostname", "lmtp_tls_servername = \(servername) at \(place)")

            let next = try FixerBinary.run(["-c", config] + Self.version + ["apply"])
            #expect(next.status == 0, "the run after \(place): \(next.errors)")
            let completed = try TreeSnapshot(config)
            #expect(completed == newTree, "after the run following \(place): \(completed.differences(from: newTree))")
        }
        print(
            "crash safety: apply killed with SIGKILL at \(points.count) fault points: "
                + "\(outcomes.old) left the old configuration, \(outcomes.inCommit) were in the commit phase "
                + "(completed by the next run), \(outcomes.new) left the new configuration")
        #expect(outcomes.old + outcomes.inCommit + outcomes.new == points.count)
    }

    func lmtpServername(_ config: String) throws -> String {
        let result = try ExternalTool.postconf(["-h", "lmtp_tls_servername"], configDirectory: config)
        #expect(result.status == 0, "postconf: \(result.errors)")
        return result.outputText.trimmingCharacters(in: .newlines)
    }

    func metadata(of entry: TreeEntry?) -> String {
        switch entry {
        case let .file(_, _, mode, uid, gid)?: return "\(String(mode, radix: 8)) \(uid):\(gid)"
        case let .symlink(target)?: return "-> \(target)"
        case let .directory(mode, uid, gid)?: return "dir \(String(mode, radix: 8)) \(uid):\(gid)"
        case nil: return "missing"
        }
    }
}
