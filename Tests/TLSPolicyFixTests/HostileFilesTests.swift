// HostileFilesTests.swift: attacks on a tool that runs as root, unattended,
// over a configuration tree others may have touched (the "Safe as root,
// unattended" issue): a FIFO where a file should be, locks any local user can
// hold, a killed run's temporary files, an index that is not a database.
// Every run is bounded by timeout(1), so what used to hang fails instead.
// ACLs and extended attributes are in ExtendedAttributeTests, expansion
// bombs in ExpansionBombTests.

import FileSafety
import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct HostileFilesTests {
    static let version = ["--postfix-version", "3.7.11"]
    /// What a test may take before it counts as hung.
    static let limit = 20

    let directory: TestDirectory
    let config: String

    init() throws {
        directory = try TestDirectory("ptf-hostile")
        config = directory.file("postfix")
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/policy\n")
        try directory.write("postfix/master.cf", "smtp      inet  n       -       y       -       -       smtpd\n")
        try directory.write("postfix/policy", "good.example verify\nother.example may\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        for name in ["main.cf", "master.cf", "policy", "policy.db"] { backdate(config + "/" + name) }
    }

    func run(_ command: [String], timeout: Int = limit) throws -> ToolResult {
        try FixerBinary.run(["-c", config] + Self.version + command, within: timeout)
    }

    /// Replaces `name` with a FIFO nobody writes to.
    func plantFIFO(_ name: String) throws {
        try FileManager.default.removeItem(atPath: config + "/" + name)
        #expect(mkfifo(config + "/" + name, 0o644) == 0)
    }

    // MARK: - 3. FIFOs

    @Test(arguments: ["main.cf", "master.cf", "policy", "policy.db"], ["check", "apply"])
    func aFIFOInPlaceOfAFileIsRefusedAtOnce(_ place: String, _ command: String) throws {
        try plantFIFO(place)
        try expectUnchanged(config) {
            let result = try run([command])
            let output = result.outputText + result.errors
            #expect(result.status != 124 && result.status != 137, "\(command) hung on a FIFO at \(place)")
            #expect(result.status == 2, "exit \(result.status): \(output.prefix(500))")
            #expect(output.contains("\(place): ") && output.contains("not a regular file"), "\(output.prefix(500))")
        }
    }

    /// A table whose index is a FIFO while its source needs no change: the
    /// index check (a digest of the .db) is what opens it.
    @Test func aFIFOInPlaceOfACurrentIndexIsRefusedAtOnce() throws {
        try directory.write("postfix/policy", "good.example verify servername=hostname\n")
        try plantFIFO("policy.db")
        let result = try run(["check"])
        #expect(result.status == 2, "exit \(result.status): \((result.outputText + result.errors).prefix(500))")
        #expect((result.outputText + result.errors).contains("not a regular file"))
    }

    /// apply reads its journal under its lock, before anything else: a FIFO
    /// there held the lock, and the run, for ever.
    @Test func aFIFOInPlaceOfTheJournalIsRefusedAtOnce() throws {
        #expect(mkfifo(config + "/.postfix-tls-fix.journal", 0o600) == 0)
        try expectUnchanged(config) {
            let started = Date()
            let result = try run(["apply"])
            let output = result.outputText + result.errors
            #expect(Date().timeIntervalSince(started) < 10, "apply hung on a FIFO at the journal")
            #expect(result.status == 2, "exit \(result.status): \(output.prefix(500))")
            #expect(output.contains(".postfix-tls-fix.journal") && output.contains("not a regular file"), "\(output.prefix(500))")
        }
    }

    /// --maillog names a FIFO (a syslog pipe, say): the log is not read,
    /// as for any file that is not a regular one, and the check goes on.
    @Test func aFIFOGivenAsTheMailLogIsRefusedAtOnce() throws {
        let log = directory.file("mail.log")
        #expect(mkfifo(log, 0o600) == 0)
        let started = Date()
        let result = try run(["check", "--maillog", log])
        #expect(Date().timeIntervalSince(started) < 10, "check hung on a FIFO given as the mail log")
        #expect(result.status == 1, "exit \(result.status): \(result.errors)")
        #expect(result.errors.contains("cannot read the mail log \(log): not a regular file"), "\(result.errors)")
    }

    // MARK: - 4. Locks anyone can hold

    /// Runs `flock MODE PATH sleep 60` as nobody in the background; returns it once it holds the lock.
    func holdLockAsNobody(_ path: String, shared: Bool = false) throws -> BackgroundProcess {
        let holder = try BackgroundProcess(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/flock", "--no-fork", shared ? "-s" : "-x", path, "/bin/sleep", "60",
            ])
        for _ in 0..<200 where !((try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? "").contains(":\(inode(path)) ") {
            usleep(20_000)
        }
        return holder
    }

    func inode(_ path: String) -> UInt64 {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : 0
    }

    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs root to act as another user"))
    func aLockOnTheConfigurationDirectoryHeldByAnyUserDoesNotStopApply() throws {
        let holder = try holdLockAsNobody(config)
        defer { kill(holder.pid, SIGKILL); _ = try? holder.finish() }
        let result = try run(["apply"], timeout: 20)
        #expect(result.status == 0, "exit \(result.status): \((result.outputText + result.errors).prefix(500))")
        #expect(
            try ExternalTool.postmap(["-q", "good.example", "hash:\(config)/policy"], configDirectory: config).outputText
                == "verify servername=hostname\n")
    }

    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs root to act as another user"))
    func aLockOnAnIndexHeldByAnyUserMakesApplyGiveUpAfterTheTimeout() throws {
        let holder = try holdLockAsNobody(config + "/policy.db", shared: true)
        defer { kill(holder.pid, SIGKILL); _ = try? holder.finish() }
        try expectUnchanged(config) {
            let started = Date()
            let result = try run(["apply", "--lock-timeout", "2"], timeout: 20)
            let output = result.outputText + result.errors
            #expect(result.status == 2, "exit \(result.status): \(output.prefix(500))")
            #expect(output.contains("policy.db") && output.contains("locked by another process for more than 2 seconds"), "\(output.prefix(500))")
            #expect(output.contains("--lock-timeout"), "\(output.prefix(500))")
            #expect(Date().timeIntervalSince(started) < 10)
        }
    }

    /// An exclusive lock (anyone who can read a file can take one) blocks
    /// even the shared lock apply reads the index under while it plans,
    /// before its own lock steps: that wait ignored --lock-timeout (60 s),
    /// and its end was reported as an index that is not a database.
    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs root to act as another user"), arguments: [false, true])
    func anExclusiveLockOnAnIndexHeldByAnyUserMakesApplyGiveUpAfterTheTimeout(sourceCurrent: Bool) throws {
        if sourceCurrent {
            try directory.write("postfix/policy", "good.example verify servername=hostname\n")
            #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
            try directory.write(
                "postfix/main.cf",
                "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/policy\nsmtp_tls_security_level = verify\n")
        }
        let holder = try holdLockAsNobody(config + "/policy.db")
        defer { kill(holder.pid, SIGKILL); _ = try? holder.finish() }
        try expectUnchanged(config) {
            let started = Date()
            let result = try run(["apply", "--lock-timeout", "2"], timeout: 90)
            let output = result.outputText + result.errors
            #expect(Date().timeIntervalSince(started) < 10, "apply waited \(Date().timeIntervalSince(started)) s")
            #expect(result.status == 2, "exit \(result.status): \(output.prefix(500))")
            #expect(output.contains("policy.db: the index is locked by another process for more than 2 seconds"), "\(output.prefix(500))")
            #expect(!output.contains("not a readable"), "\(output.prefix(500))")
        }
    }

    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs root to act as another user"))
    func aLockFileNotCreatedByApplyIsRefusedWithoutWaiting() throws {
        let lockFile = config + "/.postfix-tls-fix.lock"
        #expect(FileManager.default.createFile(atPath: lockFile, contents: nil))
        #expect(chown(lockFile, 65534, 65534) == 0 && chmod(lockFile, 0o600) == 0)
        let holder = try holdLockAsNobody(lockFile)
        defer { kill(holder.pid, SIGKILL); _ = try? holder.finish() }
        let result = try run(["apply"], timeout: 20)
        let output = result.outputText + result.errors
        #expect(result.status == 2, "exit \(result.status): \(output.prefix(500))")
        #expect(output.contains(".postfix-tls-fix.lock") && output.contains("belongs to uid 65534"), "\(output.prefix(500))")
    }

    @Test func applyLeavesNoLockFileAndDocumentsTheTimeout() throws {
        #expect(try run(["apply"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: config + "/.postfix-tls-fix.lock"))
        let help = try FixerBinary.run(["apply", "--help"])
        #expect(help.outputText.contains("--lock-timeout <seconds>"), "\(help.outputText)")
        let bad = try run(["apply", "--lock-timeout", "-1"])
        #expect(bad.status == 64 || bad.status == 2, "\(bad.status) \(bad.errors)")
    }

    // MARK: - 8. Temporary files of a killed apply

    /// A pid no process has: above Linux's largest pid_max.
    static let deadPid = 4_194_305

    @Test func temporaryFilesOfAKilledApplyAreRemovedByTheNextRunAndNamedByCheck() throws {
        try directory.write("postfix/policy", "good.example verify servername=hostname\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        let leftovers = [".main.cf.tmp-\(Self.deadPid)-1f2e3d", ".policy.db.tmp-\(Self.deadPid)-abc123", ".policy.tmp-\(Self.deadPid)-99.lmdb"]
        for name in leftovers { try directory.write("postfix/" + name, [UInt8](repeating: 0x41, count: 1 << 20), mode: 0o600) }
        let unrelated = try directory.write("postfix/.main.cf.tmp-\(getpid())-abcd", "a live writer's\n")

        let check = try run(["check"])
        #expect(check.status == 0, "exit \(check.status): \(check.outputText) \(check.errors)")
        for name in leftovers {
            #expect(check.outputText.contains("\(name): note: a temporary file left by a killed apply"), "\(check.outputText)")
        }
        #expect(!check.outputText.contains(unrelated))

        let apply = try run(["apply"])
        #expect(apply.status == 0, "\(apply.errors)")
        #expect(apply.outputText.hasSuffix("nothing to do\n"), "\(apply.outputText)")
        for name in leftovers { #expect(!FileManager.default.fileExists(atPath: config + "/" + name), "\(name) is still there") }
        #expect(FileManager.default.fileExists(atPath: unrelated))
        #expect(try run(["check"]).outputText == "nothing to fix\n")
    }

    // MARK: - 10. An index that is not a database

    @Test(arguments: ["binary-garbage", "truncated-at-page-boundary", "wrong-access-method-btree"])
    func checkReportsAnIndexThatIsNotADatabaseAsAnError(_ fixture: String) throws {
        try FileManager.default.removeItem(atPath: config + "/policy.db")
        try FileManager.default.copyItem(atPath: fixturesDirectory + "/bad-input/policy.db/" + fixture, toPath: config + "/policy.db")
        let check = try run(["check"])
        #expect(check.status == 2, "exit \(check.status): \(check.outputText) \(check.errors)")
        #expect(
            check.outputText.contains("policy.db: error: the existing index is not a readable hash database"),
            "\(check.outputText)")
        #expect(check.outputText.contains("fix: move it away"), "\(check.outputText)")
        let apply = try run(["apply"])
        #expect(apply.status == 2)
        #expect((apply.outputText + apply.errors).contains("policy.db: the existing index is not a readable hash database"))
    }
}
