// ReplacementVisibilityTests.swift: a running Postfix daemon notices a rebuilt
// index because the file it has open loses its last link (st_nlink == 0),
// which is what dict_changed_name checks before each request.

import FileSafety
import Foundation
import Glibc
import HashMap
import PostfixTestSupport
import Testing

@Suite struct ReplacementVisibilityTests {
    @Test(arguments: [IndexAccessMethod.hash, .btree])
    func openReaderSeesOldInodeUnlinked(method: IndexAccessMethod) throws {
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        let source = try directory.write("tls_policy", "a.example may\n")
        try postmap.build(method, source)
        let index = source + method.fileSuffix

        let reader = open(index, O_RDONLY | O_CLOEXEC)
        try #require(reader >= 0)
        defer { close(reader) }
        var before = stat()
        #expect(fstat(reader, &before) == 0)
        #expect(before.st_nlink == 1)

        try IndexWriter.rebuild(
            records: [IndexRecord(key: "a.example", value: "secure")], replacing: index,
            method: method, expectedCount: 1,
            metadataForNewFile: FileMetadata(mode: 0o644, uid: 0, gid: 0))

        var after = stat()
        #expect(fstat(reader, &after) == 0)
        #expect(after.st_nlink == 0)
        #expect(try postmap.query("a.example", method, source) == "secure")
    }
}
