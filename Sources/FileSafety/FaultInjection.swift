// FaultInjection.swift: named points along the write path at which a test
// build can kill its own process with SIGKILL, so the crash-safety tests can
// prove that a crash at any step leaves a configuration Postfix can use.
//
// The hook exists only in DEBUG builds (`swift build` and `make test`); a
// release build (`make install`) compiles point() to nothing and never reads
// the environment, so nothing a user sets can trigger it there. In a DEBUG
// build it reads these environment variables once:
//   POSTFIX_TLS_FIX_TEST_KILL_AT=N     SIGKILL at the Nth point reached
//   POSTFIX_TLS_FIX_TEST_STOP_AT=NAME  SIGSTOP at the first point named NAME
//                                      (a test then acts, e.g. fills the disk
//                                      or runs postconf, and sends SIGCONT);
//                                      NAME#K stops at its Kth occurrence
//   POSTFIX_TLS_FIX_TEST_TRACE=PATH    append "N name" per point reached to PATH

#if DEBUG
import Glibc
import Synchronization

public enum FaultInjection {
    private static let killAt: Int? = environment("POSTFIX_TLS_FIX_TEST_KILL_AT").flatMap { Int($0) }
    private static let stopAt: (name: String, occurrence: Int)? = environment("POSTFIX_TLS_FIX_TEST_STOP_AT").map { value in
        guard let hash = value.lastIndex(of: "#"), let occurrence = Int(value[value.index(after: hash)...]) else { return (value, 1) }
        return (String(value[..<hash]), occurrence)
    }
    private static let stopPointsSeen = Atomic<Int>(0)
    private static let tracePath: String? = environment("POSTFIX_TLS_FIX_TEST_TRACE")
    private static let reached = Atomic<Int>(0)
    private static let stopped = Atomic<Bool>(false)

    /// Marks that the process has reached the step `name`.
    public static func point(_ name: StaticString) {
        guard killAt != nil || tracePath != nil || stopAt != nil else { return }
        if let stopAt, "\(name)" == stopAt.name,
            stopPointsSeen.add(1, ordering: .sequentiallyConsistent).newValue == stopAt.occurrence,
            !stopped.exchange(true, ordering: .sequentiallyConsistent)
        {
            raise(SIGSTOP)
        }
        let number = reached.add(1, ordering: .sequentiallyConsistent).newValue
        if let tracePath {
            let fd = open(tracePath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            if fd >= 0 {
                let line = Array("\(number) \(name)\n".utf8)
                _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
        }
        if number == killAt { raise(SIGKILL) }
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
#else
public enum FaultInjection {
    /// Release builds: no fault injection.
    @inlinable @inline(__always)
    public static func point(_ name: StaticString) {}
}
#endif
