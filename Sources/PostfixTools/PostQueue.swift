// PostQueue.swift: the mail queue as Postfix's own postqueue(1) shows it,
// and its one request that touches a single message.
//
//   postqueue -c DIR -j      (Postfix >= 3.1) one JSON object per line and
//                            message: queue_name, queue_id, arrival_time,
//                            message_size, forced_expire, sender, and
//                            recipients [{address, orig_address?,
//                            delay_reason? | bounce_reason? | other_reason?}]
//                            (src/postqueue/showq_json.c)
//   postqueue -c DIR -i ID   (Postfix >= 2.4) schedule immediate delivery of
//                            that one deferred message; flush(8) moves it to
//                            the incoming queue and unthrottles its
//                            destination in qmgr, and no other message moves
//                            (src/flush/flush.c)
//
// Both go through the running Postfix (showq and flush services), so they
// are asked only of an instance that runs.

import FoundationEssentials

/// One message of `postqueue -j`.
public struct QueuedMessage: Sendable, Equatable, Decodable {
    /// incoming, active, deferred, hold or maildrop.
    public var queueName: String
    public var queueID: String
    /// Seconds since the epoch.
    public var arrivalTime: Int
    public var sender: String
    public var recipients: [Recipient]

    public struct Recipient: Sendable, Equatable, Decodable {
        public var address: String
        /// Why delivery was deferred (the text smtp(8) logged after "status=deferred").
        public var delayReason: String?

        public init(address: String, delayReason: String?) {
            self.address = address
            self.delayReason = delayReason
        }

        /// The domain part, lower-cased as trivial-rewrite compares it; nil without one.
        public var domain: String? {
            guard let at = address.lastIndex(of: "@"), address.index(after: at) < address.endIndex else { return nil }
            return String(address[address.index(after: at)...]).lowercased()
        }

        enum CodingKeys: String, CodingKey {
            case address
            case delayReason = "delay_reason"
        }
    }

    public init(queueName: String, queueID: String, arrivalTime: Int, sender: String, recipients: [Recipient]) {
        self.queueName = queueName
        self.queueID = queueID
        self.arrivalTime = arrivalTime
        self.sender = sender
        self.recipients = recipients
    }

    enum CodingKeys: String, CodingKey {
        case queueName = "queue_name"
        case queueID = "queue_id"
        case arrivalTime = "arrival_time"
        case sender, recipients
    }
}

public enum PostQueue {
    /// Reads `postqueue -j` output: one JSON object per line (not one
    /// array), so each line is decoded alone.
    public static func messages(json output: [UInt8]) throws(PostfixToolError) -> [QueuedMessage] {
        var messages: [QueuedMessage] = []
        for line in output.split(separator: UInt8(ascii: "\n")) where line.contains(where: { $0 != 0x20 && $0 != 0x09 }) {
            do {
                messages.append(try JSONDecoder().decode(QueuedMessage.self, from: Data(line)))
            } catch {
                throw .unexpectedOutput(command: "postqueue -j", output: String(decoding: line.prefix(200), as: UTF8.self), status: 0)
            }
        }
        return messages
    }

    /// The queue of the Postfix instance of `configDirectory`.
    public static func list(configDirectory: String) throws(PostfixToolError) -> [QueuedMessage] {
        let result = try PostfixProgram.run("postqueue", ["-c", configDirectory, "-j"])
        guard result.status == 0 else {
            throw .failed(command: "postqueue -c \(configDirectory) -j", status: result.status, errors: result.errorText)
        }
        return try messages(json: result.output)
    }

    /// Schedules immediate delivery of one deferred message (`postqueue -i`).
    public static func scheduleDelivery(queueID: String, configDirectory: String) throws(PostfixToolError) {
        let result = try PostfixProgram.run("postqueue", ["-c", configDirectory, "-i", queueID])
        guard result.status == 0 else {
            throw .failed(command: "postqueue -c \(configDirectory) -i \(queueID)", status: result.status, errors: result.errorText)
        }
    }

    /// The command that `scheduleDelivery` runs, for a person to run.
    public static func scheduleCommand(queueIDs: [String], configDirectory: String) -> String {
        queueIDs.map { "postqueue -c \(configDirectory) -i \($0)" }.joined(separator: "; ")
    }
}
