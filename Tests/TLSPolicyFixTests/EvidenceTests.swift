// EvidenceTests.swift: the Evidence stage in memory: `postqueue -j` output
// (captured from Postfix 3.7.11: one object per line), and which deferred
// recipients wait for which finding, by smtp(8)'s rules: the TLS policy
// lookup (exact key, then ".parent" keys, bracketed and port keys only
// verbatim, every map for one key before the next key), and the next hop
// from transport_maps and relayhost (trivial-rewrite).

import PostconfModel
import PostfixTools
import Testing

@testable import TLSPolicyFix

struct EvidenceTests {
    /// Real `postqueue -c DIR -j` output of Postfix 3.7.11: a message with
    /// two recipients deferred by a refused connection.
    static let capturedQueue = """
        {"queue_name": "deferred", "queue_id": "42401F7C050", "arrival_time": 1796478333, "message_size": 251, "forced_expire": false, \
        "sender": "a@sender.test", "recipients": [{"address": "bob@Other.Test", "delay_reason": "connect to 127.0.0.1[127.0.0.1]:2599: \
        Connection refused"}, {"address": "user@other.test", "delay_reason": "connect to 127.0.0.1[127.0.0.1]:2599: Connection refused"}]}

        """

    /// Real output of the e2e's sender3 (Postfix 3.7.11): both deferred by
    /// smtp(8)'s certificate failure, fail.test through a transport to
    /// [mx.gmail.test]:2528, whose entry already has servername.
    static let capturedCertificateFailures = """
        {"queue_name": "deferred", "queue_id": "848FAF7C444", "arrival_time": 1796478970, "message_size": 325, "forced_expire": false, \
        "sender": "e2e@sender3.test", "recipients": [{"address": "user@fail.test", "delay_reason": "Server certificate not verified"}]}
        {"queue_name": "deferred", "queue_id": "82F83F7C446", "arrival_time": 1796478970, "message_size": 327, "forced_expire": false, \
        "sender": "e2e@sender3.test", "recipients": [{"address": "user@gmail.test", "delay_reason": "Server certificate not verified"}]}

        """

    /// One deferred message in postqueue -j's format with smtp(8)'s certificate failure.
    static func certificateFailure(_ id: String, _ addresses: [String], reason: String = "Server certificate not verified") -> String {
        let recipients = addresses.map { "{\"address\": \"\($0)\", \"delay_reason\": \"\(reason)\"}" }.joined(separator: ", ")
        return "{\"queue_name\": \"deferred\", \"queue_id\": \"\(id)\", \"arrival_time\": 1796478333, \"message_size\": 300, "
            + "\"forced_expire\": false, \"sender\": \"a@sender.test\", \"recipients\": [\(recipients)]}\n"
    }

    static func queue(_ lines: String...) throws -> [QueuedMessage] {
        try PostQueue.messages(json: Array(lines.joined().utf8))
    }

    /// The evidence for an in-memory configuration: main.cf, tables, and transport_maps' answers.
    static func evidence(
        _ mainCf: String, files: [String: String] = [:], transports: [String: String]? = nil, queue: [QueuedMessage]
    ) throws -> DeferredMail {
        let options = FixOptions(postfixVersion: PostfixVersion(3, 7))
        let configuration = try Configuration.inMemory(mainCf: mainCf, files: files)
        let preview = try Pipeline.preview(configuration, options: options, for: .preview)
        return Evidence.match(
            queue: queue, findings: preview.inspection.findings, configuration: configuration, options: options,
            transports: transports.map(InMemoryTransportTable.init))
    }

    /// "line N: key" of each finding with waiting mail, and its queue ids.
    static func summary(_ mail: DeferredMail) -> [String] {
        mail.waiting.map { "\($0.finding.location.line.map(String.init) ?? "-"): \($0.finding.subject ?? "") \($0.queueIDs)" }
    }

    static let policyMainCf = "smtp_tls_policy_maps = texthash:/etc/postfix/tls_policy\n"

    @Test func readsPostqueueJSON() throws {
        let messages = try PostQueue.messages(json: Array(Self.capturedQueue.utf8))
        #expect(
            messages == [
                QueuedMessage(
                    queueName: "deferred", queueID: "42401F7C050", arrivalTime: 1_796_478_333, sender: "a@sender.test",
                    recipients: [
                        .init(address: "bob@Other.Test", delayReason: "connect to 127.0.0.1[127.0.0.1]:2599: Connection refused"),
                        .init(address: "user@other.test", delayReason: "connect to 127.0.0.1[127.0.0.1]:2599: Connection refused"),
                    ])
            ])
        #expect(messages[0].recipients[0].domain == "other.test")
        #expect(throws: PostfixToolError.self) { try PostQueue.messages(json: Array("[not json\n".utf8)) }
    }

    @Test func capturedSender3Queue() throws {
        let table = "gmail.test verify\n[mx.gmail.test]:2528 verify servername=hostname\n"
        let mail = try Self.evidence(
            Self.policyMainCf + "transport_maps = inline:{ fail.test=smtp:[mx.gmail.test]:2528 }\n",
            files: ["/etc/postfix/tls_policy": table], transports: ["fail.test": "smtp:[mx.gmail.test]:2528"],
            queue: PostQueue.messages(json: Array(Self.capturedCertificateFailures.utf8)))
        #expect(Self.summary(mail) == ["1: gmail.test [\"82F83F7C446\"]"])
        #expect(mail.queuedIDs == ["82F83F7C446"])
    }

    @Test func certificateFailureReasons() {
        #expect(Evidence.isCertificateFailure("Server certificate not verified"))
        #expect(Evidence.isCertificateFailure("delivery temporarily suspended: Server certificate not verified"))
        #expect(!Evidence.isCertificateFailure("connect to 127.0.0.1[127.0.0.1]:2599: Connection refused"))
        #expect(!Evidence.isCertificateFailure("TLS is required, but was not offered by host mx.example[192.0.2.1]"))
    }

    @Test func exactDestinationOnly() throws {
        let table = "gmail.test verify\nother.test verify servername=hostname\n"
        let mail = try Self.evidence(
            Self.policyMainCf, files: ["/etc/postfix/tls_policy": table],
            queue: Self.queue(
                Self.certificateFailure("A1", ["user@gmail.test", "x@Gmail.Test"]),
                Self.certificateFailure("A2", ["user@sub.gmail.test"]),  // "gmail.test" does not cover subdomains
                Self.certificateFailure("A3", ["user@other.test"]),  // its entry has servername: not ours
                Self.certificateFailure("A4", ["user@gmail.test"], reason: "connect to mx.gmail.test[127.0.0.2]:25: Connection refused")))
        #expect(Self.summary(mail) == ["1: gmail.test [\"A1\"]"])
        #expect(mail.waiting[0].sentence == "1 deferred message to gmail.test is waiting for this fix (Server certificate not verified)")
        #expect(mail.queuedIDs == ["A1"])
        #expect(mail.summary == "1 deferred message to gmail.test is waiting for these fixes")
    }

    @Test func parentDomainEntries() throws {
        // smtp_tls_policy.c: sub.gmail.test, then .gmail.test, then .test;
        // ".gmail.test" never covers gmail.test itself, and
        // parent_domain_matches_subdomains does not change that.
        let table = "gmail.test may\n.gmail.test verify\n"
        let mainCf = Self.policyMainCf + "parent_domain_matches_subdomains = smtp_tls_policy_maps\n"
        let mail = try Self.evidence(
            mainCf, files: ["/etc/postfix/tls_policy": table],
            queue: Self.queue(
                Self.certificateFailure("B1", ["user@mx.sub.gmail.test"]),
                Self.certificateFailure("B2", ["user@gmail.test"])))
        #expect(Self.summary(mail) == ["2: .gmail.test [\"B1\"]"])
    }

    @Test func exactKeyOfALaterMapBeatsParentOfAnEarlierOne() throws {
        let mainCf = "smtp_tls_policy_maps = texthash:/etc/postfix/p1, texthash:/etc/postfix/p2\n"
        let mail = try Self.evidence(
            mainCf, files: ["/etc/postfix/p1": ".gmail.test verify\n", "/etc/postfix/p2": "sub.gmail.test secure\n"],
            queue: Self.queue(
                Self.certificateFailure("C1", ["user@sub.gmail.test"]),
                Self.certificateFailure("C2", ["user@other.gmail.test"])))
        #expect(
            mail.waiting.map { "\($0.finding.location.path): \($0.finding.subject ?? "") \($0.queueIDs)" }
                == ["p1: .gmail.test [\"C2\"]", "p2: sub.gmail.test [\"C1\"]"])
    }

    @Test func transportNextHopIsTheVerbatimKey() throws {
        // transport other.test -> smtp:[mx.gmail.test]:2525: the policy key is
        // "[mx.gmail.test]:2525" exactly, and "other.test verify" is not used.
        let table = "other.test verify\n[mx.gmail.test]:2525 verify\n[mx.gmail.test] verify\n"
        let mail = try Self.evidence(
            Self.policyMainCf + "transport_maps = inline:{ x }\n", files: ["/etc/postfix/tls_policy": table],
            transports: ["other.test": "smtp:[mx.gmail.test]:2525", ".sub.test": "relay:[mx.gmail.test]"],
            queue: Self.queue(
                Self.certificateFailure("D1", ["user@other.test"]),
                Self.certificateFailure("D2", ["user@a.sub.test"]),
                Self.certificateFailure("D3", ["user@sub.test"])))  // ".sub.test" is for subdomains
        #expect(Self.summary(mail) == ["2: [mx.gmail.test]:2525 [\"D1\"]", "3: [mx.gmail.test] [\"D2\"]"])
        #expect(mail.waiting[0].recipients[0].nextHop == "[mx.gmail.test]:2525")
    }

    @Test func transportParentStyleFollowsParentDomainMatchesSubdomains() throws {
        let table = "[relay.test] verify\n"
        let mainCf = Self.policyMainCf + "parent_domain_matches_subdomains = transport_maps\n"
        let mail = try Self.evidence(
            mainCf, files: ["/etc/postfix/tls_policy": table], transports: ["gmail.test": "smtp:[relay.test]"],
            queue: Self.queue(Self.certificateFailure("E1", ["user@sub.gmail.test"])))
        #expect(Self.summary(mail) == ["1: [relay.test] [\"E1\"]"])
    }

    @Test func relayhostAndTheGlobalLevel() throws {
        // No policy entry for the relayhost: main.cf's level governs, and
        // its finding is the one the mail waits for.
        let mainCf = "relayhost = [relay.test]:587\nsmtp_tls_security_level = verify\n"
        let mail = try Self.evidence(
            mainCf, transports: ["direct.test": "smtp:", "local.test": "local:"],
            queue: Self.queue(
                Self.certificateFailure("F1", ["user@gmail.test"]),
                Self.certificateFailure("F2", ["user@direct.test"]),
                Self.certificateFailure("F3", ["user@local.test"])))
        #expect(Self.summary(mail) == ["2: smtp_tls_security_level [\"F1\", \"F2\"]"])
        #expect(mail.waiting[0].recipients.map(\.nextHop) == ["[relay.test]:587", "direct.test"])
    }

    @Test func relayhostEntryInThePolicyTable() throws {
        let table = "[relay.test]:587 secure\ngmail.test verify\n"
        let mail = try Self.evidence(
            Self.policyMainCf + "relayhost = [relay.test]:587\n", files: ["/etc/postfix/tls_policy": table],
            queue: Self.queue(Self.certificateFailure("G1", ["user@gmail.test"])))
        #expect(Self.summary(mail) == ["1: [relay.test]:587 [\"G1\"]"])
    }

    @Test func patternTablesFirstMakeTheAnswerUnknown() throws {
        let mainCf = "smtp_tls_policy_maps = regexp:/etc/postfix/re, texthash:/etc/postfix/tls_policy\n"
        let mail = try Self.evidence(
            mainCf, files: ["/etc/postfix/re": "/^x/ may\n", "/etc/postfix/tls_policy": "gmail.test verify\n"],
            queue: Self.queue(Self.certificateFailure("H1", ["user@gmail.test"])))
        #expect(mail.waiting.isEmpty)
    }

    @Test func mailLogDeferralsNotSinceDelivered() {
        let log = """
            Dec 05 13:45:33 sender postfix/smtp[18820]: 42401F7C050: to=<user@gmail.test>, relay=mx.gmail.test[127.0.0.2]:2525, \
            delay=0.1, delays=0.02/0.01/0.05/0, dsn=4.7.5, status=deferred (Server certificate not verified)
            Dec 05 13:45:34 sender postfix/smtp[18820]: 5A5A5A5A5A5: to=<x@gmail.test>, orig_to=<x@alias.test>, relay=mx.gmail.test[127.0.0.2]:2525, \
            delay=0.1, delays=0.02/0.01/0.05/0, dsn=4.7.5, status=deferred (Server certificate not verified)
            Dec 05 13:50:00 sender postfix/smtp[18821]: 5A5A5A5A5A5: to=<x@gmail.test>, orig_to=<x@alias.test>, relay=mx.gmail.test[127.0.0.2]:2525, \
            delay=300, delays=300/0/0.05/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)
            Dec 05 13:50:01 sender postfix/qmgr[18812]: 42401F7C050: from=<a@sender.test>, size=251, nrcpt=1 (queue active)

            """
        #expect(
            MailLog.deferrals(in: Array(log.utf8))
                == [LoggedDeferral(queueID: "42401F7C050", recipient: "user@gmail.test", reason: "Server certificate not verified")])
    }

    @Test func loggedMailThatIsStillQueuedCountsOnce() throws {
        let options = FixOptions(postfixVersion: PostfixVersion(3, 7))
        let configuration = try Configuration.inMemory(mainCf: Self.policyMainCf, files: ["/etc/postfix/tls_policy": "gmail.test verify\n"])
        let findings = try Pipeline.preview(configuration, options: options, for: .preview).inspection.findings
        let logged = [
            LoggedDeferral(queueID: "Q1", recipient: "user@gmail.test", reason: "Server certificate not verified"),
            LoggedDeferral(queueID: "GONE", recipient: "user@gmail.test", reason: "Server certificate not verified"),
        ]
        let mail = Evidence.match(
            queue: try Self.queue(Self.certificateFailure("Q1", ["user@gmail.test"])), logged: logged,
            mailLog: "/var/log/mail.log", findings: findings, configuration: configuration, options: options,
            transports: nil)
        #expect(mail.waiting.first?.recipients.map { "\($0.queueID) \($0.queued)" } == ["Q1 true", "GONE false"])
        #expect(mail.queuedIDs == ["Q1"])
    }
}
