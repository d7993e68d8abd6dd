// BadInputTests.swift: the bad-input corpus (Tests/Fixtures/bad-input/
// PLACE/NAME, each file put in place of PLACE in an otherwise fixable
// configuration), plus inputs that cannot be stored as files (10 MB lines,
// a directory, a dangling link or an unreadable file in each place). For
// each, apply must exit 2 or more with a message naming the file (and the
// line, where there is one), and change no file: contents, inode, size,
// mtime, mode and owner of every file are compared before and after.

import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One bad input and the message apply must give for it.
struct BadInput: CustomTestStringConvertible, Sendable {
    enum Setup: Sendable {
        case fixture
        case bytes([UInt8])
        case directory
        case danglingSymlink
        /// Mode 000, apply run as nobody (root reads anything).
        case unreadable
    }
    /// main.cf, master.cf, policy (the table source) or policy.db.
    var place: String
    var name: String
    var setup: Setup = .fixture
    /// A line added to main.cf.
    var mainCfExtra = ""
    /// A substring of the output; CONFIG stands for the configuration directory.
    var message: String

    var testDescription: String { "\(place)/\(name)" }
}

struct BadInputTests {
    static let indexMessage = "policy.db: the existing index is not a readable hash database"

    static let corpus: [BadInput] = [
        BadInput(place: "policy", name: "nul-in-key", message: "policy, line 2: NUL byte in a table source"),
        BadInput(place: "policy", name: "nul-in-value", message: "policy, line 2: NUL byte in a table source"),
        BadInput(place: "policy", name: "nul-in-comment", message: "policy, line 1: NUL byte in a table source"),
        BadInput(place: "policy", name: "nul-after-last-newline", message: "policy, line 2: NUL byte in a table source"),
        BadInput(place: "policy", name: "binary-garbage", message: "policy, line 1: NUL byte in a table source"),
        BadInput(place: "policy", name: "berkeley-db-as-source", message: "policy, line 1: NUL byte in a table source"),
        BadInput(
            place: "policy", name: "hash-comment-in-value",
            message: "postfix-tls-fix: error: policy, line 2: bad.example: malformed attribute/value pair \"#\""),
        BadInput(
            place: "policy", name: "servername-twice",
            message: "postfix-tls-fix: error: policy, line 1: bad.example: attribute \"servername\" is specified multiple times"),
        BadInput(
            place: "policy", name: "continued-broken-entry",
            message: "postfix-tls-fix: error: policy, line 1: bad.example: attribute \"servername\" is specified multiple times"),
        BadInput(
            place: "policy", name: "unknown-level",
            message: "postfix-tls-fix: error: policy, line 1: bad.example: invalid security level \"verified\""),
        BadInput(
            place: "policy", name: "level-none-typo", message: "postfix-tls-fix: error: policy, line 1: bad.example: invalid security level \"nonee\""
        ),
        BadInput(
            place: "policy", name: "unknown-attribute",
            message: "postfix-tls-fix: error: policy, line 1: bad.example: invalid attribute name: \"sni\""),
        BadInput(
            place: "policy", name: "empty-servername",
            message: "postfix-tls-fix: error: policy, line 1: bad.example: \"servername=\" specifies an invalid hostname"),
        BadInput(
            place: "policy", name: "attribute-without-value",
            message: "postfix-tls-fix: error: policy, line 1: bad.example: malformed attribute/value pair \"match\""),
        BadInput(
            place: "policy", name: "unbalanced-brace-open",
            message: "postfix-tls-fix: error: policy, line 1: bad.example: malformed attribute/value pair \"{\""),
        BadInput(
            place: "policy", name: "unbalanced-brace-close",
            message: "postfix-tls-fix: error: policy, line 1: bad.example: malformed attribute/value pair \"servername\""),
        BadInput(
            place: "policy", name: "crlf-broken-entry",
            message: "postfix-tls-fix: error: policy, line 2: bad.example: malformed attribute/value pair \"protocols\""),
        // With SMTPUTF8 on, postmap skips non-UTF-8 lines (a note); with it
        // off, Postfix reads them and smtp(8) rejects them.
        BadInput(
            place: "policy", name: "invalid-utf8-level", mainCfExtra: "smtputf8_enable = no",
            message: "postfix-tls-fix: error: policy, line 1: bad.example: invalid security level \"verif\\xFF\""),
        BadInput(
            place: "policy", name: "invalid-utf8-attribute", mainCfExtra: "smtputf8_enable = no",
            message: "postfix-tls-fix: error: policy, line 1: bad.example: invalid attribute name: \"\\xC3(\""),

        BadInput(place: "policy.db", name: "truncated-at-page-boundary", message: indexMessage),
        BadInput(place: "policy.db", name: "truncated-mid-page", message: indexMessage),
        BadInput(place: "policy.db", name: "truncated-header", message: indexMessage),
        BadInput(
            place: "policy.db", name: "wrong-access-method-btree",
            message: indexMessage + " (cannot read CONFIG/policy.db as a hash database: it is a Berkeley DB btree database)"),
        BadInput(place: "policy.db", name: "text-file", message: indexMessage),
        BadInput(place: "policy.db", name: "binary-garbage", message: indexMessage),
        BadInput(place: "policy.db", name: "empty", message: indexMessage),
        BadInput(place: "policy.db", name: "zeroed-metadata-page", message: indexMessage),

        BadInput(
            place: "main.cf", name: "missing-equals",
            message: "CONFIG/main.cf, line 2: missing '=' after attribute name: \"smtp_tls_policy_maps hash:$config_directory/policy\""),
        BadInput(
            place: "main.cf", name: "missing-name", message: "CONFIG/main.cf, line 2: missing attribute name: \"= hash:$config_directory/policy\""),
        BadInput(place: "main.cf", name: "continuation-at-top", message: "CONFIG/main.cf, line 3: missing '=' after attribute name: \"broken line\""),
        BadInput(place: "main.cf", name: "nul-byte", message: "CONFIG/main.cf, line 2: NUL byte in main.cf"),
        BadInput(place: "main.cf", name: "binary-garbage", message: "CONFIG/main.cf, line 1: NUL byte in main.cf"),
        BadInput(
            place: "main.cf", name: "invalid-utf8-without-equals",
            message: "CONFIG/main.cf, line 2: missing '=' after attribute name: \"smtp_tls_policy_maps \\xFF\\xFE hash:/x\""),
        BadInput(place: "main.cf", name: "invalid-utf8-map-path", message: "cy: hash:CONFIG/pol"),
        BadInput(
            place: "main.cf", name: "missing-table",
            message: "postfix-tls-fix: error: no-such-table: hash:CONFIG/no-such-table: the table does not exist"),
        BadInput(
            place: "main.cf", name: "not-a-table",
            message: "postfix-tls-fix: error: main.cf, line 2: smtp_tls_policy_maps: \"policy\" is not a type:name table"),

        BadInput(place: "master.cf", name: "o-without-value", message: "master.cf, line 2: \"-o\" without a value in service relay/unix"),
        BadInput(place: "master.cf", name: "invalid-utf8-o-without-value", message: "master.cf, line 2: \"-o\" without a value in service r"),
        BadInput(
            place: "master.cf", name: "o-without-equals",
            message: "master.cf, line 2: \"-o smtp_tls_security_level\": missing '=' after parameter name"),
        BadInput(
            place: "master.cf", name: "unbalanced-brace-o", message: "master.cf, line 2: unbalanced '{' in \"{ smtp_tls_security_level = verify"),
        BadInput(
            place: "master.cf", name: "too-few-fields", message: "master.cf, line 2: bad field count: a service needs 8 fields, this line has 4"),
        BadInput(place: "master.cf", name: "nul-byte", message: "master.cf, line 2: NUL byte in master.cf"),
        BadInput(place: "master.cf", name: "binary-garbage", message: "master.cf, line 4: NUL byte in master.cf"),
    ]

    /// A file of `prefix`, a 10 MB line of `filler`, and a newline.
    static func tenMegabyteLine(after prefix: String, of filler: Character) -> BadInput.Setup {
        var bytes = Array(prefix.utf8)
        bytes += [UInt8](repeating: filler.asciiValue!, count: 10 << 20)
        bytes.append(0x0A)
        return .bytes(bytes)
    }

    static let longLines: [BadInput] = [
        BadInput(
            place: "policy", name: "10MB-line",
            setup: tenMegabyteLine(after: "good.example verify\nbig.example verify ", of: "x"),
            message: "postfix-tls-fix: error: policy, line 2: big.example: malformed attribute/value pair \"xxxxxxxx"),
        BadInput(
            place: "main.cf", name: "10MB-line",
            setup: tenMegabyteLine(after: "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/policy\n", of: "y"),
            message: "CONFIG/main.cf, line 3: missing '=' after attribute name: \"yyyyyyyy"),
    ]

    /// A directory, a dangling link and an unreadable file in each place.
    static func fileSystemCases(_ place: String) -> [BadInput] {
        let isIndex = place == "policy.db"
        return [
            BadInput(
                place: place, name: "directory", setup: .directory,
                message: isIndex ? indexMessage : place + ": cannot read: not a regular file"),
            BadInput(
                place: place, name: "dangling-symlink", setup: .danglingSymlink,
                message: isIndex
                    ? "policy.db: cannot resolve symbolic link CONFIG/policy.db: its target CONFIG/missing-policy.db does not exist; nothing written"
                    : place + ": cannot read: No such file or directory"),
            BadInput(
                place: place, name: "unreadable", setup: .unreadable,
                message: isIndex ? indexMessage : place + ": cannot read: Permission denied"),
        ]
    }

    static let generated: [BadInput] = longLines + ["main.cf", "master.cf", "policy", "policy.db"].flatMap(fileSystemCases)

    @Test func everyFixtureIsInTheCorpusAndThereAreAtLeastForty() throws {
        let root = fixturesDirectory + "/bad-input"
        var files: [String] = []
        for place in try FileManager.default.contentsOfDirectory(atPath: root) {
            files += try FileManager.default.contentsOfDirectory(atPath: root + "/" + place).map { place + "/" + $0 }
        }
        #expect(Set(files) == Set(Self.corpus.map(\.testDescription)))
        #expect(files.count >= 40)
    }

    @Test(arguments: corpus + generated)
    func applyRefusesWithAMessageNamingTheFileAndChangesNothing(_ input: BadInput) throws {
        let directory = try TestDirectory("ptf-bad", in: FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : "/tmp")
        let config = directory.file("postfix")
        try directory.write(
            "postfix/main.cf",
            "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/policy\n"
                + (input.mainCfExtra.isEmpty ? "" : input.mainCfExtra + "\n"))
        try directory.write(
            "postfix/master.cf",
            """
            smtp      inet  n       -       y       -       -       smtpd
            relay     unix  -       -       n       -       -       smtp

            """)
        // Fixable as it is (a verify entry without servername), so that
        // "nothing changed" means apply refused rather than had nothing to do.
        try directory.write("postfix/policy", "good.example verify\nother.example may\n")
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)

        let target = config + "/" + input.place
        try FileManager.default.removeItem(atPath: target)
        var asNobody = false
        switch input.setup {
        case .fixture:
            try FileManager.default.copyItem(atPath: fixturesDirectory + "/bad-input/\(input.place)/\(input.name)", toPath: target)
        case .bytes(let bytes):
            try directory.write("postfix/" + input.place, bytes)
        case .directory:
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        case .danglingSymlink:
            try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: "missing-" + input.place)
        case .unreadable:
            try directory.write("postfix/" + input.place, try readBytes(fixturesDirectory + "/../../Examples/seed/main.cf"), mode: 0)
            asNobody = geteuid() == 0
        }
        for path in try FileManager.default.contentsOfDirectory(atPath: config) { backdate(config + "/" + path) }

        try expectUnchanged(config) {
            var arguments = ["-c", config, "--postfix-version", "3.7.11", "apply"]
            if asNobody {
                arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", FixerBinary.path] + arguments
            }
            let result = asNobody ? try ExternalTool.run("/usr/bin/setpriv", arguments) : try FixerBinary.run(arguments)
            let output = result.outputText + result.errors
            #expect(result.status >= 2, "exit \(result.status): \(output.prefix(500))")
            let expected = input.message.replacingOccurrences(of: "CONFIG", with: config)
            #expect(output.contains(expected), "\(output.prefix(500))")
            #expect(output.utf8.count < 30 << 20)
        }
    }
}
