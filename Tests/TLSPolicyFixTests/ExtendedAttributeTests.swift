// ExtendedAttributeTests.swift: a file apply replaces keeps its POSIX ACL and
// its extended attributes, as it does when postmap rebuilds an index in
// place (same inode) or postconf -e rewrites main.cf: a user granted read by
// an ACL must not lose it because the tool renamed a new file over the old.
// getfacl and getfattr (packages acl and attr) are the judges.

import Foundation
import PostfixTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ExtendedAttributeTests {
    static let tools = ["/usr/bin/setfacl", "/usr/bin/getfacl", "/usr/bin/setfattr", "/usr/bin/getfattr"]
    static var toolsInstalled: Bool { tools.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) } }
    static let files = ["main.cf", "policy", "policy.db"]

    /// Every extended attribute of `path` (the ACL included), as getfattr dumps them.
    static func attributes(_ path: String) throws -> String {
        let dump = try ExternalTool.run("/usr/bin/getfattr", ["--absolute-names", "-d", "-m", "-", "-e", "hex", path])
        #expect(dump.status == 0, "\(dump.errors)")
        return dump.outputText.split(separator: "\n").filter { !$0.hasPrefix("# file:") }.joined(separator: "\n")
    }

    func inode(_ path: String) -> ino_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_ino : 0
    }

    @Test(.enabled(if: TestEnvironment.runs(needing: toolsInstalled), "needs setfacl/getfacl (acl) and setfattr/getfattr (attr)"))
    func aclsAndExtendedAttributesSurviveApply() throws {
        let directory = try TestDirectory("ptf-xattr")
        let config = directory.file("postfix")
        try directory.write(
            "postfix/main.cf",
            "compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:$config_directory/policy\n"
                + "lmtp_tls_security_level = verify\n", mode: 0o640)
        try directory.write("postfix/policy", "good.example verify\nother.example may\n", mode: 0o640)
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        var before: [String: String] = [:]
        var inodes: [String: ino_t] = [:]
        for name in Self.files {
            let path = config + "/" + name
            #expect(chmod(path, 0o640) == 0)
            #expect(try ExternalTool.run("/usr/bin/setfacl", ["-m", "u:nobody:r", path]).status == 0)
            let set = try ExternalTool.run("/usr/bin/setfattr", ["-n", "user.ptf-test", "-v", "kept-\(name)", path])
            #expect(set.status == 0, "\(set.errors)")
            backdate(path)
            before[name] = try Self.attributes(path)
            inodes[name] = inode(path)
            #expect(before[name]!.contains("system.posix_acl_access="), "\(before[name]!)")
            #expect(before[name]!.contains("user.ptf-test="), "\(before[name]!)")
        }

        let result = try FixerBinary.run(["-c", config, "--postfix-version", "3.7.11", "apply", "--backup"], within: 60)
        #expect(result.status == 0, "\(result.errors)")
        for name in Self.files {
            let path = config + "/" + name
            #expect(inode(path) != inodes[name], "\(name) was not replaced, so this test proves nothing")
            #expect(try Self.attributes(path) == before[name], "\(name) lost its ACL or attributes")
            #expect(try Self.attributes(path + ".bak") == before[name], "\(name).bak lost its ACL or attributes")
        }
        // The user the ACL names can still read what Postfix reads.
        if geteuid() == 0 {
            let read = try ExternalTool.run(
                "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/cat", config + "/main.cf"])
            #expect(read.status == 0 && read.outputText.contains("lmtp_tls_servername = hostname"), "\(read.errors)")
        }
        // postmap, rebuilding in place, keeps them too: the ground truth.
        #expect(try ExternalTool.postmap(["hash:\(config)/policy"], configDirectory: config).status == 0)
        #expect(try Self.attributes(config + "/policy.db") == before["policy.db"])
    }
}
