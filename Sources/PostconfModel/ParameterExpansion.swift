// ParameterExpansion.swift: $name expansion of main.cf values, as Postfix's
// mac_expand() (with MAC_EXP_FLAG_RECURSE, as postconf -x and every daemon
// use it) does it.
//
// The syntax, read from mac_parse.c and mac_expand.c (3.7) and checked
// against postconf -x:
//   - "$$" is a literal '$'. A '$' followed by neither '$', '(' nor '{' must
//     start a name of letters, digits and '_' ("a $ b" is an error).
//   - "$name", "${text}" and "$(text)": the text runs to the matching close
//     bracket, counting only the bracket kind it opened with.
//   - "${name}" is the value, itself expanded; an undefined name gives
//     nothing (postconf warns). White space around the name is allowed.
//   - "${name?text}" / "${name:text}": text if the value is non-empty /
//     empty or undefined. Without braces the text is everything after the
//     operator, verbatim (so "${x?a:b}" is "a:b"); with "{text}" the braces
//     are balanced and white space around them is dropped, which allows
//     "${name?{t1}:{t2}}" and "${name?{t1}:t2}".
//   - "${{a} OP {b}}", OP one of == != < <= > >=: both sides are expanded
//     (each as a fresh expansion), compared numerically if both are all
//     digits, else bytewise (strcmp); the result is "true" or "", and can be
//     followed by "?..." / ":..." as above. OP may carry the suffix "level"
//     (e.g. "<level"): then both sides are compatibility levels
//     ("major[.minor[.patch]]"), and a malformed one is an error.
// The file stays whole, longer than the others, because it follows
// mac_parse.c and mac_expand.c together.
//
//   - A callback nesting deeper than 100 is an error ("unreasonable macro
//     call nesting"), which is what stops "a = $a".
//   - Not in Postfix: more than maximumExpandedSize bytes expanded for one
//     value is an error (see there), which is what stops "e40 = $e39 $e39".
// After an error Postfix appends nothing more, and postconf (like every
// daemon reading main.cf) exits with "macro processing error".

/// The result of expanding one value.
import Synchronization

public struct ParameterExpansion: Sendable, Equatable {
    /// The expanded bytes (up to the first error, if there was one).
    public var value: [UInt8]
    /// Names the expansion looked up that are neither set explicitly nor
    /// have a default in the expander's `PostfixDefaults`, in first-use
    /// order. Postfix warns "undefined parameter" for those used as $name.
    public var unresolvedNames: [String]
    /// Why Postfix would reject the value ("macro processing error"), if it
    /// would; or why this expansion stopped where Postfix would go on (see
    /// `exceededSizeBound`).
    public var error: String?
    /// Whether the expansion stopped at `ParameterExpander.maximumExpandedSize`;
    /// `value` is then empty, since nothing can be said of the whole value.
    public var exceededSizeBound = false

    public var succeeded: Bool { error == nil }
}

/// Expands main.cf values the way postconf -x and the daemons see them.
public struct ParameterExpander: Sendable {
    /// The main.cf values in force (last definition wins).
    public let explicit: [String: [UInt8]]
    /// The configuration directory Postfix was pointed at (-c DIR or
    /// MAIL_CONFIG, else /etc/postfix).
    public let configDirectory: [UInt8]
    /// Postfix's built-in defaults, for every name main.cf does not set.
    public let defaults: PostfixDefaults

    /// Postfix's limit on nested expansion callbacks (mac_expand.c).
    public static let nestingLimit = 100
    /// A guard Postfix lacks: a relational operand starts a fresh expansion
    /// with its own nesting count, so "a = ${{$a} == {x}}" recurses until
    /// postconf crashes (SIGSEGV, checked on 3.7.11). We call it an error.
    static let absoluteNestingLimit = 1000
    /// Another guard Postfix lacks: the most bytes one value's expansion may
    /// append, counting those of its relational operands (so that the work,
    /// not only the result, is bounded). Doubling definitions ("e1 = $e0
    /// $e0", ... "e40 = $e39 $e39") make a few lines of main.cf expand to
    /// terabytes; Postfix would try (it only runs as its own user over its
    /// own files), this tool runs as root over trees others may have
    /// written and must finish. Real values are short lists (the longest
    /// main.cf values seen are mynetworks and map lists of some kilobytes),
    /// so 4 MB is far above any of them, and small enough that failing at
    /// it costs well under a second and a few MB of memory.
    public static let maximumExpandedSize = 4 << 20
    /// The same guard on the work itself: a doubling chain of names that
    /// expand to little still takes 2^n steps. Real values take tens; a
    /// value that stops here has cost some milliseconds, and every smtp or
    /// lmtp service in master.cf pays that again (its -o overrides make an
    /// expander of its own).
    public static let maximumSteps = 20_000

    /// The values whose expansion stopped at the bound, by their raw
    /// bytes: the rule reads a value several times (and every service's
    /// expander reads main.cf's), and each time would cost the whole bound
    /// again. Only these are remembered; an expansion is a function of the
    /// raw value and `explicit`, which never change.
    private let overruns = Overruns()

    private final class Overruns: Sendable {
        let byRawValue = Mutex<[[UInt8]: ParameterExpansion]>([:])
    }

    public init(explicit: [String: [UInt8]], configDirectory: [UInt8], defaults: PostfixDefaults = .shipped) {
        self.explicit = explicit
        self.configDirectory = configDirectory
        self.defaults = defaults
    }

    /// The unexpanded value in force: main.cf's, else (for
    /// config_directory) the directory given, else Postfix's default; nil
    /// when Postfix would not know the name.
    ///
    /// config_directory: postconf and mail_conf_read() enter DIR into the
    /// parameter table before loading main.cf, so a config_directory line in
    /// main.cf overrides it (with "overriding earlier entry"); checked with
    /// postconf -c DIR -h config_directory on 3.7.11.
    public func rawValue(_ name: String) -> [UInt8]? {
        if let value = explicit[name] { return value }
        if name == "config_directory" { return configDirectory }
        return defaults.value(name)
    }

    /// The value in force, expanded (a raw parameter as it is); nil when
    /// Postfix would not know the name.
    public func expandedValue(_ name: String) -> [UInt8]? {
        guard !PostfixDefaults.rawParameters.contains(name) else { return rawValue(name) }
        return rawValue(name).map(expand)
    }

    /// `raw` with every $name expanded (best effort on errors: see `expansion(of:)`).
    public func expand(_ raw: [UInt8]) -> [UInt8] {
        expansion(of: raw).value
    }

    /// The expansion of a parameter's value in force, with diagnostics;
    /// nil when Postfix would not know the name.
    public func expansion(ofParameter name: String) -> ParameterExpansion? {
        rawValue(name).map { expansion(of: $0) }
    }

    /// `raw` expanded, with the names that were unresolved and the error
    /// Postfix would stop at.
    public func expansion(of raw: [UInt8]) -> ParameterExpansion {
        if let known = overruns.byRawValue.withLock({ $0[raw] }) { return known }
        let diagnostics = ExpansionDiagnostics()
        let context = ExpansionContext(expander: self, diagnostics: diagnostics, depthBase: 0)
        _ = context.parse(raw[...])
        if diagnostics.exceededSizeBound {
            let overrun = ParameterExpansion(value: [], unresolvedNames: diagnostics.unresolved, error: diagnostics.error, exceededSizeBound: true)
            overruns.byRawValue.withLock { $0[raw] = overrun }
            return overrun
        }
        return ParameterExpansion(value: context.result, unresolvedNames: diagnostics.unresolved, error: diagnostics.error)
    }
}

// MARK: - The expansion machine (mac_parse + mac_expand_callback)

private struct ExpansionStatus: OptionSet {
    let rawValue: UInt8
    /// MAC_PARSE_ERROR
    static let error = ExpansionStatus(rawValue: 1)
    /// MAC_PARSE_UNDEF
    static let undefined = ExpansionStatus(rawValue: 2)
}

/// Shared by an expansion and the fresh expansions of its relational operands.
private final class ExpansionDiagnostics {
    var unresolved: [String] = []
    var seen: Set<String> = []
    var error: String?
    /// Bytes appended so far by the expansion and its relational operands.
    var expandedBytes = 0
    /// Callbacks entered so far (names, expressions, literals).
    var steps = 0
    var exceededSizeBound = false

    func unresolved(_ name: String) {
        if seen.insert(name).inserted { unresolved.append(name) }
    }

    func fail(_ message: String) {
        if error == nil { error = message }
    }
}

private enum Byte {
    static let dollar = UInt8(ascii: "$")
    static let openParen = UInt8(ascii: "(")
    static let closeParen = UInt8(ascii: ")")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let question = UInt8(ascii: "?")
    static let colon = UInt8(ascii: ":")
    static let period = UInt8(ascii: ".")
}

/// ISALNUM() in the C locale.
@inline(__always)
private func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
}

@inline(__always)
private func isNameByte(_ byte: UInt8) -> Bool {
    isASCIIAlphanumeric(byte) || byte == UInt8(ascii: "_")
}

/// mac_expand's white space set, CHARS_SPACE: " \t\r\n" (no \v, \f).
@inline(__always)
private func isExpansionSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
}

/// The characters mac_expand reads as one operator token.
@inline(__always)
private func isOperatorByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "!"), UInt8(ascii: "="), UInt8(ascii: "?"),
        UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: "~"),
        UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "%"):
        return true
    default:
        return false
    }
}

private enum RelationalOperator {
    case equal, notEqual, less, lessOrEqual, greaterOrEqual, greater

    init?(_ token: ArraySlice<UInt8>) {
        switch String(decoding: token, as: UTF8.self) {
        case "==": self = .equal
        case "!=": self = .notEqual
        case "<": self = .less
        case "<=": self = .lessOrEqual
        case ">=": self = .greaterOrEqual
        case ">": self = .greater
        default: return nil
        }
    }

    /// The operator applied to the sign of left - right.
    func holds(_ order: Int) -> Bool {
        switch self {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .greaterOrEqual: return order >= 0
        case .greater: return order > 0
        }
    }
}

/// One mac_expand() call: its result buffer, status and nesting level.
private final class ExpansionContext {
    let expander: ParameterExpander
    let diagnostics: ExpansionDiagnostics
    /// Nesting of the expansions that started this one (for the guard Postfix lacks).
    let depthBase: Int
    var result: [UInt8] = []
    var status: ExpansionStatus = []
    var level = 0

    init(expander: ParameterExpander, diagnostics: ExpansionDiagnostics, depthBase: Int) {
        self.expander = expander
        self.diagnostics = diagnostics
        self.depthBase = depthBase
    }

    /// mac_parse(): splits `value` into literal text and $ references and
    /// hands each to the callback. Returns the callbacks' status, OR-ed.
    /// A port that keeps the shape of the C function (one scanning loop),
    /// so that the two can be read side by side.
    func parse(_ value: ArraySlice<UInt8>) -> ExpansionStatus {
        var status: ExpansionStatus = []
        var literal: [UInt8] = []
        var index = value.startIndex
        let end = value.endIndex
        while index < end {
            let byte = value[index]
            if byte != Byte.dollar {
                literal.append(byte)
                index += 1
                continue
            }
            if index + 1 < end && value[index + 1] == Byte.dollar {
                literal.append(Byte.dollar)
                index += 2
                continue
            }
            if !literal.isEmpty {
                status.formUnion(callback(literal: literal[...]))
                literal.removeAll(keepingCapacity: true)
            }
            index += 1
            let expression: ArraySlice<UInt8>
            if index < end && (value[index] == Byte.openParen || value[index] == Byte.openBrace) {
                let open = value[index]
                let close = open == Byte.openParen ? Byte.closeParen : Byte.closeBrace
                var depth = 1
                var scan = index + 1
                while depth > 0 {
                    if scan == end {
                        diagnostics.fail("truncated macro reference: \"\(value.printable)\"")
                        status.insert(.error)
                        break
                    }
                    if value[scan] == open {
                        depth += 1
                    } else if value[scan] == close {
                        depth -= 1
                    }
                    scan += 1
                }
                // As in mac_parse(), an error reported by an earlier callback also stops here.
                if status.contains(.error) { break }
                expression = value[(index + 1)..<(scan - 1)]
                index = scan
            } else {
                var scan = index
                while scan < end && isNameByte(value[scan]) { scan += 1 }
                expression = value[index..<scan]
                index = scan
            }
            if expression.isEmpty {
                diagnostics.fail("empty macro name: \"\(value.printable)\"")
                status.insert(.error)
                break
            }
            status.formUnion(callback(expression: expression))
        }
        if !literal.isEmpty && !status.contains(.error) {
            status.formUnion(callback(literal: literal[...]))
        }
        return status
    }

    private func fail(_ message: String) -> ExpansionStatus {
        diagnostics.fail(message)
        status.insert(.error)
        return status
    }

    /// The nesting check every callback starts with.
    private func enter(_ text: ArraySlice<UInt8>) -> Bool {
        // Past the size bound nothing more is looked at, in any context.
        if diagnostics.exceededSizeBound { return false }
        diagnostics.steps += 1
        if diagnostics.steps > ParameterExpander.maximumSteps {
            diagnostics.exceededSizeBound = true
            diagnostics.fail(
                "the expansion is longer than this tool expands (more than \(ParameterExpander.maximumSteps) \u{24}name and literal steps)")
            status.insert(.error)
            return false
        }
        if level > ParameterExpander.nestingLimit || depthBase + level > ParameterExpander.absoluteNestingLimit {
            diagnostics.fail("unreasonable macro call nesting: \"\(text.printable)\"")
            status.insert(.error)
        }
        level += 1
        return !status.contains(.error)
    }

    private func callback(literal: ArraySlice<UInt8>) -> ExpansionStatus {
        guard enter(literal) else { return status }
        diagnostics.expandedBytes += literal.count
        if diagnostics.expandedBytes > ParameterExpander.maximumExpandedSize {
            diagnostics.exceededSizeBound = true
            return fail("the expansion is longer than \(ParameterExpander.maximumExpandedSize) bytes, more than this tool expands")
        }
        result.append(contentsOf: literal)
        level -= 1
        return status
    }

    private func callback(expression buffer: ArraySlice<UInt8>) -> ExpansionStatus {
        guard enter(buffer) else { return status }
        let end = buffer.endIndex
        var cursor = buffer.startIndex
        var lookup: [UInt8]?
        var operation: UInt8 = 0

        if let brace = leftBrace(in: buffer, from: cursor) {
            // Relational expression.
            guard let (value, next) = relational(buffer, at: brace) else { return status }
            lookup = value
            cursor = next
            if cursor < end {
                operation = buffer[cursor]
                guard operation == Byte.question || operation == Byte.colon else {
                    return fail("\"?\" or \":\" expected at: \"...}>>>\(buffer[cursor...].prefix(20).printable)\"")
                }
                cursor += 1
            }
        } else {
            // Named parameter, maybe followed by ? or :.
            cursor = skipSpace(buffer, from: cursor)
            let start = cursor
            let nameEnd: Int
            while true {
                let afterSpace = skipSpace(buffer, from: cursor)
                if afterSpace == end {
                    nameEnd = cursor
                    break
                }
                let next = buffer[afterSpace]
                if next == Byte.question || next == Byte.colon {
                    nameEnd = cursor
                    operation = next
                    cursor = afterSpace + 1
                    break
                }
                guard isNameByte(buffer[cursor]) else {
                    return fail(
                        "attribute name syntax error at: \"...\(buffer[buffer.startIndex..<cursor].printable)>>>\(buffer[cursor...].prefix(20).printable)\""
                    )
                }
                cursor += 1
            }
            let name = String(decoding: buffer[start..<nameEnd], as: UTF8.self)
            lookup = expander.rawValue(name)
            if lookup == nil { diagnostics.unresolved(name) }
        }

        let nonEmpty = lookup.map { !$0.isEmpty } ?? false
        switch operation {
        case Byte.question, Byte.colon:
            if operation == Byte.question {
                let ifTrue: ArraySlice<UInt8>
                if let brace = leftBrace(in: buffer, from: cursor) {
                    guard let (payload, next) = bracePayload(buffer, at: brace) else { return status }
                    ifTrue = payload
                    cursor = next
                } else {
                    ifTrue = buffer[cursor..<end]
                    cursor = end
                }
                if nonEmpty { status.formUnion(parse(ifTrue)) }
                if cursor == end { break }
                guard buffer[cursor] == Byte.colon else {
                    return fail("\":\" expected at: \"...\(ifTrue.printable)}>>>\(buffer[cursor...].prefix(20).printable)\"")
                }
                cursor += 1
            }
            let ifFalse: ArraySlice<UInt8>
            if let brace = leftBrace(in: buffer, from: cursor) {
                guard let (payload, next) = bracePayload(buffer, at: brace) else { return status }
                ifFalse = payload
                cursor = next
            } else {
                ifFalse = buffer[cursor..<end]
                cursor = end
            }
            if !nonEmpty { status.formUnion(parse(ifFalse)) }
            if cursor != end {
                return fail("unexpected input at: \"...\(ifFalse.printable)}>>>\(buffer[cursor...].prefix(20).printable)\"")
            }
        default:
            if let lookup {
                if !lookup.isEmpty { status.formUnion(parse(lookup[...])) }
            } else {
                status.insert(.undefined)
            }
        }
        level -= 1
        return status
    }

    private func skipSpace(_ buffer: ArraySlice<UInt8>, from index: Int) -> Int {
        var index = index
        while index < buffer.endIndex && isExpansionSpace(buffer[index]) { index += 1 }
        return index
    }

    /// MAC_EXP_FIND_LEFT_CURLY: the '{' after optional white space, if there is one.
    private func leftBrace(in buffer: ArraySlice<UInt8>, from index: Int) -> Int? {
        let brace = skipSpace(buffer, from: index)
        return brace < buffer.endIndex && buffer[brace] == Byte.openBrace ? brace : nil
    }

    /// The text inside balanced braces starting at `brace`, and the index
    /// after the '}' and any white space following it.
    private func bracePayload(_ buffer: ArraySlice<UInt8>, at brace: Int) -> (ArraySlice<UInt8>, Int)? {
        var depth = 1
        var index = brace + 1
        while true {
            guard index < buffer.endIndex else {
                _ = fail("unbalanced {} in attribute expression: \"\(buffer[brace...].printable)\"")
                return nil
            }
            if buffer[index] == Byte.openBrace {
                depth += 1
            } else if buffer[index] == Byte.closeBrace {
                depth -= 1
                if depth <= 0 { break }
            }
            index += 1
        }
        return (buffer[(brace + 1)..<index], skipSpace(buffer, from: index + 1))
    }

    /// "{left} OP {right}" at `brace`: "true" or "" and the index after it.
    private func relational(_ buffer: ArraySlice<UInt8>, at brace: Int) -> ([UInt8], Int)? {
        guard let (left, afterLeft) = bracePayload(buffer, at: brace) else { return nil }
        var cursor = afterLeft
        let operatorStart = cursor
        while cursor < buffer.endIndex && isOperatorByte(buffer[cursor]) { cursor += 1 }
        guard let relation = RelationalOperator(buffer[operatorStart..<cursor]) else {
            _ = fail(
                "\"==\" or \"!=\" or \"<\" or \"<=\" or \">=\" or \">\" expected at: \"...\(left.printable)}>>>\(buffer[operatorStart...].prefix(20).printable)\""
            )
            return nil
        }
        var compatibilityLevels = false
        if cursor < buffer.endIndex && isASCIIAlphanumeric(buffer[cursor]) {
            let suffixStart = cursor
            while cursor < buffer.endIndex && isASCIIAlphanumeric(buffer[cursor]) { cursor += 1 }
            // postconf and the daemons register only "level" (compat_level.c).
            guard buffer[suffixStart..<cursor].elementsEqual("level".utf8) else {
                _ = fail(
                    "bad operator suffix at: \"...\(buffer[operatorStart..<suffixStart].printable)>>>\(buffer[suffixStart..<cursor].printable)\"")
                return nil
            }
            compatibilityLevels = true
        }
        guard let rightBrace = leftBrace(in: buffer, from: cursor) else {
            _ = fail(
                "\"{expression}\" expected at: \"...{\(left.printable)} \(buffer[operatorStart..<cursor].printable)>>>\(buffer[cursor...].prefix(20).printable)\""
            )
            return nil
        }
        guard let (right, next) = bracePayload(buffer, at: rightBrace) else { return nil }

        // Each operand is a fresh mac_expand() with its own nesting count.
        let leftValue = subexpansion(left)
        let rightValue = subexpansion(right)
        if status.contains(.error) { return nil }

        let order: Int
        if compatibilityLevels {
            guard let l = parseCompatibilityLevel(leftValue) else {
                _ = fail("malformed compatibility level syntax: \"\(leftValue.printable)\"")
                return nil
            }
            guard let r = parseCompatibilityLevel(rightValue) else {
                _ = fail("malformed compatibility level syntax: \"\(rightValue.printable)\"")
                return nil
            }
            order = l == r ? 0 : (l < r ? -1 : 1)
        } else if isAllDigits(leftValue) && isAllDigits(rightValue) {
            guard let l = decimal(leftValue), let r = decimal(rightValue) else {
                _ = fail("mac_exp_eval: bad conversion: \"\((decimal(leftValue) == nil ? leftValue : rightValue).printable)\"")
                return nil
            }
            order = l == r ? 0 : (l < r ? -1 : 1)
        } else {
            order = leftValue == rightValue ? 0 : (leftValue.lexicographicallyPrecedes(rightValue) ? -1 : 1)
        }
        return (relation.holds(order) ? Array("true".utf8) : [], next)
    }

    private func subexpansion(_ text: ArraySlice<UInt8>) -> [UInt8] {
        let context = ExpansionContext(expander: expander, diagnostics: diagnostics, depthBase: depthBase + level)
        status.formUnion(context.parse(text))
        return context.result
    }
}

/// alldig(): non-empty and ASCII digits only.
private func isAllDigits(_ bytes: [UInt8]) -> Bool {
    !bytes.isEmpty && bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
}

/// An all-digits string as a C long; nil on overflow (ERANGE).
private func decimal(_ digits: [UInt8]) -> Int64? {
    var value: Int64 = 0
    for digit in digits {
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(Int64(digit - 0x30))
        if o1 || o2 { return nil }
        value = sum
    }
    return value
}

/// strtol(start, &end, 10): leading C-locale white space, an optional sign,
/// digits. `end` is `start` when there are no digits; nil value on ERANGE.
private func strtol(_ bytes: [UInt8], from start: Int) -> (value: Int64?, end: Int) {
    var index = start
    while index < bytes.count && isPostfixSpace(bytes[index]) { index += 1 }
    var negative = false
    if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
        negative = bytes[index] == UInt8(ascii: "-")
        index += 1
    }
    let digitsStart = index
    var value: Int64? = 0
    while index < bytes.count && bytes[index] >= 0x30 && bytes[index] <= 0x39 {
        if let current = value {
            let (times10, o1) = current.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(bytes[index] - 0x30))
            value = o1 || o2 ? nil : sum
        }
        index += 1
    }
    if index == digitsStart { return (0, start) }
    return (value.map { negative ? -$0 : $0 }, index)
}

extension ParameterExpander {
    /// compat_level_from_string(): "major[.minor[.patch]]" as one comparable
    /// number (major << 20 | minor << 10 | patch); nil when malformed.
    public static func compatibilityLevel(_ bytes: [UInt8]) -> Int64? {
        parseCompatibilityLevel(bytes)
    }
}

private func parseCompatibilityLevel(_ bytes: [UInt8]) -> Int64? {
    let maxMajor = Int64.max >> 20
    let (major, majorEnd) = strtol(bytes, from: 0)
    guard majorEnd > 0, majorEnd == bytes.count || bytes[majorEnd] == Byte.period,
        let major, (0...maxMajor).contains(major)
    else { return nil }
    var level = major << 20
    if majorEnd == bytes.count { return level }
    let minorStart = majorEnd + 1
    let (minor, minorEnd) = strtol(bytes, from: minorStart)
    guard minorEnd > minorStart, minorEnd == bytes.count || bytes[minorEnd] == Byte.period,
        let minor, (0...1023).contains(minor)
    else { return nil }
    level |= minor << 10
    if minorEnd == bytes.count { return level }
    let patchStart = minorEnd + 1
    let (patch, patchEnd) = strtol(bytes, from: patchStart)
    guard patchEnd > patchStart, patchEnd == bytes.count, let patch, (0...1023).contains(patch) else { return nil }
    return level | patch
}
