// ParameterExpansionTests.swift: ParameterExpander against the real
// `postconf -c DIR -xh NAME` (Postfix 3.7.11). Every form of mac_expand()
// is written into a main.cf as the value of smtpd_banner (a free-text
// parameter postconf knows), with helper parameters beside it; our expansion
// must equal postconf's output (both with white space runs collapsed, as
// postconf prints values), and we must report an error exactly when postconf
// exits with "macro processing error".

import Foundation
import PostconfModel
import PostfixTestSupport
import Testing

/// Runs postconf on a main.cf and reads its output, for both test suites.
enum PostconfProbe {
    /// Words separated by single spaces: how postconf prints any value
    /// (pcf_print_line collapses " \t\r\n" runs and trims the ends).
    static func normalized<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        let isSeparator: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        var out: [UInt8] = []
        var pendingSpace = false
        for byte in bytes {
            if isSeparator(byte) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                out.append(byte)
            }
        }
        return out
    }

    /// A fresh config directory holding `mainCf` (and an empty master.cf,
    /// to keep postconf's warnings down).
    static func directory(_ mainCf: [UInt8]) throws -> TestDirectory {
        let directory = try TestDirectory("ptf-expand")
        try directory.write("main.cf", mainCf)
        try directory.write("master.cf", [])
        return directory
    }

    /// `postconf -c DIR -h <flags> NAME`: the single value printed, without
    /// its newline; nil when postconf fails or prints nothing.
    static func value(_ name: String, flags: String = "-h", in directory: TestDirectory) throws -> (value: [UInt8]?, result: ToolResult) {
        let result = try ExternalTool.postconf([flags, name], configDirectory: directory.path)
        guard result.status == 0, result.output.last == 0x0A else { return (nil, result) }
        return (Array(result.output.dropLast()), result)
    }

    /// `postconf -c DIR <flags> [names]` parsed as name → value ("name = value"
    /// or "name =" lines).
    static func values(_ flags: [String], _ names: [String] = [], in directory: TestDirectory) throws -> (
        values: [String: [UInt8]], result: ToolResult
    ) {
        let result = try ExternalTool.postconf(flags + names, configDirectory: directory.path)
        var values: [String: [UInt8]] = [:]
        for line in result.output.split(separator: 0x0A) {
            guard let space = line.firstIndex(of: 0x20) else { continue }
            let name = String(decoding: line[line.startIndex..<space], as: UTF8.self)
            let rest = line[space...]
            if rest.elementsEqual(" =".utf8) {
                values[name] = []
            } else if rest.starts(with: " = ".utf8) {
                values[name] = Array(rest.dropFirst(3))
            }
        }
        return (values, result)
    }

    struct Run: Sendable {
        var status: Int32
        var output: [UInt8]
        var errors: String

        /// The single value printed by -h, without its newline; nil when
        /// postconf failed or printed nothing.
        var value: [UInt8]? {
            status == 0 && output.last == 0x0A ? Array(output.dropLast()) : nil
        }
    }

    /// Runs several postconf commands at once. A postconf that fails sleeps
    /// a second in msg_fatal() before it exits, so error cases run side by
    /// side rather than one after another.
    static func concurrently(_ invocations: [[String]]) throws -> [Run] {
        let scratch = try TestDirectory("ptf-postconf")
        var started: [(Process, String, String)] = []
        for (index, arguments) in invocations.enumerated() {
            let out = try scratch.write("out\(index)", [])
            let err = try scratch.write("err\(index)", [])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/postconf")
            process.arguments = arguments
            process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
            try process.run()
            started.append((process, out, err))
        }
        return try started.map { process, out, err in
            process.waitUntilExit()
            return Run(
                status: process.terminationStatus, output: try readBytes(out),
                errors: String(decoding: try readBytes(err), as: UTF8.self))
        }
    }

    /// The expander for a main.cf in `directory`, as postconf -c DIR sees it.
    /// An expander with the installed Postfix's defaults, as the tool has
    /// them when it plans for the installed Postfix.
    static func expander(_ mainCf: [UInt8], in directory: TestDirectory) throws -> ParameterExpander {
        let parsed = try MainCf(path: directory.file("main.cf"), bytes: mainCf)
        let defaults = PostfixDefaults(postconfOutput: try ExternalTool.postconf(["-d"], configDirectory: directory.path).output)
        return ParameterExpander(explicit: parsed.values, configDirectory: Array(directory.path.utf8), defaults: defaults)
    }
}

/// One expression, put into main.cf as smtpd_banner.
struct ExpansionCase: Sendable, CustomTestStringConvertible {
    var expression: String
    var testDescription: String { expression }
}

struct ParameterExpansionTests {
    /// Helper parameters every case can refer to.
    static let helpers = """
        xa = hello
        xempty =
        xnum = 10
        xrec = <$xa>
        xdeep = [$xrec|${xa}|$(xnum)]
        xdollar = a$$b$$$$c
        xspace = two  words
        xlevel = 3.6
        xcond = ${xa?{$xnum}:{none}}
        xloop = <$xloop>
        xmutual = ($xmutual2)
        xmutual2 = [$xmutual]

        """

    static let cases: [ExpansionCase] = [
        // Unconditional forms, recursion, $$.
        "$xa", "${xa}", "$(xa)", "${ xa }", "$( xa )", "$xa.$xa", "$xa-x", "$xa_x", "x$xa$xnum",
        "a$$b", "$$$$", "$$xa", "a$$", "$xrec", "${xrec}x", "$xdeep", "$xdollar", "$xspace", "$xcond",
        "A{${xa?{set}:{unset}}} B{$(xa)} C{$$x} D{${undefined_param:fallback}} E{${xa:empty}} F{${xa?yes}} G{${config_directory}/tls}",
        // Undefined names.
        "$undefined_param", "x${undefined_param}y", "$(undefined_param)", "${ }x", "$1abc",
        // ${name?text} and ${name:text}, legacy (verbatim text) and {text}.
        "${xa?set}", "${xempty?set}", "${undefined_param?set}", "${xa:unset}", "${xempty:unset}",
        "${undefined_param:unset}", "${xa?a:b}", "${xempty?a:b}", "${xa?  raw}", "${xa ? {x} }", "${xempty : {y} }",
        "${xa?{$xnum}}", "${xa:{$xnum}}", "${xempty:$xrec}", "${xa?$xrec}", "${xa?{${xrec}}:{$undefined_param}}",
        "${xa?{a}}}", "$(xa?(x))", "${xempty:x:y}", "${xa?x?y}", "${xa?{{in}}}", "${xa?{a{b}c}}",
        "${xa?(}", "${xa?{}}", "$(xa?{a})b",
        // The 3.0+ ternary.
        "${xa?{a}:{b}}", "${xempty?{a}:{b}}", "${undefined_param?{a}:{b}}", "${xa?{a}:b c}", "${xempty?{a}:b c}",
        "${xa ? {yes} : {no}}", "${xempty?{$xa}:{$xnum}}", "${xa?{${xempty?{in}:{out}}}:{x}}",
        // Relational expressions.
        "${{$xnum} == {10}}", "${{$xnum} == {010}}", "${{$xnum} < {9}}", "${{9} < {$xnum}}", "${{abc} < {abd}}",
        "${{abc} > {abd}?{gt}:{le}}", "${{10} <= {10}}", "${{10} >= {11}}", "${{b} != {a}}", "${{}=={}}",
        "${{}=={0}}", "${{-1}<{0}}", "${{ a }=={a}}", "${{$xa} != {hello} ? {ne} : {eq}}", "${{a}=={a}:{F}}",
        "${{a}=={b}:{F}}", "${{3.10} > {3.9}}", "${{10} > {9}}", "${{10}>{9}?{t}}", "${{x}=={x}?t:f}",
        "${{${xa?{1}:{2}}} == {1}}", "${{$xempty}=={}}", "${{9223372036854775807}>{1}}",
        // Compatibility level comparisons.
        "${{$compatibility_level} <level {1} ? {no} : {yes}}", "${{3.10} >level {3.9}}", "${{3} ==level {3.0.0}}",
        "${{$xlevel} <=level {3.6}}", "${{ 3.6} <level {3.7}}", "${{2} !=level {2.0}}", "${{3.6.1} >=level {3.6}}",
        "${{0}<level{1}}", "${{+3}==level{3}}", "${{3.0.1023}<level{3.1}}",
    ].map(ExpansionCase.init)

    /// Errors: postconf exits with "macro processing error" (or "bad conversion").
    static let errorCases: [ExpansionCase] = [
        "a $ b", "a$", "$", "${}", "$()", "${a b}", "${xa?{a} b}", "x${xa", "x$(xa", "${{a} =~ {b}}",
        "${{a} ==foo {b}}", "${{a} ==LEVEL {b}}", "${{a} ==level {b}}", "${{a} == {b} x}", "${{a}}",
        "${xa:{a} b}", "${xa?{a}:{b}:{c}}", "${{99999999999999999999}=={1}}", "${xa?{unbal}", "${{a}{b}}",
        "${{3.1024} ==level {3}}", "${{-1} <level {1}}", "${{3.} <level {1}}", "$xloop", "$xmutual",
        "ok $xa then ${bad name} then $xa", "$(xa?{a)b})", "$(xa?{a}b)",
    ].map(ExpansionCase.init)

    static func mainCf(_ testCase: ExpansionCase) -> [UInt8] {
        Array((helpers + "smtpd_banner = \(testCase.expression)\n").utf8)
    }

    /// Ours must fail exactly when postconf does, and otherwise print the same.
    static func compare(_ testCase: ExpansionCase, ours: ParameterExpansion, postconf run: PostconfProbe.Run) {
        if run.status == 0 {
            #expect(ours.error == nil, "\(testCase.expression): we report \(ours.error ?? "") but postconf accepts it")
            #expect(
                PostconfProbe.normalized(ours.value) == run.value.map { PostconfProbe.normalized($0) },
                "\(testCase.expression): ours: \(ours.value.printable) postconf: \(run.value?.printable ?? "nothing")")
        } else {
            #expect(run.errors.contains("fatal:"), "\(testCase.expression): postconf failed without a fatal message: \(run.errors)")
            #expect(ours.error != nil, "\(testCase.expression): postconf fails (\(run.errors)) but we expand to \(ours.value.printable)")
        }
        // postconf's "undefined parameter" warnings come from a scan of
        // every branch; without branches they are exactly the $names used.
        if !testCase.expression.contains("?") && !testCase.expression.contains(":") {
            for line in run.errors.split(separator: "\n") where line.contains("undefined parameter: ") {
                let name = line.hasSuffix("undefined parameter: ") ? "" : String(line.split(separator: "undefined parameter: ").last!)
                #expect(ours.unresolvedNames.contains(name), "postconf: \(line); ours: \(ours.unresolvedNames)")
            }
        }
    }

    @Test("expansion agrees with postconf -xh", arguments: cases)
    func agreesWithPostconf(_ testCase: ExpansionCase) throws {
        let mainCf = Self.mainCf(testCase)
        let directory = try PostconfProbe.directory(mainCf)
        let ours = try #require(try PostconfProbe.expander(mainCf, in: directory).expansion(ofParameter: "smtpd_banner"))
        let run = try #require(try PostconfProbe.concurrently([["-c", directory.path, "-xh", "smtpd_banner"]]).first)
        #expect(run.status == 0, "\(testCase.expression): \(run.errors)")
        Self.compare(testCase, ours: ours, postconf: run)
    }

    @Test func errorsAgreeWithPostconf() throws {
        var directories: [TestDirectory] = []
        var expansions: [ParameterExpansion] = []
        for testCase in Self.errorCases {
            let mainCf = Self.mainCf(testCase)
            let directory = try PostconfProbe.directory(mainCf)
            directories.append(directory)
            expansions.append(try #require(try PostconfProbe.expander(mainCf, in: directory).expansion(ofParameter: "smtpd_banner")))
        }
        let runs = try PostconfProbe.concurrently(directories.map { ["-c", $0.path, "-xh", "smtpd_banner"] })
        for (index, testCase) in Self.errorCases.enumerated() {
            #expect(runs[index].status != 0, "\(testCase.expression): postconf accepts it")
            Self.compare(testCase, ours: expansions[index], postconf: runs[index])
        }
    }

    /// A chain smtpd_banner = $p1, p1 = $p2, ... pN: Postfix allows 100
    /// nested callbacks. With a literal at the end N = 100 works and 101
    /// fails; with an empty pN the limit moves by one.
    @Test func nestingLimit() throws {
        let chains = [(99, false), (100, false), (101, false), (100, true), (101, true), (102, true)]
        var directories: [TestDirectory] = []
        var expansions: [ParameterExpansion] = []
        for (length, endsEmpty) in chains {
            var text = "smtpd_banner = $p1\n"
            for index in 1..<length { text += "p\(index) = $p\(index + 1)\n" }
            text += endsEmpty ? "p\(length) =\n" : "p\(length) = end\n"
            let mainCf = Array(text.utf8)
            let directory = try PostconfProbe.directory(mainCf)
            directories.append(directory)
            expansions.append(try #require(try PostconfProbe.expander(mainCf, in: directory).expansion(ofParameter: "smtpd_banner")))
        }
        let runs = try PostconfProbe.concurrently(directories.map { ["-c", $0.path, "-xh", "smtpd_banner"] })
        for (index, chain) in chains.enumerated() {
            let (ours, run) = (expansions[index], runs[index])
            #expect((ours.error == nil) == (run.status == 0), "\(chain): ours: \(ours.error ?? "ok"); postconf: \(run.errors)")
            if run.status == 0 { #expect(ours.value == run.value) }
        }
        // Where the limit lies: 100 links with a literal at the end, 101 ending empty.
        #expect(runs.map { $0.status == 0 } == [true, true, false, true, true, false])
    }

    /// Postfix lacks a guard here: each relational operand is a fresh
    /// expansion, so this recursion only ends when postconf crashes
    /// (SIGSEGV on 3.7.11; not run here). We stop with an error.
    @Test func selfReferenceThroughARelationalOperandIsAnError() {
        let expander = ParameterExpander(explicit: ["xl": Array("${{$xl} == {a}}".utf8)], configDirectory: Array("/etc/postfix".utf8))
        let result = expander.expansion(of: Array("$xl".utf8))
        #expect(result.error?.contains("nesting") == true)
    }

    /// "e<n> = $e<n-1> $e<n-1>" doubles at each step: e40 is 2 TB, which
    /// Postfix would build (it has no bound; it never runs as root over a
    /// tree others wrote). We stop at maximumExpandedSize with an error;
    /// e24 (32 MB) is past it, and the bytes already expanded stay bounded.
    @Test(arguments: [24, 40])
    func anExpansionBombStopsAtTheSizeBound(levels: Int) {
        var explicit: [String: [UInt8]] = ["e0": Array("x".utf8)]
        for level in 1...levels { explicit["e\(level)"] = Array("$e\(level - 1) $e\(level - 1)".utf8) }
        let expander = ParameterExpander(explicit: explicit, configDirectory: Array("/etc/postfix".utf8))
        let result = expander.expansion(of: Array("$e\(levels)".utf8))
        #expect(result.error?.contains("longer than") == true, "\(result.error ?? "no error")")
        #expect(result.value.count <= ParameterExpander.maximumExpandedSize)
    }

    /// Below the bounds nothing changes: a value of 2 MB expands whole.
    @Test func aLargeValueBelowTheBoundExpandsWhole() {
        var explicit: [String: [UInt8]] = ["e0": Array(String(repeating: "x", count: 1024).utf8)]
        for level in 1...10 { explicit["e\(level)"] = Array("$e\(level - 1)$e\(level - 1)".utf8) }
        let expander = ParameterExpander(explicit: explicit, configDirectory: Array("/etc/postfix".utf8))
        let result = expander.expansion(of: Array("$e10$e10".utf8))
        #expect(result.error == nil)
        #expect(result.value.count == 2 << 20)
    }

    /// -c DIR is config_directory unless main.cf sets it: postconf enters
    /// DIR first and main.cf's line overrides it ("overriding earlier entry").
    @Test("config_directory follows -c DIR unless main.cf sets it", arguments: [false, true])
    func configDirectory(mainCfSetsIt: Bool) throws {
        var text = "smtp_tls_policy_maps = hash:$config_directory/tls_policy, texthash:${config_directory}/more\n"
        if mainCfSetsIt { text += "config_directory = /elsewhere/postfix\n" }
        let mainCf = Array(text.utf8)
        let directory = try PostconfProbe.directory(mainCf)
        let expander = try PostconfProbe.expander(mainCf, in: directory)
        for name in ["config_directory", "smtp_tls_policy_maps"] {
            let (postconfRaw, _) = try PostconfProbe.value(name, flags: "-h", in: directory)
            let (postconfExpanded, _) = try PostconfProbe.value(name, flags: "-xh", in: directory)
            #expect(expander.rawValue(name).map { PostconfProbe.normalized($0) } == postconfRaw, "\(name) raw")
            #expect(expander.expandedValue(name).map { PostconfProbe.normalized($0) } == postconfExpanded, "\(name) expanded")
        }
        let expected = mainCfSetsIt ? "/elsewhere/postfix" : directory.path
        #expect(expander.expandedValue("smtp_tls_policy_maps") == Array("hash:\(expected)/tls_policy, texthash:\(expected)/more".utf8))
    }

    /// smtputf8_enable's default is "${{$compatibility_level} <level {1} ? {no} : {yes}}".
    @Test("smtputf8_enable follows compatibility_level as in postconf", arguments: ["", "0", "1", "2", "3.6", "3.10", "0.9", "1.0.0", "9999"])
    func smtputf8FollowsCompatibilityLevel(level: String) throws {
        let mainCf = Array((level.isEmpty ? "" : "compatibility_level = \(level)\n").utf8)
        let directory = try PostconfProbe.directory(mainCf)
        let expander = try PostconfProbe.expander(mainCf, in: directory)
        let (postconf, result) = try PostconfProbe.value("smtputf8_enable", flags: "-xh", in: directory)
        #expect(result.status == 0, "\(result.errors)")
        #expect(expander.expandedValue("smtputf8_enable") == postconf)
    }

    @Test func compatibilityLevelsCompareByNumber() {
        let level = ParameterExpander.compatibilityLevel
        #expect(level(Array("3.10".utf8))! > level(Array("3.9".utf8))!)
        #expect(level(Array("3".utf8)) == level(Array("3.0.0".utf8)))
        #expect(level(Array("3.6.1".utf8))! > level(Array("3.6".utf8))!)
        #expect(level(Array("3.1024".utf8)) == nil)
        #expect(level(Array("3.".utf8)) == nil)
        #expect(level(Array("".utf8)) == nil)
        #expect(level(Array("x".utf8)) == nil)
    }

    @Test func undefinedNamesAreReportedOnceInOrder() {
        let expander = ParameterExpander(explicit: ["a": Array("$zz $yy".utf8)], configDirectory: Array("/etc/postfix".utf8))
        let result = expander.expansion(of: Array("$a ${zz:x} ${ww?y} $a".utf8))
        #expect(result.value == Array("  x   ".utf8))
        #expect(result.unresolvedNames == ["zz", "yy", "ww"])
        #expect(result.error == nil)
    }

    @Test func expansionWorksOnBytesNotText() {
        let value: [UInt8] = [0x63, 0x61, 0x66, 0xE9, 0xFF]
        let expander = ParameterExpander(explicit: ["a": value], configDirectory: Array("/etc/postfix".utf8))
        #expect(expander.expand(Array("<$a>".utf8)) == [0x3C] + value + [0x3E])
    }
}
