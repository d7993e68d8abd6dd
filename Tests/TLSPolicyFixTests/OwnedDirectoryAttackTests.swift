// OwnedDirectoryAttackTests.swift: an unprivileged user (nobody) who owns
// a directory on apply's way flips a symbolic link there, in a loop, while
// root runs apply again and again. Whatever the link says at each instant,
// apply must never write a file root owns elsewhere (a victim whose bytes
// are compared after every run): it refuses directories others own, and a
// link on the way to root's own directories is followed once per run.

import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "the attacker runs as nobody, which only root can arrange"))
struct OwnedDirectoryAttackTests {
    let directory: TestDirectory
    let config: String
    let victim: String
    let nobody: (uid: uid_t, gid: gid_t) = (65534, 65534)

    init() throws {
        directory = try TestDirectory("ptf-owned")
        config = directory.file("postfix")
        victim = try directory.write("victim/secret", "root's own file\n", mode: 0o600)
    }

    /// Runs `script` as nobody in the background until stopped.
    func flipper(_ script: String) throws -> BackgroundProcess {
        try BackgroundProcess("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/bin/sh", "-c", script])
    }

    func apply() throws -> ToolResult {
        var environment = ProcessInfo.processInfo.environment
        environment["MAIL_CONFIG"] = nil
        return try ExternalTool.run(
            "/usr/bin/timeout", ["60", FixerBinary.path, "-c", config, "--postfix-version", "3.7.11", "apply"], environment: environment)
    }

    /// Runs apply up to 30 times or for 60 s, `prepare` making each run
    /// write again; `harm` says what went wrong after a run, if anything.
    func expectNoHarm(
        prepare: () throws -> Void, harm: () throws -> String?, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let deadline = Date().addingTimeInterval(60)
        var results: [Int32] = []
        for _ in 0..<30 where Date() < deadline {
            try prepare()
            results.append(try apply().status)
            if let harm = try harm() {
                Issue.record("after \(results.count) applies (exits \(results)): \(harm)", sourceLocation: sourceLocation)
                return
            }
        }
    }

    /// The table's directory belongs to nobody, who points the index's link
    /// at root's file between apply's steps.
    @Test func aDirectoryAnotherUserOwnsIsNotWrittenIn() throws {
        let tables = try directory.makeDirectory("postfix/tables")
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:\(tables)/policy\n")
        let source = try directory.write("postfix/tables/policy", "a.example verify\n")
        #expect(try ExternalTool.postmap(["hash:\(source)"], configDirectory: config).status == 0)
        #expect(rename(source + ".db", tables + "/real.db") == 0)
        for path in [tables, source, tables + "/real.db"] { #expect(chown(path, nobody.uid, nobody.gid) == 0) }
        #expect(symlink("real.db", source + ".db") == 0)
        let attacker = try flipper("cd \(tables) && while :; do ln -sfn real.db policy.db; ln -sfn \(victim) policy.db; done")
        defer { kill(attacker.pid, SIGKILL); _ = try? attacker.finish() }

        let before = try FileStamp(victim)
        try expectNoHarm {
            // nobody's source, needing the fix again: each apply writes.
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data("a.example verify\n".utf8))
            try handle.close()
            backdate(source)
        } harm: {
            try FileStamp(victim) == before ? nil : "root's file \(victim) was replaced"
        }
        let refused = try apply()
        #expect(refused.status == 2)
        // Refused by the owner rule, or, when the link pointed at the victim
        // as apply resolved it, because the victim is outside the
        // configuration directory or (read while planning) is no database:
        // which comes first is the race's; each is before anything is
        // written, and the victim's bytes are checked above.
        #expect(
            refused.errors.contains("the directory \(tables) belongs to uid 65534")
                || refused.errors.contains("\(victim) is outside the configuration directory")
                || refused.errors.contains("policy.db: the existing index is not a readable hash database"), "\(refused.errors)")
    }

    /// The map path leads through nobody's directory, whose link nobody
    /// flips between root's table directory and another root directory
    /// holding a table of the same name (the victim). Apply may write the
    /// table it read (all its directories are root's), never the other.
    @Test func aLinkOnTheWayIsFollowedOncePerRun() throws {
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:\(directory.path)/user/link/policy\n")
        for name in ["tables", "victims"] {
            let source = try directory.write("postfix/\(name)/policy", "\(name).example verify\n")
            #expect(try ExternalTool.postmap(["hash:\(source)"], configDirectory: config).status == 0)
            backdate(source + ".db")
        }
        let user = try directory.makeDirectory("user")
        #expect(chown(user, nobody.uid, nobody.gid) == 0)
        let attacker = try flipper("cd \(user) && while :; do ln -sfn \(config)/tables link; ln -sfn \(config)/victims link; done")
        defer { kill(attacker.pid, SIGKILL); _ = try? attacker.finish() }

        try expectNoHarm {
            for name in ["tables", "victims"] { try directory.write("postfix/\(name)/policy", "\(name).example verify\n") }
        } harm: {
            // Each table may be fixed (the link said so when apply read it),
            // but never built from, or replaced by, the other.
            for (table, foreign) in [("tables", "victims"), ("victims", "tables")] {
                let path = "\(config)/\(table)/policy"
                if String(decoding: try readBytes(path), as: UTF8.self).contains(foreign) { return "\(path) holds \(foreign)' entries" }
                let lookup = try ExternalTool.postmap(["-q", "\(foreign).example", "hash:\(path)"], configDirectory: config)
                if lookup.status == 0 { return "\(path).db holds \(foreign)' entries" }
            }
            return nil
        }
    }
}
