// MtaStsResolver.swift: a socketmap served by postfix-mta-sts-resolver
// (mta-sts-daemon), judged from that daemon's configuration: its policies
// carry servername=hostname when the zone's require_sni is on (the default
// since its 1.0), so such a table needs no fix. The map is the daemon's
// when the socketmap's address is the one /etc/mta-sts-daemon.yml binds
// (host and port, default 127.0.0.1:8461, or path for a UNIX socket); the
// map name is the zone (zones: NAME, else default_zone).

import PostconfModel

enum MtaStsResolver {
    /// The daemon's configuration file (mta-sts-daemon(1)'s default).
    static let configurationPath = "/etc/mta-sts-daemon.yml"

    /// What the daemon's configuration says of this socketmap: nil when
    /// the file is not readable or binds another address.
    static func finding(for reference: MapReference, listedAt location: SourceLocation, configuration: Configuration) -> Finding? {
        let path = configuration.hostPath(configurationPath)
        guard let address = SocketmapAddress(reference.name),
            let bytes = try? configuration.files.read(path),
            let settings = SimpleYAML(bytes)
        else { return nil }
        let bound: SocketmapAddress.Endpoint
        if let unixPath = settings.value("path") {
            bound = .unix(unixPath)
        } else {
            bound = .inet(host: settings.value("host") ?? "127.0.0.1", port: settings.value("port") ?? "8461")
        }
        guard bound == address.endpoint else { return nil }
        let zone = settings.value("zones", address.mapName, "require_sni") ?? settings.value("default_zone", "require_sni")
        let display = configuration.displayPath(path)
        if let zone, ["false", "no", "off"].contains(zone.lowercased()) {
            return Finding(
                .manual, .unsupportedTable, at: location, subject: reference.description,
                "served by postfix-mta-sts-resolver, whose zone \(address.mapName) has require_sni: false in \(display): its verify and secure policies send no SNI",
                fix: "set require_sni: true for that zone in \(display) and restart mta-sts-daemon")
        }
        return Finding(
            .note, .unsupportedTable, at: location, subject: reference.description,
            "served by postfix-mta-sts-resolver (\(display)), whose policies carry servername=hostname (require_sni is on)")
    }
}

/// Where a socketmap table asks: "inet:HOST:PORT:NAME" or "unix:PATH:NAME".
struct SocketmapAddress {
    enum Endpoint: Equatable {
        case inet(host: String, port: String)
        case unix(String)
    }

    let endpoint: Endpoint
    let mapName: String

    init?(_ name: [UInt8]) {
        let text = String(decoding: name, as: UTF8.self)
        guard let lastColon = text.lastIndex(of: ":") else { return nil }
        mapName = String(text[text.index(after: lastColon)...])
        let address = text[..<lastColon]
        if address.hasPrefix("unix:") {
            endpoint = .unix(String(address.dropFirst(5)))
        } else if address.hasPrefix("inet:"), let portColon = address.lastIndex(of: ":"), portColon > address.index(address.startIndex, offsetBy: 4) {
            endpoint = .inet(
                host: String(address[address.index(address.startIndex, offsetBy: 5)..<portColon]),
                port: String(address[address.index(after: portColon)...]))
        } else {
            return nil
        }
    }
}

/// The subset of YAML mta-sts-daemon.yml uses for what is read here:
/// "key: value" lines, nested by indentation; comments and quotes dropped.
/// Anything else (lists, flow style) is ignored, not misread: a value that
/// is not found is the daemon's default.
struct SimpleYAML {
    private var values: [String: String] = [:]

    init?(_ bytes: [UInt8]) {
        var stack: [(indent: Int, key: String)] = []
        for raw in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let indent = line.prefix { $0 == " " }.count
            let content = line.trimmingCharacters(in: " \t\r")
            guard !content.isEmpty, !content.hasPrefix("-"), let colon = content.firstIndex(of: ":") else { continue }
            let key = String(content[..<colon]).trimmingCharacters(in: " \"'")
            let value = String(content[content.index(after: colon)...]).trimmingCharacters(in: " \"'")
            while let last = stack.last, last.indent >= indent { stack.removeLast() }
            let path = (stack.map(\.key) + [key]).joined(separator: "\u{0}")
            if value.isEmpty { stack.append((indent, key)) } else { values[path] = value }
        }
    }

    /// The scalar at the nested keys, nil when absent.
    func value(_ keys: String...) -> String? {
        values[keys.joined(separator: "\u{0}")]
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
