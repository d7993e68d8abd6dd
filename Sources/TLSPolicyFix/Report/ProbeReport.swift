// ProbeReport.swift: the JSON document of `probe --format json`: both
// handshakes and the verdict, described in docs/json-schema.md.

import PostfixTools

/// The probe as JSON (`probe --format json`); see docs/json-schema.md.
public struct SNIProbeReport: Encodable, Sendable {
    public var probe: SNIProbe

    public init(_ probe: SNIProbe) { self.probe = probe }

    struct Handshake: Encodable {
        var handshake: TLSHandshake

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(handshake.sni, forKey: .sni)
            try container.encode(handshake.server, forKey: .server)
            try container.encode(handshake.trust, forKey: .trust)
            try container.encode(handshake.verified, forKey: .verified)
            try container.encode(handshake.subjectCN, forKey: .subjectCN)
            try container.encode(handshake.issuerCN, forKey: .issuerCN)
            try container.encode(handshake.fingerprint, forKey: .fingerprint)
            try container.encode(handshake.matchedName, forKey: .matchedName)
            try container.encode(handshake.verificationFailure, forKey: .verificationFailure)
            try container.encode(handshake.failure, forKey: .failure)
        }

        enum CodingKeys: String, CodingKey {
            case sni, server, trust, verified, subjectCN, issuerCN, fingerprint, matchedName, verificationFailure, failure
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(JSONReport.schemaVersion, forKey: .schemaVersion)
        try container.encode("probe", forKey: .command)
        try container.encode(probe.destination, forKey: .destination)
        try container.encode(probe.level, forKey: .level)
        try container.encode(probe.verdict, forKey: .verdict)
        try container.encode(probe.verdict == .needed, forKey: .needsSNI)
        try container.encode(probe.certificateDependsOnSNI, forKey: .certificateDependsOnSNI)
        try container.encode(probe.conclusion, forKey: .message)
        try container.encode(probe.verdict.exitStatus, forKey: .exitStatus)
        try container.encode(Handshake(handshake: probe.withoutSNI), forKey: .withoutSNI)
        try container.encode(Handshake(handshake: probe.withSNI), forKey: .withSNI)
        try container.encode(ToolVersion.current, forKey: .toolVersion)
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion, command, destination, level, verdict, needsSNI, certificateDependsOnSNI, message, exitStatus
        case withoutSNI, withSNI, toolVersion
    }

    public func encoded() -> [UInt8] { JSONOutput.encode(self) }
}
