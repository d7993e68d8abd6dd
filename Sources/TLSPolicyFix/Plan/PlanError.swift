// PlanError.swift: why a plan cannot be carried out (or, for check and diff,
// why what they show could never be applied): the Postfix version, or
// errors in the configuration that must be fixed by hand first.

import PostconfModel
import PostfixTools

public enum PlanError: Error, Sendable, CustomStringConvertible {
    /// The Postfix version does not support servername.
    case postfixTooOld(PostfixVersion)
    /// The version is needed (to write) and cannot be learned.
    case postfixVersionUnknown(cause: PostfixToolError?)
    /// Apply refuses to write because of these findings (errors).
    case refusedBecauseOfErrors([Finding])

    public var description: String {
        switch self {
        case .postfixTooOld(let version):
            return "Postfix \(version) cannot send SNI: servername needs Postfix \(PostfixVersion.sniSupport) or later; nothing written"
        case .postfixVersionUnknown(let cause):
            return "cannot learn the Postfix version (\(cause?.description ?? "not given")); pass --postfix-version X.Y.Z; nothing written"
        case .refusedBecauseOfErrors(let findings):
            let count = findings.count
            return "\(count) error\(count == 1 ? "" : "s") above must be fixed by hand first; nothing written"
        }
    }
}
