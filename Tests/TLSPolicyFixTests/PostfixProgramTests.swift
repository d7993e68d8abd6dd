// PostfixProgramTests.swift: a run of one of Postfix's programs ends within
// its time limit, whatever the program does: a postmap -q waiting for an
// index lock any local user can hold, a postqueue or postfix reload that
// never answers, or a program whose own child keeps its output open. Each
// of these used to hold the tool (and apply's locks) for as long as the
// program pleased.

import Foundation
import PostfixTestSupport
import PostfixTools
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct PostfixProgramTests {
    @Test func aProgramStillRunningAtItsTimeLimitIsKilledAndReported() throws {
        let directory = try TestDirectory("ptf-program")
        let pidFile = directory.file("pid")
        let started = Date()
        let error = #expect(throws: PostfixToolError.self) {
            try PostfixProgram.run("/bin/sh", ["-c", "echo $$ > \(pidFile); exec sleep 30"], timeout: .seconds(1))
        }
        #expect(Date().timeIntervalSince(started) < 10, "the run waited for the program, not for its time limit")
        #expect(error?.description == "/bin/sh -c echo $$ > \(pidFile); exec sleep 30: still running after 1 s; stopped it")
        let pid = pid_t((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(pid > 0)
        if pid > 0 {
            let running = kill(pid, 0) == 0 || errno != ESRCH
            #expect(!running, "the program still runs (or is an unreaped zombie)")
            if running { kill(pid, SIGKILL) }
        }
    }

    /// The program exits, but a child it started in the background keeps
    /// its standard output open: the run ends when the program does.
    @Test func aProgramWhoseChildKeepsItsOutputOpenIsDoneWhenItExits() throws {
        let directory = try TestDirectory("ptf-program")
        let pidFile = directory.file("pid")
        let started = Date()
        let result = try PostfixProgram.run("/bin/sh", ["-c", "echo done; sleep 30 & echo $! > \(pidFile); exit 3"], timeout: .seconds(20))
        #expect(Date().timeIntervalSince(started) < 10, "the run waited for the program's child")
        #expect(result.status == 3)
        #expect(PostfixProgram.Result.trimmed(result.output) == "done")
        if let pid = pid_t((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") {
            kill(pid, SIGKILL)
        }
    }

    /// A program that neither reads its input nor exits: the write to its
    /// full pipe is bounded too.
    @Test func aProgramThatNeverReadsItsInputIsStoppedAtItsTimeLimit() throws {
        let started = Date()
        #expect(throws: PostfixToolError.self) {
            try PostfixProgram.run("/bin/sleep", ["30"], input: [UInt8](repeating: 0x61, count: 1 << 20), timeout: .seconds(1))
        }
        #expect(Date().timeIntervalSince(started) < 10)
    }
}
