// ProbeTargets.swift: every destination the configuration verifies (verify
// or secure), for `probe --all`: the entries of main.cf's
// smtp_tls_policy_maps whose key names one destination, and the relayhost
// when main.cf's own level verifies. Keys are written as smtp(8) looks them
// up (NextHop.swift), so each is the destination as posttls-finger takes it;
// smtp(8) connects to smtp_tcp_port unless the key names a port, and
// posttls-finger to 25, so the port is added when they differ. What names
// no single destination (".parent" entries, patterns, main.cf's level for
// every domain) is listed as skipped, with why.

import PostconfModel

/// One destination to probe, and where the configuration verifies it.
public struct ProbeTarget: Sendable, Equatable {
    /// As posttls-finger takes it: "domain[:port]" (MX lookup) or "[host][:port]".
    public var destination: String
    public var level: TLSSecurityLevel
    public var location: SourceLocation
    /// The table key or main.cf parameter.
    public var key: String
}

/// A verifying place `probe --all` cannot probe, and why.
public struct SkippedTarget: Sendable, Equatable {
    public var location: SourceLocation
    public var key: String
    public var reason: String
}

public struct ProbeTargets: Sendable {
    public var targets: [ProbeTarget] = []
    public var skipped: [SkippedTarget] = []

    public static func collect(_ configuration: Configuration, options: FixOptions) -> ProbeTargets {
        var result = ProbeTargets()
        for element in MapReference.splitList(configuration.value("smtp_tls_policy_maps")) {
            guard let reference = MapReference(element),
                case .loaded(let table)? = try? TableLoader.load(
                    reference, listedAt: configuration.mainCfLocation("smtp_tls_policy_maps"), configuration: configuration,
                    options: options)
            else { continue }
            for index in table.sites.indices {
                let site = table.sites.view(index)
                guard let level = PolicyValue(Array(site.value)).level, level.verifiesPeerName else { continue }
                let key = table.sites.key(of: site)
                let location = table.sites.location(of: site)
                guard let lookupKey = table.sites.lookupKey(of: site) else {
                    result.skipped.append(SkippedTarget(location: location, key: key, reason: "a pattern names no single destination"))
                    continue
                }
                guard table.sites.usedSite(forKeyOf: site) == index else { continue }
                guard lookupKey.first != UInt8(ascii: ".") else {
                    result.skipped.append(
                        SkippedTarget(
                            location: location, key: key,
                            reason: "a parent-domain entry covers every subdomain; probe one by name"))
                    continue
                }
                result.add(
                    ProbeTarget(
                        destination: destination(String(decoding: lookupKey, as: UTF8.self), configuration),
                        level: level, location: location, key: key))
            }
        }
        result.addGlobal(configuration)
        return result
    }

    /// main.cf's own verifying level: the relayhost's destinations, or a note.
    mutating func addGlobal(_ configuration: Configuration) {
        let parameter = "smtp_tls_security_level"
        guard let level = TLSSecurityLevel(token: configuration.value(parameter)), level.verifiesPeerName else { return }
        let location = configuration.mainCfLocation(parameter)
        let relayhost = String(decoding: configuration.value("relayhost"), as: UTF8.self)
        guard !relayhost.isEmpty else {
            skipped.append(
                SkippedTarget(
                    location: location, key: parameter,
                    reason: "the level of every destination without a policy entry; probe them by name"))
            return
        }
        for hop in relayhost.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            add(ProbeTarget(destination: Self.destination(String(hop), configuration), level: level, location: location, key: "relayhost"))
        }
    }

    mutating func add(_ target: ProbeTarget) {
        if !targets.contains(where: { $0.destination == target.destination && $0.level == target.level }) { targets.append(target) }
    }

    /// The next hop as posttls-finger takes it: with smtp_tcp_port added
    /// when the key names no port and it is not 25.
    static func destination(_ nexthop: String, _ configuration: Configuration) -> String {
        let port = String(decoding: configuration.value("smtp_tcp_port"), as: UTF8.self)
        let hasPort = nexthop.hasPrefix("[") ? nexthop.contains("]:") : nexthop.contains(":")
        guard !hasPort, !port.isEmpty, port != "25", port != "smtp" else { return nexthop }
        return nexthop + ":" + port
    }
}
