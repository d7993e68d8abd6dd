// NextHop.swift: where smtp(8) sends a recipient, and which TLS policy keys
// that next hop is looked up under, as Postfix decides them.
//
// trivial-rewrite (src/trivial-rewrite/resolve.c, transport.c):
//   1. transport_maps (mail_addr_find: "user@domain", the address without
//      its extension, "domain", then its parents, then "*"); parents are
//      ".parent" keys unless parent_domain_matches_subdomains names
//      transport_maps, then bare "parent" keys. A result "transport:nexthop"
//      sets the next hop; "transport" alone (or "transport:") resets it to
//      the recipient domain; ":" alone changes nothing.
//   2. otherwise relayhost, when set, replaces the recipient domain;
//   3. otherwise the domain itself (or default_transport's ":nexthop").
// smtp(8) then tries each destination of the list (src/smtp/smtp_connect.c)
// and looks up its TLS policy under the destination verbatim
// (src/smtp/smtp_tls_policy.c tls_policy_lookup): "[host]", "host:port"
// and "[host]:port" only as written; a domain as itself, then ".parent"
// for each parent (always dot-parents: the policy lookup is fixed code, not
// parent_domain_matches_subdomains).

import PostconfModel

/// The transport_maps of a configuration, searched as one list: the value
/// of the first map that has the key, as `postmap -q KEY MAP...` answers.
public protocol TransportTable: Sendable {
    func find(_ key: String) -> String?
}

/// A transport table held in memory, for tests (keys lower-case).
public struct InMemoryTransportTable: TransportTable {
    let entries: [String: String]
    public init(_ entries: [String: String]) { self.entries = entries }
    public func find(_ key: String) -> String? { entries[key] }
}

struct NextHopResolver {
    let configuration: Configuration
    /// nil when main.cf sets no transport_maps.
    let transports: (any TransportTable)?

    /// The destinations smtp(8) tries for `address`, in order; nil when
    /// the transport is one whose TLS policy the tool does not follow
    /// (local, virtual, lmtp, error, ...).
    func destinations(address: String) -> [String]? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = String(address[address.index(after: at)...]).lowercased()
        var channel = String(decoding: configuration.value("default_transport"), as: UTF8.self)
        var nexthop = domain
        if let split = channel.firstIndex(of: ":") {
            let given = String(channel[channel.index(after: split)...])
            channel = String(channel[..<split])
            if !given.isEmpty { nexthop = given }
        }
        let relayhost = String(decoding: configuration.value("relayhost"), as: UTF8.self)
        if !relayhost.isEmpty && nexthop == domain { nexthop = relayhost }
        if let entry = transportEntry(address: address.lowercased(), domain: domain) {
            let split = entry.firstIndex(of: ":")
            let newChannel = split.map { String(entry[..<$0]) } ?? entry
            let newNexthop = split.map { String(entry[entry.index(after: $0)...]) } ?? ""
            if newChannel.isEmpty {
                if !newNexthop.isEmpty { nexthop = newNexthop }
            } else {
                channel = newChannel
                nexthop = newNexthop.isEmpty ? domain : newNexthop
            }
        }
        guard isSMTPService(channel) else { return nil }
        return nexthop.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// The transport_maps entry for the address: the first key of
    /// `transportKeys` that the maps have.
    func transportEntry(address: String, domain: String) -> String? {
        guard let transports else { return nil }
        return transportKeys(address: address, domain: domain).lazy.compactMap(transports.find).first
    }

    /// The keys trivial-rewrite looks up in transport_maps, in order
    /// (mail_addr_find with FULL, NOEXT, DOMAIN and the parent style of
    /// parent_domain_matches_subdomains, then the "*" wildcard).
    func transportKeys(address: String, domain: String) -> [String] {
        var keys = [address]
        // The address without its extension: the local part cut at the
        // first of recipient_delimiter's characters.
        let delimiters = Set(String(decoding: configuration.value("recipient_delimiter"), as: UTF8.self))
        if let at = address.lastIndex(of: "@"), let cut = address[..<at].firstIndex(where: delimiters.contains) {
            keys.append(String(address[..<cut]) + String(address[at...]))
        }
        let bareParents = MapReference.splitList(configuration.value("parent_domain_matches_subdomains"))
            .contains { $0.equalsIgnoringASCIICase("transport_maps") }
        var name = Substring(domain)
        while !name.isEmpty {
            keys.append(String(name))
            guard let dot = name.dropFirst().firstIndex(of: ".") else { break }
            name = bareParents ? name[name.index(after: dot)...] : name[dot...]
        }
        return keys + ["*"]
    }

    /// Whether master.cf runs smtp(8) for this transport (the command of
    /// the service named `channel`), or, without a master.cf, the name smtp/relay.
    func isSMTPService(_ channel: String) -> Bool {
        guard let masterCf = configuration.masterCf else { return channel == "smtp" || channel == "relay" }
        return masterCf.services.contains { $0.name == channel && $0.type == "unix" && $0.command == "smtp" }
    }
}

enum PolicyKeys {
    /// The keys smtp(8) looks up, in order, for one next-hop destination.
    static func candidates(_ destination: String) -> [[UInt8]] {
        let key = Array(destination.lowercased().utf8)
        guard isValidHostname(key) || isUTF8Domain(key) else { return [key] }
        var keys = [key]
        var rest = key[...]
        while let dot = rest.dropFirst().firstIndex(of: UInt8(ascii: ".")) {
            rest = key[dot...]
            keys.append(Array(rest))
        }
        return keys
    }

    /// A non-ASCII (SMTPUTF8) domain without brackets or port, which
    /// valid_utf8_hostname also accepts.
    static func isUTF8Domain(_ key: [UInt8]) -> Bool {
        key.contains { $0 >= 0x80 } && !key.contains { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") }
    }
}
