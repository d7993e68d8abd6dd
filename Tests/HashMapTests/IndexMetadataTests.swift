// IndexMetadataTests.swift: owner and mode of rebuilt and new indexes, and
// symbolic links to an index, compared with what postmap does.

import FileSafety
import Foundation
import Glibc
import HashMap
import Testing

@Suite struct IndexMetadataTests {
    let rootMetadata = FileMetadata(mode: 0o644, uid: 0, gid: 0)

    @Test func rebuiltIndexKeepsModeAndOwner() throws {
        let directory = try TemporaryDirectory()
        let index = directory.file("tls_policy.db")
        try IndexWriter.rebuild(
            records: [IndexRecord(key: "old.example", value: "may")], replacing: index,
            method: .hash, expectedCount: 1, metadataForNewFile: rootMetadata)
        #expect(chown(index, 1234, 2345) == 0)
        #expect(chmod(index, 0o640) == 0)
        let before = try #require(fileStatus(index))

        try IndexWriter.rebuild(
            records: [IndexRecord(key: "new.example", value: "secure")], replacing: index,
            method: .hash, expectedCount: 1, metadataForNewFile: rootMetadata)

        let after = try #require(fileStatus(index))
        #expect(after.st_mode & 0o7777 == 0o640)
        #expect(after.st_uid == 1234 && after.st_gid == 2345)
        #expect(after.st_ino != before.st_ino)
        #expect(try FileMetadata.of(path: index) == FileMetadata(mode: 0o640, uid: 1234, gid: 2345))
        #expect(try IndexFile.readAll(path: index, method: .hash)
                == [IndexRecord(key: "new.example", value: "secure")])
    }

    /// A new index gets the metadata postmap gives it: postmap runs on a
    /// source with that mode and owner, and so do we.
    @Test(arguments: [
        (mode: UInt32(0o600), uid: UInt32(0), gid: UInt32(0)),
        (mode: 0o640, uid: 0, gid: 0),
        (mode: 0o644, uid: 0, gid: 0),
        (mode: 0o640, uid: 1234, gid: 2345),
    ])
    func newIndexFollowsPostmap(source: (mode: UInt32, uid: UInt32, gid: UInt32)) throws {
        let directory = try TemporaryDirectory()
        let postmap = try PostmapTool(in: directory)
        // postmap switches to the source's owner, who must be able to create
        // the index in the directory.
        let theirs = try directory.makeDirectory("postmap", mode: 0o777)
        let ours = try directory.makeDirectory("ours")
        for sourcePath in ["\(theirs)/policy", "\(ours)/policy"] {
            try writeFile(sourcePath, "a.example may\n", mode: mode_t(source.mode))
            #expect(chown(sourcePath, source.uid, source.gid) == 0)
        }
        try postmap.build(.hash, "\(theirs)/policy")
        let postmapResult = try FileMetadata.of(path: "\(theirs)/policy.db")

        let computed = IndexWriter.postmapNewIndexMetadata(
            source: try FileMetadata.of(path: "\(ours)/policy"))
        #expect(computed == postmapResult)
        #expect(computed.mode == source.mode)
        try IndexWriter.rebuild(
            records: [IndexRecord(key: "a.example", value: "may")], replacing: "\(ours)/policy.db",
            method: .hash, expectedCount: 1, metadataForNewFile: computed)
        #expect(try FileMetadata.of(path: "\(ours)/policy.db") == postmapResult)
    }

    @Test func symlinkedIndexIsUpdatedAtItsTarget() throws {
        let directory = try TemporaryDirectory()
        let postmap = try PostmapTool(in: directory)
        let real = try directory.makeDirectory("real")
        let maps = try directory.makeDirectory("maps")
        try writeFile("\(real)/policy", "old.example may\n", mode: 0o640)
        try postmap.build(.hash, "\(real)/policy")
        #expect(symlink("../real/policy.db", "\(maps)/policy.db") == 0)

        try IndexWriter.rebuild(
            records: [IndexRecord(key: "New.Example", value: "secure")],
            replacing: "\(maps)/policy.db", method: .hash, expectedCount: 1,
            metadataForNewFile: rootMetadata)

        let link = try #require(fileStatus("\(maps)/policy.db", followLinks: false))
        #expect(link.st_mode & S_IFMT == S_IFLNK)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(maps)/policy.db")
                == "../real/policy.db")
        #expect(try postmap.dump(.hash, "\(real)/policy") == [IndexRecord(key: "new.example", value: "secure")])
        #expect(try IndexFile.readAll(path: "\(maps)/policy.db", method: .hash)
                == [IndexRecord(key: "new.example", value: "secure")])
        // postmap created it 0640 from the 0640 source; the rebuild kept that.
        #expect(try FileMetadata.of(path: "\(real)/policy.db").mode == 0o640)
        #expect(try entries(of: real) == ["policy", "policy.db"])
        #expect(try entries(of: maps) == ["policy.db"])
    }
}
