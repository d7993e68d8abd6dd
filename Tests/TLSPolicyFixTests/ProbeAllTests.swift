// ProbeAllTests.swift: `probe --all` without a network: which destinations
// a configuration verifies (and which it cannot name), and the bounded
// parallel runner with a stand-in for posttls-finger.

import Glibc
import PostconfModel
import PostfixTools
import Synchronization
import Testing

@testable import TLSPolicyFix

struct ProbeAllTests {
    @Test func targetsAreTheVerifyingEntriesAsSMTPLooksThemUp() throws {
        let table = """
            gmail.test verify
            Gmail.Test secure
            .gmail.test verify
            [mx.example.test]:2527 secure servername=hostname
            [relay.test] verify
            other.test may
            dane.test dane-only

            """
        let configuration = try Configuration.inMemory(
            mainCf: "smtp_tls_policy_maps = texthash:/etc/postfix/p, regexp:/etc/postfix/re\nsmtp_tcp_port = 2525\n"
                + "smtp_tls_security_level = secure\nrelayhost = [relay.test], backup.test:587\n",
            files: ["/etc/postfix/p": table, "/etc/postfix/re": "/^x/ verify\n"])
        let collected = ProbeTargets.collect(configuration, options: FixOptions(postfixVersion: PostfixVersion(3, 7)))
        #expect(
            collected.targets.map { "\($0.destination) \($0.level.rawValue) \($0.location)" } == [
                "gmail.test:2525 verify p, line 1", "[mx.example.test]:2527 secure p, line 4", "[relay.test]:2525 verify p, line 5",
                "[relay.test]:2525 secure main.cf, line 3", "backup.test:587 secure main.cf, line 3",
            ])
        #expect(collected.skipped.map { "\($0.location): \($0.key)" } == ["p, line 3: .gmail.test", "re, line 1: /^x/"])
    }

    @Test func runsBoundedAndKeepsTheOrder() {
        let targets = (0..<7).map {
            ProbeTarget(destination: "d\($0).test", level: .verify, location: SourceLocation(path: "p", line: $0 + 1), key: "d\($0).test")
        }
        let running = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let results = ProbeAll.run(targets, parallel: 3, servername: "hostname") { target, sni throws(PostfixToolError) in
            let now = running.add(1, ordering: .relaxed).newValue
            _ = most.max(now, ordering: .relaxed)
            usleep(20_000)
            running.subtract(1, ordering: .relaxed)
            var handshake = TLSHandshake(sni: sni)
            handshake.trust = target.destination == "d1.test" && sni == nil ? "Untrusted" : "Verified"
            if target.destination == "d5.test" { handshake.failure = "connection refused" }
            return handshake
        }
        #expect(results.map(\.target.destination) == targets.map(\.destination))
        #expect(results.map(\.verdict) == [.notNeeded, .needed, .notNeeded, .notNeeded, .notNeeded, .unknown, .notNeeded])
        #expect(most.load(ordering: .relaxed) <= 3 && most.load(ordering: .relaxed) >= 2)
        #expect(ProbeAll.exitStatus(results) == 2)
    }
}
