// swift-tools-version: 6.1
// Fuzz/Package.swift: the libFuzzer target for the configuration parsers
// (LogicalLines' ConfigText, TableSource, MainCf, MasterCf). A package of
// its own so that the fuzzer and sanitizer flags never reach the main
// build. Sources/PostconfModel (and KeyFolding, CICU) link to the main package's sources, so
// the parsers are built here with coverage instrumentation. Build and run:
//
//   cd Fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address \
//       --scratch-path .build
//   .build/release/ParserFuzzer -max_total_time=600 CORPUS_DIR ../Tests/Fixtures/fuzz-corpus
//
// `make test` replays Tests/Fixtures/fuzz-corpus through the same checks
// (Tests/PostconfModelTests/FuzzCorpusReplayTests.swift).

import PackageDescription

let package = Package(
    name: "postfix-tls-fix-fuzz",
    targets: [
        // Key folding (ICU through CICU), which TableSource uses; links
        // to the main package's, like PostconfModel.
        .systemLibrary(name: "CICU", path: "Sources/CICU", providers: [.apt(["libicu-dev"])]),
        .target(name: "KeyFolding", dependencies: ["CICU"]),
        .target(name: "PostconfModel", dependencies: ["KeyFolding"]),
        .executableTarget(
            name: "ParserFuzzer",
            dependencies: ["PostconfModel"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
