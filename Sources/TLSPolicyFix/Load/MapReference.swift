// MapReference.swift: one table named in a map list such as
// smtp_tls_policy_maps, and how such lists are split.
//
// Postfix splits map lists on commas and white space, keeping "{...}" groups
// whole (mystrtokq with CHARS_BRACE), so that "inline:{ a=b, c=d }" is one
// table. A "proxy:" prefix only routes lookups through proxymap(8); the
// table behind it is the one to edit.

import PostconfModel

public struct MapReference: Sendable, Hashable, CustomStringConvertible {
    /// The table type, lower-case as Postfix spells it: "hash", "btree", "texthash", ...
    public var type: String
    /// What follows "type:": a path for file-based tables, "{...}" for inline.
    public var name: [UInt8]
    /// Whether the list named it through "proxy:".
    public var viaProxy: Bool
    /// For an inline: or static: table, the parameter whose value in force names it:
    /// the same text in two parameters is written twice, and each copy is
    /// edited (nil: main.cf's smtp_tls_policy_maps).
    public var origin: MapOrigin? = nil

    public var description: String {
        (viaProxy ? "proxy:" : "") + type + ":" + String(decoding: name, as: UTF8.self)
    }

    public init(type: String, name: [UInt8], viaProxy: Bool) {
        self.type = type
        self.name = name
        self.viaProxy = viaProxy
    }

    /// Parses one list element, e.g. "proxy:hash:/etc/postfix/tls_policy".
    /// Nil when the element has no "type:" prefix.
    public init?(_ element: [UInt8]) {
        var rest = element[...]
        var viaProxy = false
        if rest.starts(with: Array("proxy:".utf8)) {
            viaProxy = true
            rest = rest.dropFirst(6)
        }
        guard let colon = rest.firstIndex(of: UInt8(ascii: ":")), colon > rest.startIndex else { return nil }
        type = String(decoding: rest[..<colon], as: UTF8.self)
        name = Array(rest[(colon + 1)...])
        self.viaProxy = viaProxy
    }

    /// The types whose name is a file's path.
    static let fileTypes: Set<String> = ["hash", "btree", "lmdb", "cdb", "texthash", "regexp", "pcre", "cidr", "dbm", "sdbm"]

    /// The same table with its path written plainly ("//", "/./" and a
    /// trailing "/" taken out), and without proxy:.
    var normalized: MapReference {
        guard Self.fileTypes.contains(type) else { return MapReference(type: type, name: name, viaProxy: false) }
        let path = lexicallyNormalized(String(decoding: name, as: UTF8.self))
        return MapReference(type: type, name: Array(path.utf8), viaProxy: false)
    }

    /// Splits an (expanded) map list into its elements.
    public static func splitList(_ list: [UInt8]) -> [[UInt8]] {
        Tokens.split(list, braces: true, isSeparator: Tokens.isCommaOrSpace).map { Array(list[$0]) }
    }
}

/// Where a map list's value in force is written.
public enum MapOrigin: Sendable, Hashable {
    /// main.cf's last definition of the parameter.
    case mainCf(parameter: String)
    /// A master.cf service's own "-o parameter=...".
    case service(id: String, parameter: String)
}
