// MailLogTests.swift: apply leaves a trace of what it changed in the mail
// log: syslog, facility mail, as Postfix's own programs log. The test puts a
// listening socket at /dev/log in a private mount namespace (root only) and
// reads what arrives.

import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct MailLogTests {
    @Test(.enabled(if: TestEnvironment.runs(needing: geteuid() == 0), "needs a private mount namespace"))
    func applyLogsWhatItChangedWithFacilityMail() throws {
        let directory = try TestDirectory("ptf-maillog")
        let config = directory.file("postfix")
        try directory.write(
            "postfix/main.cf",
            "compatibility_level = 3.6\nsmtp_tls_security_level = verify\nsmtp_tls_policy_maps = hash:\(config)/policy\nlmtp_tls_security_level = secure\n"
        )
        try directory.write("postfix/policy", "a.example secure\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        let script = """
            dev="$WORK/dev"; mkdir -p "$dev"
            mknod -m 666 "$dev/null" c 1 3
            python3 -c '
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(sys.argv[1]); s.settimeout(20)
            open(sys.argv[2], "w").close()
            with open(sys.argv[2], "ab") as out:
                while True:
                    try: data = s.recv(65536)
                    except socket.timeout: break
                    out.write(data + b"\\n"); out.flush()
            ' "$dev/log" "$WORK/received" &
            listener=$!
            until [ -S "$dev/log" ]; do sleep 0.05; done
            mount --bind "$dev" /dev || exit 99
            "$BIN" -c "$CONFIG" --postfix-version 3.7.11 apply --backup >/dev/null; echo "status $?"
            "$BIN" -c "$CONFIG" --postfix-version 3.7.11 apply >/dev/null; echo "again $?"
            sleep 0.3; kill $listener
            cat "$WORK/received"
            """
        let result = try ExternalTool.run(
            "/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", script],
            environment: ["CONFIG": config, "WORK": directory.path, "BIN": FixerBinary.path, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        let lines = result.outputText.split(separator: "\n").map(String.init)
        #expect(lines.prefix(2) == ["status 0", "again 0"], "\(result.outputText) \(result.errors)")
        let logged = lines.dropFirst(2)
        // One line for the change, none for the run with nothing to do.
        #expect(logged.count == 1, "\(logged)")
        let line = logged.first ?? ""
        // <22>: facility mail (2) * 8 + severity info (6).
        #expect(line.hasPrefix("<22>"), "\(line)")
        #expect(line.contains("postfix-tls-fix["), "\(line)")
        #expect(line.contains("\(config): replaced main.cf (2 edits); backups \(config)/main.cf.bak; postfix reload needed"), "\(line)")
    }
}
