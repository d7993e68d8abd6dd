// Inspector.swift: the rule. Finds every place where a verifying TLS level
// (verify, secure) is used without SNI and plans the smallest edit that adds
// it, plus the index rebuilds that make Postfix see the result.
//
// Where the level comes from:
// - main.cf <role>_tls_security_level (or the obsolete <role>_enforce_tls with
//   <role>_tls_enforce_peername) for every destination: fixed by setting
//   <role>_tls_servername in main.cf;
// - entries of the tables in <role>_tls_policy_maps: fixed per entry with
//   " servername=NAME" appended to the entry's last text line.
// The roles are smtp and lmtp: lmtp(8) reads only lmtp_* parameters.

import HashMap
import PostconfModel

/// Choices that change what a fix writes.
public struct FixOptions: Sendable {
    /// The servername keyword to add: "hostname" (the MX host name) or "nexthop".
    public var servername: String = "hostname"
    /// The Postfix version, when known; it decides which policy syntax is valid.
    public var postfixVersion: PostfixVersion?

    public init(servername: String = "hostname", postfixVersion: PostfixVersion? = nil) {
        self.servername = servername
        self.postfixVersion = postfixVersion
    }
}

/// What inspecting a configuration found and what would fix it.
public struct Inspection: Sendable {
    public var findings: [Finding] = []
    public var plan = FixPlan()

    /// check/diff exit status: 2 on errors, 1 while anything needs fixing
    /// (by the tool or by hand), 0 when nothing does.
    public var exitStatus: Int32 {
        let worst = findings.map(\.severity).max() ?? .note
        switch worst {
        case .error: return 2
        case .fixable, .manual: return 1
        case .note: return plan.isEmpty ? 0 : 1
        }
    }

}

public enum Inspector {
    /// The client roles whose TLS policy Postfix reads from main.cf.
    static let roles = ["smtp", "lmtp"]

    public static func inspect(_ configuration: Configuration, options: FixOptions) throws(ConfigurationError) -> Inspection {
        var inspection = Inspection()
        let servername = Array(options.servername.utf8)

        // Global levels first: a servername set in main.cf is inherited by
        // every table entry of that role, so those entries need no edit.
        var mainCfEdits: [ByteEdit] = []
        var roleHasServername: [String: Bool] = [:]
        for role in roles {
            let parameter = "\(role)_tls_servername"
            var hasServername = !configuration.value(parameter).isEmpty
            if !hasServername, let level = globalLevel(of: role, in: configuration), level.level.verifiesPeerName,
                let edit = configuration.mainCf.edit(setting: parameter, to: servername)
            {
                inspection.findings.append(Finding(
                    .fixable, .missingServername, at: mainCfLocation(configuration, parameterOf: level.source),
                    subject: level.source,
                    "\(role) TLS level \(level.level.rawValue) without \(parameter) (Postfix sends no SNI)",
                    fix: "set \(parameter) = \(options.servername) in main.cf"))
                mainCfEdits.append(edit)
                hasServername = true
            }
            roleHasServername[role] = hasServername
        }
        if !mainCfEdits.isEmpty {
            inspection.plan.changes.append(FileChange(
                path: configuration.mainCf.path, displayPath: configuration.displayPath(configuration.mainCf.path),
                original: configuration.mainCf.text, edits: mainCfEdits))
            inspection.plan.reloadNeeded = true
            inspection.plan.addsServername = true
        }

        // Tables, each once even when both roles name it; an entry needs SNI
        // when any role that reads the table has no servername of its own.
        var tables: [(reference: MapReference, listedBy: String, needsSNI: Bool)] = []
        for role in roles {
            let parameter = "\(role)_tls_policy_maps"
            for element in MapReference.splitList(configuration.value(parameter)) {
                guard let reference = MapReference(element) else {
                    inspection.findings.append(Finding(
                        .error, .unsupportedTable, at: mainCfLocation(configuration, parameterOf: parameter),
                        subject: parameter, "\"\(element.printable)\" is not a type:name table"))
                    continue
                }
                let needsSNI = !(roleHasServername[role] ?? false)
                if let index = tables.firstIndex(where: { $0.reference.type == reference.type && $0.reference.name == reference.name }) {
                    tables[index].needsSNI = tables[index].needsSNI || needsSNI
                } else {
                    tables.append((reference, parameter, needsSNI))
                }
            }
        }
        for table in tables {
            try inspectTable(table.reference, listedBy: table.listedBy, needsSNI: table.needsSNI,
                             configuration: configuration, options: options, into: &inspection)
        }
        return inspection
    }

    /// The level main.cf sets for a role, and the parameter it comes from.
    static func globalLevel(of role: String, in configuration: Configuration) -> (level: TLSSecurityLevel, source: String)? {
        let levelParameter = "\(role)_tls_security_level"
        let levelValue = configuration.value(levelParameter)
        if !levelValue.isEmpty {
            return TLSSecurityLevel(token: levelValue).map { ($0, levelParameter) }
        }
        // Obsolete form, used only when the level is empty.
        if configuration.flag("\(role)_enforce_tls") {
            let level: TLSSecurityLevel = configuration.flag("\(role)_tls_enforce_peername") ? .verify : .encrypt
            return (level, "\(role)_enforce_tls")
        }
        return nil
    }

    /// Where main.cf sets a parameter (its line), or main.cf itself for a default.
    static func mainCfLocation(_ configuration: Configuration, parameterOf name: String) -> SourceLocation {
        let path = configuration.displayPath(configuration.mainCf.path)
        return SourceLocation(path: path, line: configuration.mainCf.definition(of: name)?.lineNumber)
    }

    static func inspectTable(
        _ reference: MapReference, listedBy parameter: String, needsSNI: Bool,
        configuration: Configuration, options: FixOptions, into inspection: inout Inspection
    ) throws(ConfigurationError) {
        guard let method = IndexAccessMethod(rawValue: reference.type) else {
            inspection.findings.append(Finding(
                .manual, .unsupportedTable, at: mainCfLocation(configuration, parameterOf: parameter),
                subject: reference.description,
                "\(reference.type): tables are not inspected by this version of the tool; verify/secure entries in it may lack servername",
                fix: "add servername=\(options.servername) to its verify and secure entries by hand"))
            return
        }
        let sourcePath = configuration.resolve(String(decoding: reference.name, as: UTF8.self))
        let indexPath = sourcePath + method.fileSuffix
        let display = configuration.displayPath(sourcePath)
        let utf8Checks = configuration.flag("smtputf8_enable")

        guard pathExists(sourcePath) else {
            let indexExists = pathExists(indexPath)
            inspection.findings.append(Finding(
                indexExists ? .manual : .error, .missingSource, at: SourceLocation(path: display),
                subject: reference.description,
                indexExists ? "the source file is missing; only its index exists, which cannot be fixed without it"
                    : "neither the source nor its index exists; Postfix defers mail that needs this table",
                fix: indexExists ? "restore the source, then run the tool again" : nil))
            return
        }
        let source: TableSource
        do {
            source = try TableSource(path: display, bytes: try readFileBytes(sourcePath), utf8Checks: utf8Checks)
        } catch let error as ConfigFileError {
            throw .invalid(error)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw .unreadable(path: sourcePath, reason: "\(error)")
        }

        for skipped in source.skippedLines {
            inspection.findings.append(Finding(
                .note, .skippedLine, at: SourceLocation(path: display, line: skipped.lineNumber), skipped.message))
        }

        let braces = (options.postfixVersion ?? PostfixVersion(3, 10)) >= PostfixVersion(3, 10)
        var firstLineOfKey: [[UInt8]: Int] = [:]
        var edits: [ByteEdit] = []
        let insertion = Array(" servername=\(options.servername)".utf8)
        for entry in source.entries {
            let location = SourceLocation(path: display, line: entry.lineNumber)
            let key = entry.key.asciiLowercased()
            let subject = entry.key.printable
            if let first = firstLineOfKey[key] {
                inspection.findings.append(Finding(
                    .note, .duplicateKey, at: location, subject: subject,
                    "never used: line \(first) has the same key and the first one wins"))
                continue
            }
            firstLineOfKey[key] = entry.lineNumber
            let policy = PolicyValue(entry.value, braces: braces)
            let problems = policy.problems(postfixVersion: options.postfixVersion ?? PostfixVersion(3, 10))
            if !problems.isEmpty {
                inspection.findings.append(Finding(
                    .error, .brokenEntry, at: location, subject: subject,
                    problems.joined(separator: "; ") + "; smtp(8) defers mail for this destination",
                    fix: "correct the entry by hand"))
                continue
            }
            guard let level = policy.level, level.verifiesPeerName, needsSNI,
                policy.attributes(named: "servername").isEmpty
            else { continue }
            inspection.findings.append(Finding(
                .fixable, .missingServername, at: location, subject: subject,
                "\(level.rawValue) without servername (Postfix sends no SNI)",
                fix: "append servername=\(options.servername)"))
            edits.append(ByteEdit(insert: insertion, at: endOfText(entry, in: source.text)))
        }

        var reason: IndexRebuild.Reason?
        if !edits.isEmpty {
            inspection.plan.changes.append(FileChange(path: sourcePath, displayPath: display, original: source.text, edits: edits))
            inspection.plan.addsServername = true
            reason = .sourceChanged
        } else {
            reason = try indexState(indexPath: indexPath, method: method, source: source, display: configuration.displayPath(indexPath))
            if let reason {
                inspection.findings.append(Finding(
                    .fixable, reason == .missing ? .missingIndex : .staleIndex,
                    at: SourceLocation(path: configuration.displayPath(indexPath)), subject: reference.description,
                    reason == .missing ? "the index is missing; Postfix cannot read this table"
                        : "the index differs from its source; Postfix uses the index",
                    fix: "rebuild the index from the source"))
            }
        }
        if let reason {
            inspection.plan.rebuilds.append(IndexRebuild(
                reference: reference, sourcePath: sourcePath, indexPath: indexPath,
                displayIndexPath: configuration.displayPath(indexPath), method: method, reason: reason,
                utf8Checks: utf8Checks))
        }
    }

    /// Where to append an attribute: the end of the entry's last text line,
    /// before any trailing white space or CR, so the line end stays as it was.
    static func endOfText(_ entry: TableEntry, in text: ConfigText) -> Int {
        let line = text.lines[entry.logicalLine.lastTextLine]
        var end = line.contentEnd
        while end > line.start && isPostfixSpace(text.bytes[end - 1]) { end -= 1 }
        return end
    }

    /// Whether the index is missing or differs from what postmap would build
    /// from the source (nil when it is current).
    static func indexState(indexPath: String, method: IndexAccessMethod, source: TableSource, display: String) throws(ConfigurationError) -> IndexRebuild.Reason? {
        guard pathExists(indexPath) else { return .missing }
        let records: [IndexRecord]
        do {
            records = try IndexFile.readAll(path: indexPath, method: method)
        } catch {
            throw .unreadable(path: display, reason: "\(error)")
        }
        let expected = source.storedRecords()
        guard records.count == expected.count else { return .stale }
        for record in records where expected[record.key] != record.value {
            return .stale
        }
        return nil
    }
}
