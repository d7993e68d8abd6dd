// WritePolicyTests.swift: what apply refuses to write, with a clear message
// and no write at all: a directory or file others may write (as root), a
// source owned by another user than its index, a path outside the
// configuration directory (unless --allow-path names it), a read-only file
// system and a full one (both in a private mount namespace). Also --backup.

import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct WritePolicyTests {
    let directory: TestDirectory
    let config: String

    init() throws {
        directory = try TestDirectory("ptf-policy")
        config = directory.file("postfix")
    }

    /// main.cf naming `table` (relative to the configuration directory
    /// unless absolute), which holds one verify entry, with its index.
    func makeConfig(table: String = "policy") throws {
        let path = table.hasPrefix("/") ? table : config + "/" + table
        try directory.write("postfix/main.cf", "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:\(path)\n")
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("a.example verify\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try ExternalTool.postmap(["hash:\(path)"], configDirectory: config).status == 0)
        backdate(path)
        backdate(path + ".db")
        backdate(config + "/main.cf")
    }

    func apply(_ extra: [String] = []) throws -> ToolResult {
        try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "apply"] + extra)
    }

    /// Expects apply to refuse with `message` and to leave everything below `roots` as it was.
    func expectRefusal(_ message: String, roots: [String]? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try (roots ?? [directory.path]).map(treeStamps)
        let result = try apply()
        #expect(result.status == 2, "exit \(result.status): \(result.outputText)", sourceLocation: sourceLocation)
        #expect(result.errors.contains(message), "\(result.errors)", sourceLocation: sourceLocation)
        #expect(result.errors.contains("nothing written"), sourceLocation: sourceLocation)
        #expect(try (roots ?? [directory.path]).map(treeStamps) == before, "files changed", sourceLocation: sourceLocation)
    }

    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "the checks for others' write access apply to root only"))
    func directoriesAndFilesOthersMayWriteAreRefusedAsRoot() throws {
        try makeConfig(table: "maps/policy")
        chmod(config, 0o775)
        try expectRefusal("postfix: the configuration directory is writable by group or others (mode 775)")
        chmod(config, 0o755)
        chmod(config + "/maps", 0o777)
        try expectRefusal("maps/policy.db: its directory \(config)/maps is writable by group or others (mode 777)")
        chmod(config + "/maps", 0o755)
        chmod(config + "/maps/policy", 0o646)
        try expectRefusal("maps/policy.db: its source \(config)/maps/policy is writable by group or others (mode 646)")
        chmod(config + "/maps/policy", 0o644)
        #expect(try apply().status == 0)
    }

    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs chown"))
    func aSourceOwnedByAnotherUserThanItsIndexIsRefused() throws {
        try makeConfig()
        chown(config + "/policy", 1234, 1234)
        try expectRefusal("policy.db: its source \(config)/policy belongs to uid 1234 but the index to uid 0")
        chown(config + "/policy.db", 1234, 1234)
        #expect(try apply().status == 0)
        var st = stat()
        #expect(stat(config + "/policy.db", &st) == 0 && st.st_uid == 1234)
    }

    @Test func pathsOutsideTheConfigurationDirectoryNeedAllowPath() throws {
        let outside = directory.file("elsewhere/policy")
        try makeConfig(table: outside)
        try expectRefusal("is outside the configuration directory \(config); name it with --allow-path to let apply write it")
        let allowed = try apply(["--allow-path", directory.file("elsewhere")])
        #expect(allowed.status == 0, "\(allowed.errors)")
        #expect(
            try ExternalTool.postmap(["-q", "a.example", "hash:\(outside)"], configDirectory: config).outputText == "verify servername=hostname\n")
    }

    @Test func aSymlinkLeadingOutOfTheConfigurationDirectoryIsRefused() throws {
        try makeConfig()
        let outside = directory.file("elsewhere/policy")
        try FileManager.default.createDirectory(atPath: directory.file("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: config + "/policy", toPath: outside)
        try FileManager.default.createSymbolicLink(atPath: config + "/policy", withDestinationPath: outside)
        try expectRefusal("policy: \(outside) is outside the configuration directory")
    }

    /// Runs `script` as root in a private mount namespace (with CONFIG and
    /// BIN set) and returns its output; nil when namespaces are unavailable.
    func inMountNamespace(_ script: String) throws -> ToolResult? {
        guard geteuid() == 0, try ExternalTool.run("/usr/bin/unshare", ["--mount", "--propagation", "private", "true"]).status == 0 else {
            return nil
        }
        return try ExternalTool.run(
            "/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", script],
            environment: ["CONFIG": config, "BIN": FixerBinary.path, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
    }

    /// What a shell script prints to compare a tree before and after.
    /// Every file's stamp and digest (apply's own lock file, there only
    /// while an apply runs, aside).
    static let stamps =
        "find \"$CONFIG\" -type f ! -name .postfix-tls-fix.lock -exec stat -c '%n %i %s %Y %a %u' {} + | sort; find \"$CONFIG\" -type f ! -name .postfix-tls-fix.lock -exec sha256sum {} + | sort"

    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs a private mount namespace"))
    func aReadOnlyFileSystemIsRefused() throws {
        try makeConfig()
        let result = try #require(
            try inMountNamespace(
                """
                mount --bind "$CONFIG" "$CONFIG" && mount -o remount,bind,ro "$CONFIG" || exit 99
                before=$(\(Self.stamps))
                "$BIN" -c "$CONFIG" --postfix-version 3.7.11 apply; echo "status $?"
                after=$(\(Self.stamps))
                [ "$before" = "$after" ] && echo unchanged
                """))
        #expect(result.outputText.contains("status 2"), "\(result.outputText) \(result.errors)")
        #expect(result.outputText.contains("unchanged"))
        #expect(result.errors.contains("policy.db: \(config) is on a read-only file system; nothing written"), "\(result.errors)")
    }

    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs a private mount namespace"))
    func aFullFileSystemIsRefusedAndTheOldFilesStay() throws {
        try makeConfig()
        let result = try #require(
            try inMountNamespace(
                """
                mkdir -p "$CONFIG.full" && cp -a "$CONFIG/." "$CONFIG.full/" || exit 99
                mount -t tmpfs -o size=512k tmpfs "$CONFIG" && cp -a "$CONFIG.full/." "$CONFIG/" || exit 99
                dd if=/dev/zero of="$CONFIG/.filler" bs=4k 2>/dev/null
                before=$(\(Self.stamps))
                "$BIN" -c "$CONFIG" --postfix-version 3.7.11 apply; echo "status $?"
                after=$(\(Self.stamps))
                [ "$before" = "$after" ] && echo unchanged
                # The disk fills up while apply runs (stopped by the DEBUG-only
                # hook after its checks, before it writes): the write itself fails.
                rm "$CONFIG/.filler"
                POSTFIX_TLS_FIX_TEST_STOP_AT="apply: inputs read" "$BIN" -c "$CONFIG" --postfix-version 3.7.11 apply &
                pid=$!
                until grep -q '^State:.*stopped' /proc/$pid/status; do sleep 0.05; done
                dd if=/dev/zero of="$CONFIG/.filler" bs=4k 2>/dev/null
                before=$(\(Self.stamps))
                kill -CONT $pid; wait $pid; echo "status $?"
                after=$(\(Self.stamps))
                [ "$before" = "$after" ] && echo unchanged again
                ls -a "$CONFIG"
                """))
        let output = result.outputText
        #expect(output.contains("status 2\nunchanged\n"), "\(output) \(result.errors)")
        #expect(output.contains("unchanged again"), "\(output) \(result.errors)")
        #expect(!output.contains("status 0"))
        #expect(result.errors.contains("not enough free space on the file system of \(config)"), "\(result.errors)")
        #expect(result.errors.contains("No space left on device") && result.errors.contains("; nothing replaced"), "\(result.errors)")
        #expect(!output.contains(".tmp-"), "temporary files left: \(output)")
    }

    @Test func backupsKeepTheOldFilesAndNeverOverwriteAnEarlierBackup() throws {
        try makeConfig()
        let oldSource = try readBytes(config + "/policy")
        try directory.write("postfix/policy.bak", "an earlier backup\n")
        let result = try apply(["--backup"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(try readBytes(config + "/policy.bak") == Array("an earlier backup\n".utf8))
        #expect(try readBytes(config + "/policy.bak.1") == oldSource)
        #expect(FileManager.default.fileExists(atPath: config + "/policy.db.bak"))
        #expect(result.outputText.contains("backup: \(config)/policy.bak.1"))

        // --backup=SUFFIX, on a second change.
        try directory.write("postfix/policy", "b.example secure\n")
        let again = try apply(["--backup=.orig"])
        #expect(again.status == 0, "\(again.errors)")
        #expect(try readBytes(config + "/policy.orig") == Array("b.example secure\n".utf8))
        let entries = try FileManager.default.contentsOfDirectory(atPath: config).sorted()
        #expect(entries == ["main.cf", "policy", "policy.bak", "policy.bak.1", "policy.db", "policy.db.bak", "policy.db.orig", "policy.orig"])
    }
}
