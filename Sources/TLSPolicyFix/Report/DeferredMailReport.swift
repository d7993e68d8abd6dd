// DeferredMailReport.swift: the `deferredMail` member of the check, diff
// and apply documents (docs/json-schema.md): the deferred mail waiting for
// the fixes. It is an addition within schemaVersion 1, present only when the
// tool read a queue (the instance runs) or a mail log (--maillog), so the
// documents of every other run stay as they were, byte for byte.

public struct DeferredMailRecord: Encodable, Sendable {
    public var mail: DeferredMail
    /// apply: the queue ids it scheduled with `postqueue -i`
    /// (--retry-deferred); nil when it scheduled none by request.
    public var retried: [String]?
    /// The command that schedules them, for a person or a configuration
    /// manager; nil when no queued message waits.
    public var retryCommand: String?

    public init(_ mail: DeferredMail, retried: [String]? = nil, retryCommand: String? = nil) {
        self.mail = mail
        self.retried = retried
        self.retryCommand = retryCommand
    }

    struct Message: Encodable {
        var recipient: DeferredRecipient
        var finding: Finding

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(recipient.queueID, forKey: .queueId)
            try container.encode(recipient.recipient, forKey: .recipient)
            try container.encode(recipient.domain, forKey: .domain)
            try container.encode(recipient.nextHop, forKey: .nextHop)
            try container.encode(recipient.reason, forKey: .reason)
            try container.encode(recipient.queued, forKey: .queued)
            try container.encode(finding.location.path, forKey: .file)
            try container.encode(finding.location.line, forKey: .line)
            try container.encode(finding.subject, forKey: .key)
        }

        enum CodingKeys: String, CodingKey { case queueId, recipient, domain, nextHop, reason, queued, file, line, key }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mail.queueRead, forKey: .queueRead)
        try container.encode(mail.mailLog, forKey: .mailLog)
        let messages = mail.waiting.flatMap { waiting in waiting.recipients.map { Message(recipient: $0, finding: waiting.finding) } }
        try container.encode(messages, forKey: .messages)
        try container.encode(mail.messageCount, forKey: .messageCount)
        try container.encode(mail.summary, forKey: .summary)
        try container.encode(retried, forKey: .retried)
        try container.encode(retryCommand, forKey: .retryCommand)
    }

    enum CodingKeys: String, CodingKey { case queueRead, mailLog, messages, messageCount, summary, retried, retryCommand }
}
