// PolicyValue.swift: the right-hand side of a TLS policy table entry, read
// as smtp(8) reads it (tls_policy_lookup_one in Postfix's smtp_tls_policy.c).
//
// The value is split on commas and white space; the first token is the
// security level (any case), every later token is name=value with the name
// in any case and the value verbatim. postmap never checks any of this, so a
// broken entry only shows up at delivery time, where it defers the mail.

/// Postfix's TLS security levels, as accepted in policy tables.
public enum TLSSecurityLevel: String, Sendable, CaseIterable {
    case none, may, encrypt, fingerprint, dane
    case daneOnly = "dane-only"
    case verify, secure

    /// Parses a level token case-insensitively, as name_code() does.
    public init?<Bytes: Collection>(token: Bytes) where Bytes.Element == UInt8 {
        let count = token.count
        guard let level = TLSSecurityLevel.names.first(where: { $0.name.count == count && token.equalsIgnoringASCIICase(bytes: $0.name) })
        else { return nil }
        self = level.level
    }

    /// The levels' names as bytes: a table has a level to read per entry.
    private static let names = allCases.map { (level: $0, name: Array($0.rawValue.utf8)) }

    /// Levels that verify the server certificate against trust anchors and a
    /// name: the ones that fail when the server, seeing no SNI, presents a
    /// default certificate.
    public var verifiesPeerName: Bool { self == .verify || self == .secure }
}

/// A policy value's name=value attribute: slices of the value's bytes
/// (an array apiece cost two allocations per attribute of every entry).
public struct PolicyAttribute: Sendable, Equatable {
    public var name: ArraySlice<UInt8>
    public var value: ArraySlice<UInt8>

    public func hasName(_ other: String) -> Bool { name.equalsIgnoringASCIICase(other) }
}

/// A policy value split into level and attributes.
public struct PolicyValue: Sendable, Equatable {
    /// The first token, verbatim.
    public var levelToken: ArraySlice<UInt8>
    /// The level, nil when the token is not a level.
    public var level: TLSSecurityLevel?
    /// Tokens after the level, split at the first '='; `malformed` holds the
    /// tokens without one.
    public var attributes: [PolicyAttribute]
    public var malformed: [ArraySlice<UInt8>]

    /// Splits a value. `braces` enables the "{ name = value }" form that
    /// smtp(8) accepts from Postfix 3.10 on; before that a '{' is an ordinary
    /// byte (and makes the entry invalid).
    ///
    /// Bytes, not any collection of them: a generic initializer called from
    /// another module ran unspecialized, some 30 instructions per byte.
    public init(_ bytes: [UInt8], braces: Bool = false) {
        let tokens = Tokens.split(bytes, braces: braces, isSeparator: Tokens.isCommaOrSpace)
        levelToken = tokens.first.map { bytes[$0] } ?? []
        level = TLSSecurityLevel(token: levelToken)
        attributes = []
        attributes.reserveCapacity(max(0, tokens.count - 1))
        malformed = []
        for range in tokens.dropFirst() {
            let token = bytes[range]
            let body = braces && Tokens.isBraced(token) ? Tokens.unbraced(token) : token
            if let (name, attributeValue) = Tokens.nameValue(body) {
                attributes.append(PolicyAttribute(name: name, value: attributeValue))
            } else {
                malformed.append(token)
            }
        }
    }

    /// The attributes with this name (any case).
    public func attributes(named name: String) -> [PolicyAttribute] {
        attributes.filter { $0.hasName(name) }
    }

    /// Whether an attribute has this name (any case).
    public func hasAttribute(named name: String) -> Bool {
        attributes.contains { $0.hasName(name) }
    }

    /// Why smtp(8) of the given version would reject this value (and defer
    /// the mail), or nil when it accepts it. smtp(8) stops at the first
    /// problem; this lists them all, so that one edit can fix them all.
    public func problems(postfixVersion: PostfixVersion) -> [String] {
        guard let level else {
            return [levelToken.isEmpty ? "invalid empty policy" : "invalid security level \"\(levelToken.printable)\""]
        }
        // Below "may" smtp(8) only logs "ignoring attribute ... with TLS
        // disabled" for every later token, well-formed or not, and sends.
        if level == .none { return [] }
        var problems: [String] = malformed.map { token in
            token.first == UInt8(ascii: "=")
                ? "malformed attribute/value pair \"\(token.printable)\": missing attribute name"
                : "malformed attribute/value pair \"\(token.printable)\": missing '=' after attribute name"
        }
        // Which rules were used, by number: a table has hundreds of
        // thousands of values to check, mostly with no problem at all.
        var seen: UInt64 = 0
        for attribute in attributes {
            let count = attribute.name.count
            guard
                let number = PolicyValue.attributeRules.firstIndex(where: {
                    $0.name.count == count && attribute.name.equalsIgnoringASCIICase(bytes: $0.name)
                }),
                postfixVersion >= PolicyValue.attributeRules[number].since
            else {
                problems.append("invalid attribute name: \"\(attribute.name.printable)\"")
                continue
            }
            let rule = PolicyValue.attributeRules[number]
            let name = attribute.name.printable  // smtp(8) names it as written
            if !rule.repeatable && seen & (1 << number) != 0 {
                problems.append("attribute \"\(name)\" is specified multiple times")
            }
            seen |= 1 << number
            if let levels = rule.levels, !levels.contains(level) {
                problems.append("attribute \"\(name)\" invalid at security level \"\(level.rawValue)\"")
            }
            if let problem = rule.check.problem(name: name, value: attribute.value) { problems.append(problem) }
        }
        // A TLSRPT policy's details without its type (3.10 on).
        if seen & PolicyValue.policyDetails != 0 && seen & PolicyValue.policyType == 0 {
            problems.append("built-in policy has unexpected attribute policy_ttl, policy_domain, policy_string, mx_host_pattern or policy_failure")
        }
        return problems
    }

    /// What smtp(8) requires of an attribute's value (tls_policy_lookup_one).
    enum ValueCheck {
        case any, nonEmpty
        /// valid_hostname(), in servername's words.
        case servername
        /// "yes" or "no", any case.
        case yesNo
        /// Digits that fit an int.
        case ttl
        /// valid_hostname(), in the TLSRPT attributes' words.
        case domain
        /// One of these names, any case (tlsrpt_wrapper.c's tables).
        case oneOf([String])

        func problem(name: String, value: ArraySlice<UInt8>) -> String? {
            let shown = value.printable
            switch self {
            case .any:
                return nil
            case .nonEmpty:
                return value.isEmpty ? "attribute \"\(name)\" has empty value" : nil
            case .servername:
                return isValidHostname(value) ? nil : "\"\(name)=\(shown)\" specifies an invalid hostname"
            case .yesNo:
                return value.equalsIgnoringASCIICase("yes") || value.equalsIgnoringASCIICase("no")
                    ? nil : "attribute \"\(name)\" has bad value: \"\(shown)\""
            case .ttl:
                let fits = !value.isEmpty && value.allSatisfy { (0x30...0x39).contains($0) } && Int(shown).map { $0 <= Int(Int32.max) } == true
                return fits ? nil : "attribute \"\(name)\" has a malformed value: \"\(shown)\""
            case .domain:
                return isValidHostname(value) ? nil : "attribute \"\(name)\" has a malformed value: \"\(shown)\""
            case .oneOf(let names):
                return names.contains { value.equalsIgnoringASCIICase($0) } ? nil : "attribute \"\(name)\" has an unexpected value: \"\(shown)\""
            }
        }
    }

    private struct AttributeRule {
        /// Lower case, as bytes (compared with each attribute's name).
        var name: [UInt8]
        var since: PostfixVersion
        var repeatable: Bool
        var check: ValueCheck
        /// The levels it is allowed at; nil for all.
        var levels: [TLSSecurityLevel]?

        init(
            _ name: String, since: PostfixVersion = PostfixVersion(2, 3), repeatable: Bool = false, check: ValueCheck = .any,
            levels: [TLSSecurityLevel]? = nil
        ) {
            (self.name, self.since, self.repeatable, self.check, self.levels) = (Array(name.utf8), since, repeatable, check, levels)
        }
    }

    /// The attributes smtp(8) accepts, by version (smtp_tls_policy.c; "last
    /// one wins" counts as repeatable). At most 64: `problems` numbers the
    /// ones it has seen in a bit set.
    private static let attributeRules: [AttributeRule] = [
        AttributeRule("ciphers", check: .nonEmpty),
        AttributeRule("protocols"),
        AttributeRule("match", repeatable: true, check: .nonEmpty, levels: [.fingerprint, .verify, .secure]),
        AttributeRule("exclude"),
        AttributeRule("tafile", since: PostfixVersion(2, 11), repeatable: true, check: .nonEmpty, levels: [.verify, .secure]),
        AttributeRule("connection_reuse", since: PostfixVersion(3, 4), repeatable: true, check: .yesNo),
        AttributeRule("servername", since: PostfixVersion(3, 4), check: .servername),
        AttributeRule("enable_rpk", since: PostfixVersion(3, 9), repeatable: true, check: .yesNo),
        AttributeRule("policy_type", since: PostfixVersion(3, 10), check: .oneOf(["sts", "no-policy-found"])),
        AttributeRule("policy_domain", since: PostfixVersion(3, 10), check: .domain),
        AttributeRule("policy_string", since: PostfixVersion(3, 10), repeatable: true),
        AttributeRule("mx_host_pattern", since: PostfixVersion(3, 10), repeatable: true),
        AttributeRule(
            "policy_failure", since: PostfixVersion(3, 10),
            check: .oneOf(["sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid", "validation-failure"])),
        AttributeRule("policy_ttl", since: PostfixVersion(3, 10), check: .ttl),
    ]

    /// The bits of `attributeRules` that `problems` checks together.
    private static let policyType = bits(["policy_type"])
    private static let policyDetails = bits(["policy_ttl", "policy_domain", "policy_string", "mx_host_pattern", "policy_failure"])

    private static func bits(_ names: [String]) -> UInt64 {
        names.reduce(0) { bits, name in bits | 1 << attributeRules.firstIndex { $0.name == Array(name.utf8) }! }
    }
}

/// The servername keyword a value means to be but is not, because it is
/// written in another case ("HOSTNAME", "NextHop"): tls_client.c compares the
/// keywords with strcmp and sends any other value literally as the SNI name.
/// Nil for the keywords themselves and for every other value.
@inlinable
public func miscasedServernameKeyword<Bytes: Collection>(_ value: Bytes) -> String? where Bytes.Element == UInt8 {
    // Called for each distinct servername of a large table (inlinable, so
    // that it is specialized there): the length rules out nearly every
    // value before a byte is compared.
    let keyword: StaticString
    switch value.count {
    case 8: keyword = "hostname"
    case 7: keyword = "nexthop"
    default: return nil
    }
    var exact = true
    var position = keyword.utf8Start
    for byte in value {
        guard asciiLowercased(byte) == position.pointee else { return nil }
        exact = exact && byte == position.pointee
        position += 1
    }
    return exact ? nil : keyword.description
}

/// Postfix's valid_hostname(): at most 255 bytes of dot-separated labels of
/// letters, digits, '-' and '_', each at most 63 bytes, not starting or ending
/// with '-', and not all numeric.
public func isValidHostname<Bytes: Collection>(_ name: Bytes) -> Bool where Bytes.Element == UInt8 {
    guard !name.isEmpty, name.count <= 255 else { return false }
    var labelLength = 0
    var previous: UInt8 = UInt8(ascii: ".")
    var allNumeric = true
    for byte in name {
        switch byte {
        case UInt8(ascii: "."):
            if labelLength == 0 || previous == UInt8(ascii: "-") { return false }
            labelLength = 0
        case UInt8(ascii: "-"):
            if labelLength == 0 { return false }
            labelLength += 1
            allNumeric = false
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            labelLength += 1
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
            labelLength += 1
            allNumeric = false
        default:
            return false
        }
        if labelLength > 63 { return false }
        previous = byte
    }
    return labelLength > 0 && previous != UInt8(ascii: "-") && !allNumeric
}
