// PostfixToolError.swift: why one of Postfix's own programs could not be
// run, or what it said when it failed. Each case keeps what an admin needs
// to act on: the program, and its own words or the system's.

import Glibc

public enum PostfixToolError: Error, Sendable, CustomStringConvertible {
    /// The program is not installed where Postfix puts its programs.
    case notFound(program: String, searched: [String])
    /// A system call needed to run it failed (`operation` names it, with
    /// the program's path), with errno.
    case systemCallFailed(operation: String, errno: Int32)
    /// The program ran and failed: `command` as run, its exit status and
    /// its standard error.
    case failed(command: String, status: Int32, errors: String)
    /// The program answered something the tool cannot use.
    case unexpectedOutput(command: String, output: String, status: Int32)
    /// What the program built is not what it was asked to build.
    case wrongResult(String)
    /// The program was still running after `limit` (`command` as run) and
    /// was killed.
    case timedOut(command: String, limit: Duration)

    public var description: String {
        switch self {
        case .notFound(let program, let searched):
            return "\(program) not found in \(searched.joined(separator: ", "))"
        case .systemCallFailed(let operation, let code):
            return "\(operation): \(String(cString: strerror(code)))"
        case .failed(let command, let status, let errors):
            return "\(command): " + (errors.isEmpty ? "exit status \(status)" : errors)
        case .unexpectedOutput(let command, let output, let status):
            return "\(command) printed \"\(output)\" and exited \(status)"
        case .wrongResult(let what):
            return what
        case .timedOut(let command, let limit):
            return "\(command): still running after \(limit.components.seconds) s; stopped it"
        }
    }
}
