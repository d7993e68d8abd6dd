// ProbeParsingTests.swift: reading posttls-finger's output and the probe's
// verdict. The fixtures under Tests/Fixtures/posttls-finger are what
// Postfix 3.7's posttls-finger printed against the end-to-end test's
// loopback receiver (captured as they were; the live probe itself is
// tested in Tests/e2e/probe-phase.sh). These tests keep the parsing honest
// where the end-to-end test cannot run (no root, no namespaces).

import PostfixTestSupport
import PostfixTools
import TLSPolicyFix
import Testing

struct ProbeParsingTests {
    static func handshake(_ fixture: String, sni: String? = nil) throws -> TLSHandshake {
        let text = String(decoding: try readBytes(fixturesDirectory + "/posttls-finger/" + fixture), as: UTF8.self)
        return TLSHandshake(sni: sni, output: text)
    }

    @Test func selfSignedWithoutSNI() throws {
        let handshake = try Self.handshake("no-sni-self-signed.txt")
        #expect(handshake.server == "mx.gmail.test[127.0.0.2]:2525")
        #expect(handshake.trust == "Untrusted")
        #expect(!handshake.verified)
        #expect(handshake.subjectCN == "invalid2.invalid")
        #expect(handshake.issuerCN == "invalid2.invalid")
        #expect(handshake.verificationFailure == "self-signed certificate")
        #expect(handshake.fingerprint?.hasPrefix("A3:BF:12:13:") == true)
        #expect(handshake.matchedName == nil)
        #expect(handshake.failure == nil)
        #expect(handshake.warnings.first == "DNSSEC validation may be unavailable")
    }

    @Test func verifiedWithSNI() throws {
        let handshake = try Self.handshake("sni-verified.txt", sni: "hostname")
        #expect(handshake.verified)
        #expect(handshake.subjectCN == "mx.gmail.test")
        #expect(handshake.issuerCN == "postfix-tls-fix e2e test CA")
        #expect(handshake.matchedName == "mx.gmail.test")
        #expect(handshake.details?.hasPrefix("TLSv1.3 with cipher ") == true)
    }

    @Test func nameMismatchAndRefusedConnection() throws {
        let mismatch = try Self.handshake("hostname-mismatch.txt")
        #expect(mismatch.verificationFailure == "num=62:hostname mismatch")
        #expect(!mismatch.verified)
        let refused = try Self.handshake("connection-refused.txt")
        #expect(refused.trust == nil)
        #expect(refused.failure?.hasSuffix("connect to 127.0.0.2[127.0.0.2]:2526: Connection refused") == true)
    }

    @Test func verdicts() throws {
        let selfSigned = try Self.handshake("no-sni-self-signed.txt")
        let verified = try Self.handshake("sni-verified.txt", sni: "hostname")
        let mismatch = try Self.handshake("hostname-mismatch.txt", sni: "hostname")
        let refused = try Self.handshake("connection-refused.txt")
        func verdict(_ without: TLSHandshake, _ with: TLSHandshake) -> SNIVerdict {
            SNIProbe(destination: "d", level: "verify", servername: "hostname", withoutSNI: without, withSNI: with).verdict
        }
        #expect(verdict(selfSigned, verified) == .needed)
        #expect(verdict(verified, verified) == .notNeeded)
        #expect(verdict(selfSigned, mismatch) == .doesNotHelp)
        #expect(verdict(refused, verified) == .unknown)
        #expect(SNIVerdict.needed.exitStatus == 1 && SNIVerdict.notNeeded.exitStatus == 0 && SNIVerdict.unknown.exitStatus == 2)
        let probe = SNIProbe(destination: "gmail.test", level: "verify", servername: "hostname", withoutSNI: selfSigned, withSNI: verified)
        #expect(probe.certificateDependsOnSNI == true)
        #expect(
            probe.conclusion.hasPrefix(
                "gmail.test needs SNI: without it the server presents a certificate that fails verification (self-signed certificate)"))
    }

    @Test func argumentsSendSNIOnlyWhenAsked() {
        let run = PostTLSFingerRun(
            executable: "/usr/sbin/posttls-finger", configDirectory: "/etc/postfix", destination: "example.com",
            level: "verify", caFile: "/etc/ssl/ca.pem", caPath: nil, hostLookup: "native", timeout: 10)
        #expect(
            run.arguments(sni: nil) == [
                "-c", "-l", "verify", "-L", "routine,certmatch,peercert", "-t", "10", "-T", "10",
                "-F", "/etc/ssl/ca.pem", "-h", "native", "example.com",
            ])
        #expect(run.arguments(sni: "hostname").suffix(3) == ["-s", "hostname", "example.com"])
    }
}
