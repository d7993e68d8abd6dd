// IndexErrorTests.swift: unreadable indexes give errors that name the file
// and say what is wrong with it.

import FileSafety
import Foundation
import HashMap
import PostfixTestSupport
import Testing

@Suite struct IndexErrorTests {
    @Test func wrongAccessMethodIsNamed() throws {
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        let source = try directory.write("policy", "a.example may\n")
        try postmap.build(.hash, source)
        let error = #expect(throws: HashMapError.self) {
            try IndexFile.readAll(path: source + ".db", method: .btree)
        }
        #expect(
            error?.description
                == "cannot read \(source).db as a btree database: it is a Berkeley DB hash database")

        try postmap.build(.btree, source)
        let reverse = #expect(throws: HashMapError.self) {
            try IndexFile.lookup(path: source + ".db", method: .hash, key: Array("a.example".utf8))
        }
        #expect(reverse?.description.contains("\(source).db") == true)
        #expect(reverse?.description.contains("it is a Berkeley DB btree database") == true)
    }

    @Test func textFileNamedDbIsRejected() throws {
        let directory = try TestDirectory()
        let path = try directory.write("policy.db", String(repeating: "example.com secure\n", count: 400))
        let error = #expect(throws: HashMapError.self) {
            try IndexFile.readAll(path: path, method: .hash)
        }
        let description = try #require(error?.description)
        #expect(description.hasPrefix("cannot open hash database \(path): Invalid argument"))
        #expect(description.contains("libdb: "))
    }

    /// libdb is given /proc/self/fd/N/NAME (the file, or its pinned
    /// directory): its diagnostics must still name the file.
    @Test func libdbDiagnosticsNameTheFileNotItsDescriptor() throws {
        let directory = try TestDirectory()
        let path = try directory.write("policy.db", String(repeating: "example.com secure\n", count: 400))
        let error = #expect(throws: HashMapError.self) {
            try IndexFile.readAll(path: path, method: .hash)
        }
        let description = try #require(error?.description)
        #expect(description.contains("libdb: "))
        #expect(!description.contains("/proc/self/fd"), "\(description)")
    }

    @Test(arguments: [8192, 5000])
    func truncatedIndexIsRejected(length: Int) throws {
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        let source = try directory.write("policy", PolicyFixture.standard(count: 1500).sourceText)
        try postmap.build(.hash, source)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source + ".db"))
        try handle.truncate(atOffset: UInt64(length))
        try handle.close()

        let error = #expect(throws: HashMapError.self) {
            try IndexFile.readAll(path: source + ".db", method: .hash)
        }
        let description = try #require(error?.description)
        #expect(description.contains("\(source).db"))
        if length % 4096 == 0 {
            // libdb itself reads the missing pages as empty: only our check sees it.
            #expect(description.contains("the file is truncated (8192 bytes"))
        } else {
            #expect(description.contains("Invalid argument"))
            #expect(description.contains("file size not a multiple of the pagesize"))
        }
    }

    @Test func missingIndexIsNamed() throws {
        let directory = try TestDirectory()
        let path = directory.file("absent.db")
        let error = #expect(throws: FileSafetyError.self) {
            try IndexFile.readAll(path: path, method: .hash)
        }
        #expect(error?.description == "cannot open \(path): No such file or directory")
    }
}
