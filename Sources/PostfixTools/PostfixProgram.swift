// PostfixProgram.swift: the one way the tool runs Postfix's own programs
// (postconf, postmap, postfix, posttls-finger): found where Postfix installs
// them, started with posix_spawn, fed standard input and drained of standard
// output and error together in one poll loop (so no pipe can fill up and
// block), and waited for with waitpid. Foundation's Process waits in a run
// loop that polls in 50-100 ms steps, which every run of the tool paid.
//
// No run waits without bound: a program still running at its time limit
// (a postmap -q waiting for an index lock any local user can hold, a
// postqueue whose showq never answers) is killed and reported (timedOut),
// and a program that has exited is done even when a child of its own keeps
// its output open.

import FoundationEssentials
import Glibc

public enum PostfixProgram {
    /// Where Postfix installs its programs (Debian's postfix package, a
    /// source build, and RPM's libexec for posttls-finger).
    public static let directories = ["/usr/sbin", "/usr/local/sbin", "/usr/libexec/postfix"]

    public typealias Failure = PostfixToolError

    /// How long a program may run unless the caller says otherwise: far
    /// more than postconf, postmap -q, postqueue or postfix reload take, and
    /// short enough that a package hook fails with a message instead of
    /// hanging an upgrade.
    public static let defaultTimeout: Duration = .seconds(120)

    public struct Result: Sendable {
        /// The exit status; -1 when a signal ended the program.
        public var status: Int32
        public var output: [UInt8]
        /// Standard error (empty when merged into `output`).
        public var errors: [UInt8]

        public var errorText: String { Self.trimmed(errors) }

        /// Program output as text, without the white space around it.
        public static func trimmed(_ bytes: [UInt8]) -> String {
            let text = String(decoding: bytes, as: UTF8.self)
            return String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        }
    }

    /// The program's path, or nil when it is not installed.
    public static func path(of name: String) -> String? {
        directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `program` (a name looked up in `directories`, or a path with a
    /// "/") with `arguments`, writing `input` to its standard input.
    /// `environment` entries are added to (or, when nil, removed from) this
    /// process's.
    /// With `mergeErrors`, standard error goes to `output` in the order
    /// written. Throws when the program cannot be found or started, and
    /// (timedOut) when it still runs after `timeout`: it is then killed.
    public static func run(
        _ program: String, _ arguments: [String], input: [UInt8] = [],
        environment changes: [String: String?] = [:], mergeErrors: Bool = false, timeout: Duration = defaultTimeout
    ) throws(Failure) -> Result {
        guard let path = program.contains("/") ? program : path(of: program) else {
            throw .notFound(program: program, searched: directories)
        }
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            let code = errno
            for fd in stdinPipe + stdoutPipe + stderrPipe where fd >= 0 { close(fd) }
            throw .systemCallFailed(operation: "cannot create a pipe for \(path)", errno: code)
        }
        let pid: pid_t
        do {
            pid = try spawn(path, arguments, changes, stdin: stdinPipe, stdout: stdoutPipe, stderr: stderrPipe, mergeErrors: mergeErrors)
        } catch {
            throw .systemCallFailed(operation: "cannot run \(path)", errno: error.code)
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let exchanged = exchange(
            input: input, stdin: stdinPipe[1], stdout: stdoutPipe[0], stderr: mergeErrors ? nil : stderrPipe[0], pid: pid, deadline: deadline)
        var status = exchanged.status
        if status == nil {
            do {
                status = try waitForExit(pid, until: deadline)
            } catch {
                throw .systemCallFailed(operation: "waitpid \(path)", errno: error.code)
            }
        }
        guard let status else {
            stop(pid)
            throw .timedOut(command: ([path] + arguments).joined(separator: " "), limit: timeout)
        }
        let exited = status & 0x7F == 0
        return Result(status: exited ? (status >> 8) & 0xFF : -1, output: exchanged.output, errors: exchanged.errors)
    }

    private struct WaitError: Error { let code: Int32 }

    /// The program's wait status if it has exited (and is now reaped), nil
    /// while it runs.
    private static func exitStatus(_ pid: pid_t) throws(WaitError) -> Int32? {
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { return status }
            if reaped == 0 { return nil }
            guard errno == EINTR else { throw WaitError(code: errno) }
        }
    }

    /// The program's wait status once it exits, nil if it still runs at `deadline`.
    private static func waitForExit(_ pid: pid_t, until deadline: ContinuousClock.Instant) throws(WaitError) -> Int32? {
        var pause = Duration.milliseconds(1)
        while true {
            if let status = try exitStatus(pid) { return status }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            nap(min(pause, left))
            pause = min(pause * 2, .milliseconds(50))
        }
    }

    /// Kills a program past its time limit, and reaps it: a killed process
    /// exits at once, unless the kernel holds it in an uninterruptible wait
    /// (a dead NFS server); then it is left, not waited for without bound.
    private static func stop(_ pid: pid_t) {
        kill(pid, SIGKILL)
        _ = try? waitForExit(pid, until: ContinuousClock.now.advanced(by: .seconds(5)))
    }

    private static func nap(_ duration: Duration) {
        var time = timespec(tv_sec: Int(duration.components.seconds), tv_nsec: Int(duration.components.attoseconds / 1_000_000_000))
        var left = timespec()
        while nanosleep(&time, &left) < 0 && errno == EINTR { time = left }
    }

    /// A duration as poll(2)'s milliseconds, at least 1.
    private static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }

    private struct SpawnError: Error { let code: Int32 }

    /// Starts the program with the pipes' ends as its standard streams and
    /// closes those ends here (and, when spawning fails, the other ends too).
    private static func spawn(
        _ path: String, _ arguments: [String], _ changes: [String: String?],
        stdin stdinPipe: [Int32], stdout stdoutPipe: [Int32], stderr stderrPipe: [Int32], mergeErrors: Bool
    ) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, mergeErrors ? stdoutPipe[1] : stderrPipe[1], 2)
        for fd in stdinPipe + stdoutPipe + stderrPipe { posix_spawn_file_actions_addclose(&actions, fd) }

        var environment = ProcessInfo.processInfo.environment
        for (name, value) in changes { environment[name] = value }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        if mergeErrors { close(stderrPipe[0]) }
        guard spawned == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            if !mergeErrors { close(stderrPipe[0]) }
            throw SpawnError(code: spawned)
        }

        return pid
    }

    /// Writes `input` to the program and reads its output and errors, in
    /// one poll loop so that no pipe can fill up and block, until the pipes
    /// close, the program exits (status: its wait status, reaped; the pipes
    /// may stay open in a child of its own) or `deadline` passes; closes
    /// the descriptors. `stderr` nil: merged into the output.
    private static func exchange(
        input: [UInt8], stdin: Int32, stdout: Int32, stderr: Int32?, pid: pid_t, deadline: ContinuousClock.Instant
    ) -> (output: [UInt8], errors: [UInt8], status: Int32?) {
        var output: [UInt8] = []
        var errors: [UInt8] = []
        var status: Int32?
        var writeFD = stdin
        var readFDs = [stdout] + (stderr.map { [$0] } ?? [])
        var written = 0
        if input.isEmpty { close(writeFD); writeFD = -1 } else { _ = fcntl(writeFD, F_SETFL, O_NONBLOCK) }
        for fd in readFDs { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var chunk = [UInt8](repeating: 0, count: 65536)
        /// Reads what `fd` holds now, without waiting: .data, .empty for now, or .end.
        func readAvailable(_ fd: Int32) -> ReadOutcome {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                if fd == stdout { output += chunk[0..<count] } else { errors += chunk[0..<count] }
                return .data
            }
            return count < 0 && (errno == EINTR || errno == EAGAIN) ? .empty : .end
        }
        while writeFD >= 0 || !readFDs.isEmpty {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            var fds = readFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if writeFD >= 0 { fds.append(pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0)) }
            // In slices: a program that has exited is noticed even while a
            // child of its own keeps the pipes open.
            let ready = poll(&fds, nfds_t(fds.count), milliseconds(min(left, .milliseconds(100))))
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if ready == 0 {
                guard let exited = try? exitStatus(pid) else { continue }
                status = exited
                for fd in readFDs { while readAvailable(fd) == .data && ContinuousClock.now < deadline {} }
                break
            }
            for entry in fds where entry.revents != 0 {
                if entry.fd == writeFD {
                    let count = input.withUnsafeBytes { writeWithoutSIGPIPE(writeFD, $0.baseAddress! + written, $0.count - written) }
                    if count > 0 { written += count }
                    if written == input.count || (count < 0 && errno != EAGAIN && errno != EINTR) {
                        close(writeFD)  // all written, or the program stopped reading
                        writeFD = -1
                    }
                    continue
                }
                if readAvailable(entry.fd) == .end {
                    close(entry.fd)
                    readFDs.removeAll { $0 == entry.fd }
                }
            }
        }
        if writeFD >= 0 { close(writeFD) }
        for fd in readFDs { close(fd) }
        return (output, errors, status)
    }

    private enum ReadOutcome { case data, empty, end }

    /// write(2) to a pipe whose reader may have exited, as an error (EPIPE)
    /// rather than a SIGPIPE that ends this process. The signal is blocked
    /// for this thread only and a pending one taken back, so that the
    /// library changes no process-wide state (the executable's main decides
    /// what SIGPIPE does to it).
    private static func writeWithoutSIGPIPE(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        let written = write(fd, buffer, count)
        let writeError = errno
        if written < 0 && writeError == EPIPE && sigismember(&previous, SIGPIPE) == 0 {
            var none = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&pipeSignal, nil, &none)
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        errno = writeError
        return written
    }
}
