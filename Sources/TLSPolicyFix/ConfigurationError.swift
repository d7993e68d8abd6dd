// ConfigurationError.swift: why a configuration cannot be inspected or
// fixed at all. Each case names the file (and line) and what is wrong.

import PostconfModel

public enum ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// A file that cannot be read.
    case unreadable(path: String, reason: String)
    /// A file Postfix itself would refuse (e.g. main.cf without '=').
    case invalid(ConfigFileError)
    /// The Postfix version does not support what a fix needs.
    case postfixTooOld(PostfixVersion)
    /// The version is needed (to write) and cannot be learned.
    case postfixVersionUnknown(reason: String)
    /// Apply refused to write because of these findings (errors).
    case refusedBecauseOfErrors([Finding])
    /// The files were written, but `postfix reload` failed.
    case reloadFailed(reason: String)
    /// Writing failed; nothing was replaced.
    case writeFailed(path: String, reason: String)
    /// Apply refused to write this file (see WritePolicy); nothing was written.
    case refused(path: String, reason: String)
    /// Apply stopped after replacing some files; the journal lets the next
    /// apply complete the change.
    case applyInterrupted(reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .invalid(let error):
            return error.description
        case .postfixTooOld(let version):
            return "Postfix \(version) cannot send SNI: servername needs Postfix \(PostfixVersion.sniSupport) or later; nothing written"
        case .postfixVersionUnknown(let reason):
            return "cannot learn the Postfix version (\(reason)); pass --postfix-version X.Y.Z; nothing written"
        case .refusedBecauseOfErrors(let findings):
            let count = findings.count
            return "\(count) error\(count == 1 ? "" : "s") above must be fixed by hand first; nothing written"
        case .reloadFailed(let reason):
            return "the fix is written, but Postfix was not reloaded: \(reason); run `postfix reload` by hand"
        case .writeFailed(let path, let reason):
            return "\(path): \(reason); nothing replaced"
        case .refused(let path, let reason):
            return "\(path): \(reason); nothing written"
        case .applyInterrupted(let reason):
            return "apply interrupted: \(reason); run apply again to complete it"
        }
    }
}
