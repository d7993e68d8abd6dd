// PinnedAttackTests.swift: what the pinned write path must also hold to:
// the cleanup of a failed apply removes its backups in the directory they
// were made in, not at a path followed again.

import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct PinnedAttackTests {
    let directory: TestDirectory
    let config: String
    let victim: String

    init() throws {
        directory = try TestDirectory("ptf-pinned-attack")
        config = directory.file("postfix")
        try directory.write(
            "postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/maps/policy\n", mode: 0o644)
        let source = try directory.write("postfix/maps/policy", "a.example verify\n")
        #expect(try ExternalTool.postmap(["hash:" + source], configDirectory: config).status == 0)
        backdate(source)
        victim = directory.file("victim")
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
