// MailLog.swift: recent certificate failures from a mail log (Debian's
// /var/log/mail.log, or Postfix's own maillog_file), for mail that is no
// longer queued. The delivery agents log one line per recipient and
// attempt (src/global/log_adhoc.c):
//   ... postfix/smtp[PID]: QUEUEID: to=<ADDR>, [orig_to=<ADDR>, ]relay=..., ..., status=deferred (REASON)
// A later line for the same message and recipient with another status
// (sent, bounced, expired) means it is no longer waiting.

// Read here rather than through FileSafety's FileReader, which reads files
// whole: a log is read from its end, and only so far.
import Glibc

/// One recipient a delivery agent logged as deferred, and has not logged
/// otherwise since.
public struct LoggedDeferral: Sendable, Equatable {
    public var queueID: String
    public var recipient: String
    public var reason: String

    public init(queueID: String, recipient: String, reason: String) {
        self.queueID = queueID
        self.recipient = recipient
        self.reason = reason
    }
}

public enum MailLog {
    /// How much of the end of a log is read: the recent part, bounded so
    /// that a log of gigabytes costs no more than this.
    public static let tailBytes = 32 << 20

    /// The recipients still deferred at the end of `text` (lines in time order).
    public static func deferrals(in text: [UInt8]) -> [LoggedDeferral] {
        var latest: [String: (order: Int, deferral: LoggedDeferral?)] = [:]
        var order = 0
        for line in text.split(separator: UInt8(ascii: "\n")) {
            guard let record = parse(String(decoding: line, as: UTF8.self)) else { continue }
            let key = record.queueID + " " + record.recipient
            latest[key] = (order, record.deferredReason.map { LoggedDeferral(queueID: record.queueID, recipient: record.recipient, reason: $0) })
            order += 1
        }
        return latest.values.sorted { $0.order < $1.order }.compactMap(\.deferral)
    }

    /// One delivery status line: queue id, recipient, and the reason when
    /// the status is deferred; nil for any other line.
    static func parse(_ line: String) -> (queueID: String, recipient: String, deferredReason: String?)? {
        guard let to = line.firstRange(of: ": to=<"), let status = line.firstRange(of: ", status=") else { return nil }
        let head = line[..<to.lowerBound]
        guard let idStart = head.lastIndex(of: " ") else { return nil }
        let queueID = String(head[head.index(after: idStart)...])
        guard !queueID.isEmpty, queueID.allSatisfy({ $0.isLetter || $0.isNumber }) else { return nil }
        let afterTo = line[to.upperBound...]
        guard let close = afterTo.firstIndex(of: ">") else { return nil }
        let recipient = String(afterTo[..<close])
        let rest = line[status.upperBound...]
        guard rest.hasPrefix("deferred (") else { return (queueID, recipient, nil) }
        var reason = rest.dropFirst("deferred (".count)
        if let last = reason.lastIndex(of: ")") { reason = reason[..<last] }
        return (queueID, recipient, String(reason))
    }

    /// The last `tailBytes` of the log at `path`, from the first whole line.
    /// Only a regular file is read: O_NONBLOCK, so that a FIFO (a syslog
    /// pipe) is refused on its descriptor instead of hanging the open.
    public static func readTail(_ path: String) throws(EvidenceError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .mailLogUnreadable(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .mailLogUnreadable(path: path, errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .mailLogNotARegularFile(path: path) }
        let size = Int(st.st_size)
        let start = max(0, size - tailBytes)
        var bytes = [UInt8](repeating: 0, count: size - start)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(start + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .mailLogUnreadable(path: path, errno: errno) }
            if n == 0 { break }
            done += n
        }
        bytes.removeSubrange(done...)
        // A tail that starts mid-line starts at the next whole line.
        if start > 0, let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) { bytes.removeSubrange(...newline) }
        return bytes
    }
}
