// IndexMetadataTests.swift: owner and mode of rebuilt and new indexes, and
// symbolic links to an index, compared with what postmap does.

import FileSafety
import Foundation
import Glibc
import HashMap
import PostfixTestSupport
import Testing

@Suite struct IndexMetadataTests {
    let rootMetadata = FileMetadata(mode: 0o644, uid: 0, gid: 0)

    @Test func rebuiltIndexKeepsModeAndOwner() throws {
        let directory = try TestDirectory()
        let index = directory.file("tls_policy.db")
        try IndexWriter.rebuild(
            records: [IndexRecord(key: "old.example", value: "may")], replacing: index,
            method: .hash, expectedCount: 1, metadataForNewFile: rootMetadata)
        #expect(chown(index, 1234, 2345) == 0)
        #expect(chmod(index, 0o640) == 0)
        let before = try FileStamp(index)

        try IndexWriter.rebuild(
            records: [IndexRecord(key: "new.example", value: "secure")], replacing: index,
            method: .hash, expectedCount: 1, metadataForNewFile: rootMetadata)

        let after = try FileStamp(index)
        #expect(after.mode & 0o7777 == 0o640)
        #expect(after.uid == 1234 && after.gid == 2345)
        #expect(after.inode != before.inode)
        #expect(try FileMetadata.of(path: index) == FileMetadata(mode: 0o640, uid: 1234, gid: 2345))
        #expect(
            try IndexFile.readAll(path: index, method: .hash)
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
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        // postmap switches to the source's owner, who must be able to create
        // the index in the directory.
        let theirs = try directory.makeDirectory("postmap", mode: 0o777)
        let ours = try directory.makeDirectory("ours")
        for name in ["postmap/policy", "ours/policy"] {
            let sourcePath = try directory.write(name, "a.example may\n", mode: mode_t(source.mode))
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
        let directory = try TestDirectory()
        let postmap = try PostmapTool(in: directory)
        let real = try directory.makeDirectory("real")
        let maps = try directory.makeDirectory("maps")
        try directory.write("real/policy", "old.example may\n", mode: 0o640)
        try postmap.build(.hash, "\(real)/policy")
        #expect(symlink("../real/policy.db", "\(maps)/policy.db") == 0)

        try IndexWriter.rebuild(
            records: [IndexRecord(key: "New.Example", value: "secure")],
            replacing: "\(maps)/policy.db", method: .hash, expectedCount: 1,
            metadataForNewFile: rootMetadata)

        let link = try FileStamp("\(maps)/policy.db")
        #expect(link.mode & S_IFMT == S_IFLNK)
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: "\(maps)/policy.db")
                == "../real/policy.db")
        #expect(try postmap.dump(.hash, "\(real)/policy") == [IndexRecord(key: "new.example", value: "secure")])
        #expect(
            try IndexFile.readAll(path: "\(maps)/policy.db", method: .hash)
                == [IndexRecord(key: "new.example", value: "secure")])
        // postmap created it 0640 from the 0640 source; the rebuild kept that.
        #expect(try FileMetadata.of(path: "\(real)/policy.db").mode == 0o640)
        #expect(try directoryEntries(real) == ["policy", "policy.db"])
        #expect(try directoryEntries(maps) == ["policy.db"])
    }
}
