// PinnedDirectoryTests.swift: every step of apply after the resolution
// works in the directories the resolution pinned (openat, renameat,
// linkat, unlinkat on their descriptors), never by a name followed again.
// Someone who can rename in a table's directory (here the test itself, at
// the commit point, after every check) moves the directory away, puts a
// link to a victim directory in its place, and plants files there under
// the staged files' names. Renaming by name would move the planted files
// over the victim's; apply must write where it checked, and the victim's
// bytes stay as they were. The same holds for the clean-up of a failed
// apply (its backups) and for completing an interrupted one.

import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct PinnedDirectoryTests {
    let directory: TestDirectory
    let config: String
    let victim: String

    init() throws {
        directory = try TestDirectory("ptf-pinned")
        config = directory.file("postfix")
        try directory.write(
            "postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/maps/policy\n", mode: 0o644)
        let source = try directory.write("postfix/maps/policy", "a.example verify\n")
        #expect(try ExternalTool.postmap(["hash:" + source], configDirectory: config).status == 0)
        backdate(source)
        victim = directory.file("victim")
        try directory.write("victim/policy", "the victim's source\n")
        try directory.write("victim/policy.db", "the victim's index\n")
    }

    func startApply() throws -> BackgroundProcess {
        try BackgroundProcess(
            FixerBinary.path, ["-c", config, "--postfix-version", "3.7.11", "apply", "--backup"],
            environment: ["POSTFIX_TLS_FIX_TEST_STOP_AT": "journal: written (commit point)"])
    }

    /// Moves maps away, links maps to the victim, and plants a file in the
    /// victim directory under each name apply staged in maps.
    func swapDirectory() throws -> [String] {
        let moved = directory.file("postfix/maps-moved")
        try #require(rename(config + "/maps", moved) == 0)
        try #require(symlink(victim, config + "/maps") == 0)
        let staged = try FileManager.default.contentsOfDirectory(atPath: moved).filter { $0.hasPrefix(".policy") }
        for name in staged { try directory.write("victim/" + name, "planted by the attacker\n") }
        return staged
    }

    @Test func aDirectorySwappedAtTheCommitPointIsNotWhereApplyWrites() throws {
        let apply = try startApply()
        try #require(apply.waitUntilStopped())
        let planted = try swapDirectory()
        #expect(planted.count == 2, "\(planted)")
        apply.resume()
        let result = try apply.finish()
        #expect(String(decoding: try readBytes(victim + "/policy"), as: UTF8.self) == "the victim's source\n")
        #expect(String(decoding: try readBytes(victim + "/policy.db"), as: UTF8.self) == "the victim's index\n")
        #expect(!FileManager.default.fileExists(atPath: victim + "/policy.bak"))
        // The directory apply checked got the new files.
        #expect(result.status == 0, "\(result.outputText)\(result.errors)")
        let moved = directory.file("postfix/maps-moved")
        #expect(String(decoding: try readBytes(moved + "/policy"), as: UTF8.self) == "a.example verify servername=hostname\n")
        #expect(
            try ExternalTool.postmap(["-q", "a.example", "hash:" + moved + "/policy"], configDirectory: config).outputText
                == "verify servername=hostname\n")
        #expect(!FileManager.default.fileExists(atPath: config + "/.postfix-tls-fix.journal"))
    }

    /// apply fails before its commit point after it made its backups (here a
    /// target changed meanwhile), and someone who can rename in the table's
    /// directory swapped it for a link to a victim directory that holds
    /// files with the backups' names. Removing the backups must not remove
    /// the victim's files.
    @Test func aFailedApplyRemovesItsBackupsWhereItMadeThem() throws {
        try directory.write("victim/policy.bak", "the victim's file\n")
        try directory.write("victim/policy.db.bak", "the victim's other file\n")
        // Stages the index and the source, then the two backups: the fourth
        // sync is the last backup's, after the first one is published.
        let apply = try BackgroundProcess(
            FixerBinary.path, ["-c", config, "--postfix-version", "3.7.11", "apply", "--backup"],
            environment: ["POSTFIX_TLS_FIX_TEST_STOP_AT": "stage: synced#4"])
        try #require(apply.waitUntilStopped())
        let moved = directory.file("postfix/maps-moved")
        try #require(rename(config + "/maps", moved) == 0)
        try #require(symlink(victim, config + "/maps") == 0)
        // A change to the source: the commit refuses it, before its commit point.
        let handle = try #require(FileHandle(forWritingAtPath: moved + "/policy"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Array("b.example verify\n".utf8))
        try handle.close()
        apply.resume()
        let result = try apply.finish()
        #expect(result.status != 0, "\(result.outputText)\(result.errors)")
        #expect(FileManager.default.fileExists(atPath: victim + "/policy.bak"), "apply removed the victim's policy.bak")
        #expect(FileManager.default.fileExists(atPath: victim + "/policy.db.bak"), "apply removed the victim's policy.db.bak")
        let left = try FileManager.default.contentsOfDirectory(atPath: moved).filter { $0.hasSuffix(".bak") }
        #expect(left.isEmpty, "backups left in the directory apply wrote: \(left)")
    }

    /// An apply with --root killed after its commit point leaves a journal
    /// that the next apply on the same image completes, wherever the image
    /// is mounted then (image builders mount each run somewhere new): the
    /// journal's files are the image's, not paths of the host.
    @Test func anInterruptedApplyInAnImageIsCompletedWhereverTheImageIsNow() throws {
        let first = directory.file("image-a")
        try directory.write("image-a/etc/postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:/etc/postfix/policy\n")
        let source = try directory.write("image-a/etc/postfix/policy", "a.example verify\n")
        #expect(try ExternalTool.postmap(["hash:" + source], configDirectory: first + "/etc/postfix").status == 0)
        backdate(source)
        backdate(source + ".db")
        let apply = try BackgroundProcess(
            FixerBinary.path, ["--root", first, "--postfix-version", "3.7.11", "apply"],
            environment: ["POSTFIX_TLS_FIX_TEST_STOP_AT": "journal: written (commit point)"])
        try #require(apply.waitUntilStopped())
        kill(apply.pid, SIGKILL)
        _ = try apply.finish()
        let second = directory.file("image-b")
        try #require(rename(first, second) == 0)
        #expect(FileManager.default.fileExists(atPath: second + "/etc/postfix/.postfix-tls-fix.journal"))
        let result = try ExternalTool.run(FixerBinary.path, ["--root", second, "--postfix-version", "3.7.11", "apply"])
        #expect(result.status == 0, "\(result.outputText)\(result.errors)")
        #expect(result.outputText.contains("completed an interrupted earlier apply"), "\(result.outputText)\(result.errors)")
        #expect(String(decoding: try readBytes(second + "/etc/postfix/policy"), as: UTF8.self) == "a.example verify servername=hostname\n")
        #expect(!FileManager.default.fileExists(atPath: second + "/etc/postfix/.postfix-tls-fix.journal"))
    }
}
