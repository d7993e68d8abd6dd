// ProbeAllReport.swift: the JSON document of `probe --all --format json`:
// each destination with where the configuration verifies it and its probe,
// the counts per verdict, and what could not be probed (docs/json-schema.md).

public struct ProbeAllReport: Encodable, Sendable {
    public var configDirectory: String
    public var results: [ProbeAllResult]
    public var skipped: [SkippedTarget]

    public init(configDirectory: String, results: [ProbeAllResult], skipped: [SkippedTarget]) {
        self.configDirectory = configDirectory
        self.results = results
        self.skipped = skipped
    }

    struct Destination: Encodable {
        var result: ProbeAllResult

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            let target = result.target
            try container.encode(target.destination, forKey: .destination)
            try container.encode(target.level.rawValue, forKey: .level)
            try container.encode(target.location.path, forKey: .file)
            try container.encode(target.location.line, forKey: .line)
            try container.encode(target.key, forKey: .key)
            try container.encode(result.verdict, forKey: .verdict)
            try container.encode(result.verdict == .needed, forKey: .needsSNI)
            try container.encode(result.probe?.certificateDependsOnSNI, forKey: .certificateDependsOnSNI)
            try container.encode(result.probe?.conclusion ?? result.error ?? "", forKey: .message)
            try container.encode(result.probe.map { SNIProbeReport.Handshake(handshake: $0.withoutSNI) }, forKey: .withoutSNI)
            try container.encode(result.probe.map { SNIProbeReport.Handshake(handshake: $0.withSNI) }, forKey: .withSNI)
        }

        enum CodingKeys: String, CodingKey {
            case destination, level, file, line, key, verdict, needsSNI, certificateDependsOnSNI, message, withoutSNI, withSNI
        }
    }

    struct Skipped: Encodable {
        var skipped: SkippedTarget

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(skipped.location.path, forKey: .file)
            try container.encode(skipped.location.line, forKey: .line)
            try container.encode(skipped.key, forKey: .key)
            try container.encode(skipped.reason, forKey: .reason)
        }

        enum CodingKeys: String, CodingKey { case file, line, key, reason }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(JSONReport.schemaVersion, forKey: .schemaVersion)
        try container.encode("probe", forKey: .command)
        try container.encode(true, forKey: .all)
        try container.encode(configDirectory, forKey: .configDirectory)
        try container.encode(ProbeAll.exitStatus(results), forKey: .exitStatus)
        var counts: [String: Int] = [:]
        for verdict in [SNIVerdict.needed, .notNeeded, .doesNotHelp, .unknown] {
            counts[verdict.rawValue] = results.filter { $0.verdict == verdict }.count
        }
        try container.encode(counts, forKey: .summary)
        try container.encode(results.map(Destination.init), forKey: .destinations)
        try container.encode(skipped.map(Skipped.init), forKey: .skipped)
    }

    enum CodingKeys: String, CodingKey { case schemaVersion, command, all, configDirectory, exitStatus, summary, destinations, skipped }

    public func encoded() -> [UInt8] { JSONOutput.encode(self) }
}
