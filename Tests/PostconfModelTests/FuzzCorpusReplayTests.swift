// FuzzCorpusReplayTests.swift: replays the corpus the libFuzzer target grew
// (Tests/Fixtures/fuzz-corpus/corpus, minimized with -merge=1) and the
// crashes it found (Tests/Fixtures/fuzz-corpus/crashers) through the parser
// properties of ParserRoundTrip.swift (a link to the fuzzer's own file, so
// both check exactly the same). See Fuzz/Package.swift to fuzz again.

import Foundation
import PostconfModel
import PostfixTestSupport
import Testing

struct FuzzCorpusReplayTests {
    static let root = fixturesDirectory + "/fuzz-corpus"

    static func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)) ?? []).sorted().map { folder + "/" + $0 }
    }

    @Test func theCorpusHoldsEveryParserProperty() throws {
        let inputs = Self.files("corpus")
        #expect(inputs.count >= 100, "the corpus has only \(inputs.count) inputs")
        for name in inputs {
            let failures = ParserRoundTrip.failures(try readBytes(Self.root + "/" + name))
            #expect(failures.isEmpty, "\(name): \(failures)")
        }
    }

    /// Inputs on which the fuzzer found a property violated. They stay here
    /// as regression fixtures. They were one bug: MasterCf grouped "{...}"
    /// in the eight service fields, which master(8) splits on blanks alone.
    @Test(arguments: files("crashers"))
    func crashersAreRegressionFixtures(_ name: String) throws {
        let bytes = try readBytes(Self.root + "/" + name)
        let failures = ParserRoundTrip.failures(bytes)
        #expect(failures.isEmpty, "\(name): \(failures)")
    }
}
