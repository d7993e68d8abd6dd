// ApplyOutcomeTests.swift: what apply reports is exactly what happened.
// Exit 2 means every file is as it was; so what can be known before the
// commit point is checked then (a file bind-mounted into place, read-only
// or not; an immutable or append-only file or directory), and a failure
// after the commit point is exit 3, naming every file replaced, with
// `changed` and `reloadNeeded` in the JSON telling automation to reload.
// Each runs as root in a private mount namespace on the real file system
// (ext4 here: chattr works there, not on tmpfs).

import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ApplyOutcomeTests {
    let directory: TestDirectory
    let config: String

    init() throws {
        directory = try TestDirectory("ptf-outcome", in: "/var/tmp")
        config = directory.file("postfix")
        // main.cf (for lmtp), a table and its index (for smtp) all change.
        try directory.write(
            "postfix/main.cf", "compatibility_level = 3.6\nlmtp_tls_security_level = verify\nsmtp_tls_policy_maps = hash:\(config)/policy\n")
        try directory.write("postfix/policy", "a.example secure\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
    }

    static let stamps =
        "find \"$CONFIG\" -type f ! -name '.postfix-tls-fix.*' -exec stat -c '%n %i %s %Y' {} + | sort; find \"$CONFIG\" -type f -exec sha256sum {} + | sort"

    /// Runs `script` as root in a private mount namespace; nil where that
    /// cannot be (not root, outside CI: the test is then skipped).
    func asRoot(_ script: String) throws -> ToolResult? {
        guard geteuid() == 0 else { return nil }
        return try ExternalTool.run(
            "/usr/bin/unshare",
            ["--mount", "--propagation", "private", "/bin/sh", "-c", "trap 'chattr -R -i \"$CONFIG\" 2>/dev/null' EXIT\n" + script],
            environment: ["CONFIG": config, "BIN": FixerBinary.path, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
    }

    @Test(
        .enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs root"),
        arguments: [
            (
                "a read-only bind mount", "mount --bind \"$CONFIG/main.cf\" \"$CONFIG/main.cf\" && mount -o remount,bind,ro \"$CONFIG/main.cf\"",
                "is a mount point"
            ),
            ("a writable bind mount", "mount --bind \"$CONFIG/main.cf\" \"$CONFIG/main.cf\"", "is a mount point"),
            ("an immutable file", "chattr +i \"$CONFIG/main.cf\"", "is immutable"),
            ("an append-only file", "chattr +a \"$CONFIG/main.cf\"", "is append-only"),
        ])
    func whatCannotBeReplacedIsRefusedBeforeAnythingIs(setting: String, setUp: String, message: String) throws {
        let result = try #require(
            try asRoot(
                """
                \(setUp) || exit 99
                before=$(\(Self.stamps))
                "$BIN" -c "$CONFIG" --postfix-version 3.7.11 apply; echo "status $?"
                after=$(\(Self.stamps))
                [ "$before" = "$after" ] && echo unchanged
                """))
        #expect(result.outputText.hasSuffix("status 2\nunchanged\n"), "\(setting): \(result.outputText) \(result.errors)")
        #expect(result.errors.contains("main.cf") && result.errors.contains(message), "\(setting): \(result.errors)")
        #expect(result.errors.contains("nothing written"), "\(setting): \(result.errors)")
    }

    /// The last file's rename fails after the index and table were
    /// replaced: exit 3, both named, and the next run completes the change.
    /// (The journal's own rename is the first "commit: renamed"; the
    /// index's is the second.)
    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs root"))
    func aFailureAfterTheCommitPointSaysWhatWasReplaced() throws {
        let result = try #require(
            try asRoot(
                """
                POSTFIX_TLS_FIX_TEST_STOP_AT="commit: renamed#2" "$BIN" -c "$CONFIG" --postfix-version 3.7.11 apply --format json > "$CONFIG.json" &
                pid=$!
                until grep -q '^State:.*stopped' /proc/$pid/status; do sleep 0.05; done
                chattr +i "$CONFIG/main.cf"
                kill -CONT $pid; wait $pid; echo "status $?"
                chattr -i "$CONFIG/main.cf"
                "$BIN" -c "$CONFIG" --postfix-version 3.7.11 apply; echo "again $?"
                """))
        #expect(result.outputText.contains("status 3\n"), "\(result.outputText) \(result.errors)")
        #expect(result.errors.contains("policy.db") && result.errors.contains("policy") && result.errors.contains("main.cf"), "\(result.errors)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config + ".json"))) as? [String: Any]
        #expect(json?["exitStatus"] as? Int == 3)
        #expect(json?["changed"] as? Bool == true)
        #expect((json?["changedFiles"] as? [[String: Any]])?.compactMap { $0["path"] as? String } == ["policy"])
        #expect((json?["rebuiltIndexes"] as? [[String: Any]])?.compactMap { $0["path"] as? String } == ["policy.db"])
        #expect(json?["reloadNeeded"] as? Bool == false)
        // chattr changed main.cf's ctime, so the journal's version of it is
        // dropped (it says so) and this run plans main.cf anew.
        #expect(result.errors.contains("main.cf changed after an earlier apply was interrupted"), "\(result.errors)")
        #expect(result.outputText.hasSuffix("again 0\n"), "\(result.outputText) \(result.errors)")
        #expect(try ExternalTool.postconf(["-h", "lmtp_tls_servername"], configDirectory: config).outputText == "hostname\n")
    }

    /// Every file is replaced, then the journal cannot be removed: not
    /// "nothing replaced", but exit 3 with every file named and a reload.
    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs root"))
    func aFailureAfterEveryRenameIsNotNothingReplaced() throws {
        try directory.write("postfix/policy", "a.example secure servername=hostname\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        let result = try #require(
            try asRoot(
                """
                POSTFIX_TLS_FIX_TEST_STOP_AT="commit: directory synced#2" "$BIN" -c "$CONFIG" --postfix-version 3.7.11 apply --format json > "$CONFIG.json" &
                pid=$!
                until grep -q '^State:.*stopped' /proc/$pid/status; do sleep 0.05; done
                chattr +i "$CONFIG"
                kill -CONT $pid; wait $pid; echo "status $?"
                chattr -i "$CONFIG"
                "$BIN" -c "$CONFIG" --postfix-version 3.7.11 apply; echo "again $?"
                """))
        #expect(result.outputText.contains("status 3\n"), "\(result.outputText) \(result.errors)")
        #expect(!result.errors.contains("nothing replaced"), "\(result.errors)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config + ".json"))) as? [String: Any]
        #expect(json?["changed"] as? Bool == true)
        #expect((json?["changedFiles"] as? [[String: Any]])?.compactMap { $0["path"] as? String } == ["main.cf"])
        #expect(json?["reloadNeeded"] as? Bool == true)
        #expect(result.outputText.hasSuffix("again 0\n"), "\(result.outputText) \(result.errors)")
        #expect(try ExternalTool.postconf(["-h", "lmtp_tls_servername"], configDirectory: config).outputText == "hostname\n")
    }
}
