// PostTLSFinger.swift: runs Postfix's own TLS probe, posttls-finger(1), and
// reads what it logs about one TLS handshake: which server, which
// certificate, whether it verified and why not. Postfix's TLS code makes
// the connection, so what the probe sees is what smtp(8) sees.
//
// The lines read (Postfix 3.4 to 3.10 log them the same way), after the
// "posttls-finger: " prefix:
//   HOST[ADDR]:PORT: subject_CN=..., issuer_CN=..., fingerprint=..., pkey_fingerprint=...
//   HOST[ADDR]:PORT: matched peername: NAME
//   [server ]certificate verification failed for HOST[ADDR]:PORT: REASON
//   (Verified|Trusted|Untrusted|Anonymous) TLS connection established to HOST[ADDR]:PORT: DETAILS
//   Failed to establish session to ...: REASON      (one address failed)
//   Destination address lookup failed: REASON       (DNS)
//   fatal: ... / warning: ...

/// What one posttls-finger run saw.
public struct TLSHandshake: Sendable, Equatable {
    /// The SNI name asked for (posttls-finger -s), nil for none.
    public var sni: String?
    /// The server of the established session, "host[address]:port".
    public var server: String?
    /// Postfix's word for the session: Verified, Trusted, Untrusted or Anonymous.
    public var trust: String?
    public var subjectCN: String?
    public var issuerCN: String?
    /// The certificate's fingerprint (smtp_tls_fingerprint_digest).
    public var fingerprint: String?
    /// The name the certificate matched, when it did.
    public var matchedName: String?
    /// Why verification failed ("self-signed certificate", "num=62:hostname mismatch").
    public var verificationFailure: String?
    /// Protocol and cipher of the session.
    public var details: String?
    /// Why there was no TLS session at all (connection, DNS, no STARTTLS).
    public var failure: String?
    /// Warnings posttls-finger logged.
    public var warnings: [String] = []

    public init(sni: String?) { self.sni = sni }

    /// Whether smtp(8) at the probed level would accept this server.
    public var verified: Bool { failure == nil && trust == "Verified" }

    /// Reads posttls-finger's output (standard error and output together).
    /// With several MX hosts or addresses the last established session
    /// counts; failures before it are only attempts.
    public init(sni: String?, output: String) {
        self.sni = sni
        var attemptFailures: [String] = []
        var fatal: String?
        for rawLine in output.split(separator: "\n") {
            guard rawLine.hasPrefix("posttls-finger: ") else { continue }
            let line = String(rawLine.dropFirst("posttls-finger: ".count))
            if line.hasPrefix("fatal: ") {
                fatal = String(line.dropFirst("fatal: ".count))
            } else if line.hasPrefix("warning: ") {
                warnings.append(String(line.dropFirst("warning: ".count)))
            } else if line.hasPrefix("Failed to establish session to ") || line.hasPrefix("Destination address lookup failed: ") {
                attemptFailures.append(line)
            } else if let range = line.firstRange(of: "certificate verification failed for "),
                line.hasPrefix("certificate") || line.hasPrefix("server certificate")
            {
                let rest = line[range.upperBound...]
                verificationFailure = rest.firstRange(of: ": ").map { String(rest[$0.upperBound...]) } ?? String(rest)
            } else if let range = line.firstRange(of: " TLS connection established to ") {
                trust = String(line[..<range.lowerBound])
                let rest = line[range.upperBound...]
                if let colon = rest.firstRange(of: ": ") {
                    server = String(rest[..<colon.lowerBound])
                    details = String(rest[colon.upperBound...])
                } else {
                    server = String(rest)
                }
            } else if let range = line.firstRange(of: ": matched peername: ") {
                matchedName = String(line[range.upperBound...])
            } else if let range = line.firstRange(of: ": subject_CN=") {
                let fields = String(line[range.upperBound...])
                subjectCN = Self.field(fields, from: "", to: ", issuer_CN=")
                issuerCN = Self.field(fields, from: ", issuer_CN=", to: ", fingerprint=")
                fingerprint = Self.field(fields, from: ", fingerprint=", to: ", pkey_fingerprint=")
            }
        }
        if trust == nil {
            failure = fatal ?? attemptFailures.last ?? "no TLS session was established"
        }
    }

    /// The text between two markers of a "k=v, k=v" line (CNs may hold ", ").
    private static func field(_ text: String, from start: String, to end: String) -> String? {
        let afterStart: Substring
        if start.isEmpty {
            afterStart = text[...]
        } else {
            guard let range = text.firstRange(of: start) else { return nil }
            afterStart = text[range.upperBound...]
        }
        guard let endRange = afterStart.firstRange(of: end) else { return String(afterStart) }
        return String(afterStart[..<endRange.lowerBound])
    }
}

/// How to run posttls-finger.
public struct PostTLSFingerRun: Sendable {
    /// posttls-finger's path.
    public var executable: String
    /// The configuration directory, as MAIL_CONFIG: posttls-finger reads
    /// its TLS library settings from main.cf there.
    public var configDirectory: String
    /// The destination as smtp(8) and posttls-finger write it: a domain
    /// (MX lookup), "[host]" or "[host]:port", "host:port".
    public var destination: String
    /// The TLS security level: verify or secure.
    public var level: String
    public var caFile: String?
    public var caPath: String?
    /// smtp_host_lookup: dns, native or both.
    public var hostLookup: String?
    /// Connection and command timeout, seconds.
    public var timeout: Int

    public init(
        executable: String, configDirectory: String, destination: String, level: String,
        caFile: String?, caPath: String?, hostLookup: String?, timeout: Int
    ) {
        self.executable = executable
        self.configDirectory = configDirectory
        self.destination = destination
        self.level = level
        self.caFile = caFile
        self.caPath = caPath
        self.hostLookup = hostLookup
        self.timeout = timeout
    }

    /// posttls-finger where Postfix installs it.
    public static func findExecutable() -> String? {
        PostfixProgram.path(of: "posttls-finger")
    }

    /// The arguments: no SMTP chat logging, the certificate summary and
    /// name matching logged, and SNI only when `sni` is given.
    public func arguments(sni: String?) -> [String] {
        var arguments = ["-c", "-l", level, "-L", "routine,certmatch,peercert", "-t", "\(timeout)", "-T", "\(timeout)"]
        if let caFile { arguments += ["-F", caFile] }
        if let caPath { arguments += ["-P", caPath] }
        if let hostLookup { arguments += ["-h", hostLookup] }
        if let sni { arguments += ["-s", sni] }
        arguments.append(destination)
        return arguments
    }

    /// Runs posttls-finger once; throws when it cannot be started, or when
    /// it still runs long after its own timeouts could end it (up to five
    /// addresses, each a connection and a few commands).
    public func handshake(sni: String?) throws(PostfixToolError) -> TLSHandshake {
        // posttls-finger logs to standard error; one stream keeps the order.
        let result = try PostfixProgram.run(
            executable, arguments(sni: sni),
            environment: ["MAIL_CONFIG": configDirectory], mergeErrors: true, timeout: .seconds(Int64(timeout) * 10 + 30))
        return TLSHandshake(sni: sni, output: String(decoding: result.output, as: UTF8.self))
    }
}
