// FixOptions.swift: the choices that change what a fix writes, and the
// events a long inspection reports while it works.

import FileSafety
import PostconfModel

/// Choices that change what a fix writes.
public struct FixOptions: Sendable {
    /// The servername keyword to add: "hostname" (the MX host name) or "nexthop".
    public var servername: String = "hostname"
    /// The Postfix version, when known; it decides which policy syntax is valid.
    public var postfixVersion: PostfixVersion?
    /// Also add servername to fingerprint entries.
    public var includeFingerprint = false
    /// Set <role>_tls_servername in main.cf, for every destination of the
    /// roles that need SNI somewhere (and for per-site MUST entries, which
    /// have no room for an attribute), instead of each entry's own.
    public var globalServername = false
    /// Tables the tool cannot edit that a person has checked (as main.cf
    /// names them, without proxy:): reported as notes, not as manual fixes.
    public var acknowledgedTables: Set<String> = []
    /// Postfix's built-in parameter defaults: the installed Postfix's when
    /// it is the one planned for, else the table shipped with the tool.
    public var parameterDefaults: PostfixDefaults = .shipped
    /// The longest wait for any lock (another apply, postconf's edit lock,
    /// an index someone holds): anyone who can read a file can hold a flock
    /// on it, and an unattended run must end with a message instead.
    public var lockTimeout: Duration = FileLock.defaultTimeout
    /// Told of the steps that take long on large tables (nil: nobody).
    public var progress: (@Sendable (ProgressEvent) -> Void)?

    public init(
        servername: String = "hostname", postfixVersion: PostfixVersion? = nil,
        includeFingerprint: Bool = false, globalServername: Bool = false
    ) {
        self.servername = servername
        self.postfixVersion = postfixVersion
        self.includeFingerprint = includeFingerprint
        self.globalServername = globalServername
    }
}

/// A step of a long inspection; the command line decides what to show.
public enum ProgressEvent: Sendable {
    /// A table was read (`entries` entries); its entries and index are checked next.
    case tableRead(display: String, entries: Int)
}
