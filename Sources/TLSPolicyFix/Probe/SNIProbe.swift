// SNIProbe.swift: whether a destination needs SNI. Compares the TLS
// handshake without SNI (what Postfix does unless told otherwise) with the
// one that sends servername=hostname, and says which of them smtp(8) would
// accept at the verify or secure level.

import PostfixTools

/// The answer for one destination.
public enum SNIVerdict: String, Sendable, Encodable {
    /// Verifies without SNI: nothing to fix for this destination (exit 0).
    case notNeeded = "not-needed"
    /// Fails without SNI and verifies with it: add servername (exit 1).
    case needed
    /// Fails both ways: SNI is not the (only) problem (exit 2).
    case doesNotHelp = "does-not-help"
    /// No TLS session could be made, so nothing can be said (exit 2).
    case unknown

    /// The probe's exit status: 0 fine as it is, 1 needs SNI, 2 cannot be fixed by SNI or not known.
    public var exitStatus: Int32 {
        switch self {
        case .notNeeded: 0
        case .needed: 1
        case .doesNotHelp, .unknown: 2
        }
    }
}

public struct SNIProbe: Sendable {
    public var destination: String
    public var level: String
    /// The -s value used for the second handshake ("hostname": the MX host
    /// name, exactly what servername=hostname sends).
    public var servername: String
    public var withoutSNI: TLSHandshake
    public var withSNI: TLSHandshake

    public init(destination: String, level: String, servername: String, withoutSNI: TLSHandshake, withSNI: TLSHandshake) {
        self.destination = destination
        self.level = level
        self.servername = servername
        self.withoutSNI = withoutSNI
        self.withSNI = withSNI
    }

    public var verdict: SNIVerdict {
        if withoutSNI.failure != nil || withSNI.failure != nil { return .unknown }
        if withoutSNI.verified { return .notNeeded }
        return withSNI.verified ? .needed : .doesNotHelp
    }

    /// Whether the server presented different certificates with and without SNI.
    public var certificateDependsOnSNI: Bool? {
        guard let a = withoutSNI.fingerprint, let b = withSNI.fingerprint else { return nil }
        return a != b
    }

    /// One sentence for the admin.
    public var conclusion: String {
        switch verdict {
        case .notNeeded:
            let note = withSNI.verified ? "" : " (with SNI it does not: \(Self.reason(withSNI)))"
            return "\(destination) does not need SNI: its certificate verifies at level \(level) without it\(note)"
        case .needed:
            return "\(destination) needs SNI: without it the server presents a certificate that fails verification "
                + "(\(Self.reason(withoutSNI))); with servername=\(servername) it verifies. "
                + "Policy entries for it need servername=\(servername): run `postfix-tls-fix check`"
        case .doesNotHelp:
            return "\(destination) fails verification at level \(level) with and without SNI "
                + "(without: \(Self.reason(withoutSNI)); with: \(Self.reason(withSNI))); SNI alone does not fix it"
        case .unknown:
            let failure = withoutSNI.failure ?? withSNI.failure ?? "unknown"
            return "cannot tell whether \(destination) needs SNI: \(failure)"
        }
    }

    /// One line per handshake: server, certificate, and the result.
    public static func describe(_ handshake: TLSHandshake) -> String {
        if let failure = handshake.failure { return "no TLS session: \(failure)" }
        var text = handshake.server ?? "?"
        text += ": CN=\(handshake.subjectCN ?? "?"), issued by CN=\(handshake.issuerCN ?? "?")"
        if handshake.verified {
            text += ": verified" + (handshake.matchedName.map { " (matched \($0))" } ?? "")
        } else {
            text += ": \((handshake.trust ?? "not").lowercased()), not verified (\(reason(handshake)))"
        }
        return text
    }

    static func reason(_ handshake: TLSHandshake) -> String {
        if let failure = handshake.failure { return failure }
        if handshake.verified { return "verified" }
        return handshake.verificationFailure ?? "\(handshake.trust ?? "no") TLS session"
    }
}
