// swift-tools-version: 6.1
// postfix-tls-fix: repairs Postfix TLS client policy so that verified TLS
// delivery sends SNI (servername=hostname) where servers choose their
// certificate by it.

import PackageDescription

let package = Package(
    name: "postfix-tls-fix",
    products: [
        .executable(name: "postfix-tls-fix", targets: ["postfix-tls-fix"]),
        .library(name: "TLSPolicyFix", targets: ["TLSPolicyFix"]),
    ],
    dependencies: [
        // Command-line parsing, help, man page and shell completions.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Typed file descriptors, paths and errno for the low-level file work.
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // Berkeley DB's C API (libdb-dev), the library postmap itself uses
        // for hash: and btree: tables.
        .systemLibrary(
            name: "CLibDB",
            path: "Sources/CLibDB",
            providers: [.apt(["libdb-dev"])]
        ),
        // statx(2) attributes (mount point, immutable, append-only), which
        // Swift's Glibc module does not declare.
        .systemLibrary(name: "CFileAttributes", path: "Sources/CFileAttributes"),
        // Atomic replacement of files and the locks that serialize writers.
        .target(
            name: "FileSafety",
            dependencies: ["CFileAttributes", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // ICU's C API (libicu-dev), the library Postfix's casefold() folds
        // UTF-8 table keys with; only libicuuc is linked.
        .systemLibrary(
            name: "CICU",
            path: "Sources/CICU",
            providers: [.apt(["libicu-dev"])]
        ),
        // Table keys folded as Postfix folds them (casefold.c): ICU full
        // case folding with smtputf8_enable = yes, ASCII otherwise.
        .target(name: "KeyFolding", dependencies: ["CICU"]),
        // Lossless models of main.cf, master.cf and policy table sources.
        .target(name: "PostconfModel", dependencies: ["KeyFolding"]),
        // Berkeley DB hash:/btree: index files, postmap-compatible.
        .target(
            name: "HashMap",
            dependencies: ["CLibDB", "FileSafety", "KeyFolding"]
        ),
        // Postfix's own programs (postconf, postmap, postfix, posttls-finger):
        // found, run with bounded pipes, and their output read.
        .target(name: "PostfixTools", dependencies: ["PostconfModel"]),
        // The fixing logic as a pipeline: load, inspect, plan, render, apply,
        // report (docs/architecture.md).
        .target(
            name: "TLSPolicyFix",
            dependencies: ["PostconfModel", "HashMap", "FileSafety", "PostfixTools"]
        ),
        // What a person at a terminal sees: colour for findings and a
        // streaming colourer for diffs (NO_COLOR, --color).
        .target(name: "TerminalOutput", dependencies: ["TLSPolicyFix"]),
        // Thin command-line front end.
        .executableTarget(
            name: "postfix-tls-fix",
            dependencies: [
                "TLSPolicyFix",
                "FileSafety",
                "PostfixTools",
                "TerminalOutput",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Scratch directories and runners for the real Postfix tools, shared
        // by the test targets.
        .target(name: "PostfixTestSupport", path: "Tests/PostfixTestSupport"),
        .testTarget(name: "PostconfModelTests", dependencies: ["PostconfModel", "PostfixTestSupport"]),
        .testTarget(name: "FileSafetyTests", dependencies: ["FileSafety", "PostfixTestSupport"]),
        .testTarget(name: "HashMapTests", dependencies: ["HashMap", "FileSafety", "PostconfModel", "KeyFolding", "PostfixTestSupport"]),
        .testTarget(
            name: "TLSPolicyFixTests",
            dependencies: ["TLSPolicyFix", "PostfixTools", "TerminalOutput", "PostconfModel", "HashMap", "PostfixTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
