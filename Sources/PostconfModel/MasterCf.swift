// MasterCf.swift: master.cf service entries as postconf(1) reads them, with
// their "-o name=value" overrides located byte for byte, and the lossless
// edit that adds an override to an entry in the entry's own style.
//
// Each logical line is split on blanks with "{...}" kept whole (argv_splitq):
// eight fields (service, type, private, unpriv, chroot, wakeup, maxproc,
// command), then the command's arguments. Leading arguments that start with
// '-' are options; "-o" takes the next argument (or the rest of "-oname=v"),
// and "{ name = value }" is the long form that allows white space.

/// One "-o name=value" of a service.
public struct MasterCfOverride: Sendable, Equatable {
    public var name: String
    public var value: [UInt8]
    /// Whether it was written "-o { name = value }".
    public var braced: Bool
    /// File offsets of the "-o" and of the end of its value token.
    public var optionStart: Int
    public var end: Int
}

public struct MasterCfService: Sendable, Equatable {
    public var name: String
    public var type: String
    /// The command field's base name: which daemon runs ("smtp", "lmtp", ...).
    public var command: String
    public var overrides: [MasterCfOverride]
    public var logicalLine: LogicalLine
    public var lineNumber: Int
    /// File offset just past the last option (or past the command field when
    /// there is none): where a new option goes so that it stays an option.
    public var optionsEnd: Int

    /// "name/type", as postconf -M and -P name services.
    public var id: String { "\(name)/\(type)" }

    /// The value in force for an override (the last -o for a name wins).
    public func override(_ parameter: String) -> MasterCfOverride? {
        overrides.last { $0.name == parameter }
    }
}

public struct MasterCf: Sendable {
    /// The service types master(8) accepts.
    static let serviceTypes: Set<String> = ["inet", "unix", "unix-dgram", "fifo", "pass"]

    public let path: String
    public let text: ConfigText
    public let services: [MasterCfService]

    public init(path: String, bytes: [UInt8]) throws(ConfigFileError) {
        let text = ConfigText(bytes: bytes)
        if let line = text.firstLineWithNUL {
            throw ConfigFileError(SourceLocation(path: path, line: line), "NUL byte in master.cf")
        }
        var services: [MasterCfService] = []
        for logical in text.logicalLines where !logical.startsWithWhitespace {
            let location = SourceLocation(path: path, line: text.lineNumber(of: logical))
            services.append(try MasterCf.service(logical, in: text, at: location))
        }
        self.path = path
        self.text = text
        self.services = services
    }

    static func service(_ logical: LogicalLine, in text: ConfigText, at location: SourceLocation) throws(ConfigFileError) -> MasterCfService {
        let joined = text.joinedText(of: logical)
        let bytes = joined.bytes
        // master(8) splits the eight fields on blanks alone; only the
        // command's arguments may be "{...}" groups.
        var tokens = Array(Tokens.split(bytes, braces: false, isSeparator: Tokens.isSpace).prefix(8))
        guard tokens.count == 8 else {
            throw ConfigFileError(location, "bad field count: a service needs 8 fields, this line has \(tokens.count)")
        }
        tokens += Tokens.split(bytes[tokens[7].upperBound...], braces: true, isSeparator: Tokens.isSpace)
        if let open = tokens.dropFirst(8).first(where: { !Tokens.hasBalancedBraces(bytes[$0]) }) {
            throw ConfigFileError(location, "unbalanced '{' in \"\(bytes[open].printable)\"")
        }
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        let type = string(tokens[1])
        guard MasterCf.serviceTypes.contains(type) else {
            throw ConfigFileError(location, "bad transport type: \(type.prefix(40)) (expected inet, unix, unix-dgram, fifo or pass)")
        }
        let commandPath = string(tokens[7])
        var overrides: [MasterCfOverride] = []
        var optionsEnd = tokens[7].upperBound
        var index = 8
        while index < tokens.count {
            let token = bytes[tokens[index]]
            guard token.first == UInt8(ascii: "-"), token != Array("--".utf8)[...] else { break }
            optionsEnd = tokens[index].upperBound
            guard token.dropFirst().first == UInt8(ascii: "o") else {
                index += 1
                continue
            }
            let optionStart = tokens[index].lowerBound
            var valueToken: ArraySlice<UInt8>
            var valueEnd: Int
            if token.count > 2 {
                valueToken = token.dropFirst(2)
                valueEnd = tokens[index].upperBound
            } else {
                guard index + 1 < tokens.count else {
                    throw ConfigFileError(location, "\"-o\" without a value in service \(string(tokens[0]))/\(string(tokens[1]))")
                }
                index += 1
                valueToken = bytes[tokens[index]]
                valueEnd = tokens[index].upperBound
            }
            optionsEnd = valueEnd
            let braced = valueToken.first == UInt8(ascii: "{")
            if braced {
                guard Tokens.isBraced(valueToken) else {
                    throw ConfigFileError(location, "unbalanced '{' in \"-o \(valueToken.printable)\"")
                }
                valueToken = Tokens.unbraced(valueToken)
            }
            guard let (name, value) = Tokens.nameValue(valueToken) else {
                throw ConfigFileError(location, "\"-o \(valueToken.printable)\": missing '=' after parameter name")
            }
            overrides.append(
                MasterCfOverride(
                    name: String(decoding: name, as: UTF8.self), value: Array(value), braced: braced,
                    optionStart: joined.fileOffset(optionStart), end: joined.fileOffset(valueEnd)))
            index += 1
        }
        return MasterCfService(
            name: string(tokens[0]), type: type,
            command: String(commandPath.split(separator: "/").last ?? ""),
            overrides: overrides, logicalLine: logical, lineNumber: location.line ?? 0,
            optionsEnd: joined.fileOffset(optionsEnd))
    }

    /// The edit that adds "-o name=value" to a service, in the entry's style:
    /// on a line of its own, indented like the previous override, when that
    /// one is on its own continuation line and is the entry's last text;
    /// otherwise right after the last option on the same line. The long form
    /// "{ name = value }" is used when the previous override uses it.
    public func edit(adding name: String, value: [UInt8], to service: MasterCfService) -> ByteEdit {
        let last = service.overrides.last
        let braced = last?.braced ?? false
        let option =
            braced
            ? Array("-o { \(name) = ".utf8) + value + Array(" }".utf8)
            : Array("-o \(name)=".utf8) + value
        let lastLine = text.lines[service.logicalLine.lastTextLine]
        var lastLineTextEnd = lastLine.contentEnd
        while lastLineTextEnd > lastLine.start && isPostfixSpace(text.bytes[lastLineTextEnd - 1]) { lastLineTextEnd -= 1 }
        if let last, service.optionsEnd == lastLineTextEnd, ownLine(of: last.optionStart) == service.logicalLine.lastTextLine {
            // "-o" lines of their own: a new line with the same indentation and line end.
            let indentation = text.bytes[lastLine.start..<last.optionStart]
            let endsWithCR = lastLine.contentEnd > lastLine.start && text.bytes[lastLine.contentEnd - 1] == 0x0D
            let lineEnd: [UInt8] = endsWithCR ? [0x0D, 0x0A] : [0x0A]
            if lastLine.hasNewline {
                return ByteEdit(insert: Array(indentation) + option + lineEnd, at: lastLine.end)
            }
            return ByteEdit(insert: lineEnd + Array(indentation) + option, at: lastLine.end)
        }
        return ByteEdit(insert: [0x20] + option, at: service.optionsEnd)
    }

    /// The edit that replaces an override's value (as written) with `value`,
    /// in either form ("-o name=value", "-o { name = value }"). The value is
    /// the override's last occurrence of its bytes: only blanks and '}'
    /// follow it. Nil for an empty value.
    public func edit(replacingValueOf override: MasterCfOverride, with value: [UInt8]) -> ByteEdit? {
        guard !override.value.isEmpty else { return nil }
        return text.bytes.lastRange(of: override.value, in: override.optionStart..<override.end).map { ByteEdit(range: $0, replacement: value) }
    }

    /// The physical line an offset is on, when it is the first text on that
    /// line (nil otherwise).
    private func ownLine(of offset: Int) -> Int? {
        guard let index = text.lines.firstIndex(where: { $0.start <= offset && offset <= $0.contentEnd }) else { return nil }
        let before = text.bytes[text.lines[index].start..<offset]
        return before.allSatisfy(isPostfixSpace) ? index : nil
    }
}
