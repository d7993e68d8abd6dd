// PathResolverDescriptorTests.swift: a run's resolution holds every
// directory it met open, for the whole run. Tables that are links into the
// same directory (a configuration kept elsewhere, linked in) must share its
// descriptor: one descriptor per link per directory on the way would run a
// configuration of a few hundred linked tables out of descriptors (the
// usual limit is 1024) before apply writes anything.

import Foundation
import Glibc
import PostfixTestSupport
import Testing

@testable import FileSafety

@Suite struct PathResolverDescriptorTests {
    func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    @Test func linksIntoOneDirectoryShareItsDescriptors() throws {
        let directory = try TestDirectory("ptf-resolver-fds")
        let count = 100
        for number in 1...count {
            try directory.write("store/deep/tables/t\(number)", "a\(number).example verify\n")
            try directory.write("config/placeholder", "")
            #expect(symlink(directory.file("store/deep/tables/t\(number)"), directory.file("config/t\(number)")) == 0)
        }
        let resolver = PathResolver(root: nil)
        let before = try openDescriptors()
        var resolved: [ResolvedPath] = []
        for number in 1...count {
            resolved.append(try resolver.resolve(directory.file("config/t\(number)")))
        }
        let grown = try openDescriptors() - before
        // The directories from / to config and to tables, each once.
        let depth = directory.file("store/deep/tables").split(separator: "/").count
        #expect(grown <= 2 * depth + 2, "\(count) linked tables took \(grown) descriptors")
        #expect(Set(resolved.map(\.directory.path)).count == 1)
        #expect(Set(resolved.map { ObjectIdentifier($0.directory) }).count == 1, "one pinned directory for one directory")
    }
}
