// TestEnvironment.swift: when a test that needs something of the machine
// (root, a tool, a file system feature) may skip. Outside CI it may; under
// CI (the environment variable CI is set, as every CI service sets it) it
// must run, and then fails where the machine lacks what it needs.

import Foundation

public enum TestEnvironment {
    /// Whether this run is CI's.
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false
    }

    /// Whether a test that needs `available` runs: when it is available,
    /// and always under CI.
    public static func runs(needing available: Bool) -> Bool {
        available || isCI
    }
}
