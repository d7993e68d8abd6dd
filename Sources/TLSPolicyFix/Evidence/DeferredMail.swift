// DeferredMail.swift: the Evidence stage. Mail that already failed because
// a verifying level went without SNI: deferred recipients (from the queue,
// or a mail log) whose delay reason is a certificate verification failure,
// matched to the fixable finding whose entry or setting smtp(8) uses for
// them (NextHop, PolicyLookup). check and diff show it per finding; apply
// --retry-deferred schedules exactly those queued messages again.

import PostconfModel
import PostfixTools

/// One deferred recipient waiting for a fix.
public struct DeferredRecipient: Sendable, Equatable {
    public var queueID: String
    public var recipient: String
    /// The recipient's domain, lower-case.
    public var domain: String
    /// The destination smtp(8) tried, whose policy the finding is.
    public var nextHop: String
    /// The delay reason, as Postfix recorded it.
    public var reason: String
    /// Whether the message is still in the queue (false: only the mail log
    /// has it, or the queue was not read).
    public var queued: Bool
}

/// The deferred recipients waiting for one finding's fix.
public struct WaitingMail: Sendable {
    public var finding: Finding
    public var recipients: [DeferredRecipient]

    /// The messages, each once, in the order found.
    public var queueIDs: [String] { uniqued(recipients.map(\.queueID)) }
    public var domains: [String] { uniqued(recipients.map(\.domain)) }

    /// "3 deferred messages to gmail.com are waiting for this fix".
    public var sentence: String {
        let count = queueIDs.count
        let queued = recipients.allSatisfy(\.queued)
        return "\(count) \(queued ? "deferred" : "recently deferred") message\(count == 1 ? "" : "s") to \(domains.joined(separator: ", ")) "
            + "\(count == 1 ? "is" : "are") waiting for this fix (\(uniqued(recipients.map(\.reason)).joined(separator: "; ")))"
    }
}

/// What the Evidence stage found.
public struct DeferredMail: Sendable {
    /// Whether the queue was read (Postfix runs), and the mail log read, if any.
    public var queueRead: Bool
    public var mailLog: String?
    /// The findings with mail waiting for them, in the order of the findings.
    public var waiting: [WaitingMail]

    /// The queued messages waiting for a fix, each once: what
    /// `apply --retry-deferred` schedules.
    public var queuedIDs: [String] {
        uniqued(waiting.flatMap { $0.recipients.filter(\.queued).map(\.queueID) })
    }

    /// The messages, queued or logged, each once.
    public var messageCount: Int { uniqued(waiting.flatMap(\.queueIDs)).count }

    /// The summary line; nil when no mail is waiting.
    public var summary: String? {
        guard !waiting.isEmpty else { return nil }
        let domains = uniqued(waiting.flatMap(\.domains)).joined(separator: ", ")
        let count = messageCount
        return "\(count) deferred message\(count == 1 ? "" : "s") to \(domains) \(count == 1 ? "is" : "are") waiting for these fixes"
    }
}

public enum Evidence {
    /// Whether a delay reason is smtp(8)'s certificate verification failure
    /// ("Server certificate not verified", src/smtp/smtp_proto.c; older and
    /// TLS-library wordings say "certificate verification failed" or
    /// "certificate not trusted").
    public static func isCertificateFailure(_ reason: String) -> Bool {
        let text = reason.lowercased()
        return ["server certificate not verified", "certificate verification failed", "server certificate not trusted"]
            .contains { text.contains($0) }
    }

    /// Matches deferred recipients to the fixable missing-servername
    /// findings whose entry or main.cf setting smtp(8) uses for them.
    /// `logged` are mail-log deferrals; those whose message is in `queue`
    /// are left to the queue's record.
    public static func match(
        queue: [QueuedMessage]?, logged: [LoggedDeferral] = [], mailLog: String? = nil, findings: [Finding],
        configuration: Configuration, options: FixOptions, transports: (any TransportTable)?
    ) -> DeferredMail {
        var candidates: [DeferredRecipient] = []
        for message in queue ?? [] where message.queueName == "deferred" || message.queueName == "active" || message.queueName == "incoming" {
            for recipient in message.recipients {
                guard let reason = recipient.delayReason, isCertificateFailure(reason), let domain = recipient.domain else { continue }
                candidates.append(
                    DeferredRecipient(
                        queueID: message.queueID, recipient: recipient.address, domain: domain,
                        nextHop: domain, reason: reason, queued: true))
            }
        }
        let queuedIDs = Set((queue ?? []).map(\.queueID))
        for entry in logged where !queuedIDs.contains(entry.queueID) && isCertificateFailure(entry.reason) {
            guard let domain = QueuedMessage.Recipient(address: entry.recipient, delayReason: nil).domain else { continue }
            candidates.append(
                DeferredRecipient(
                    queueID: entry.queueID, recipient: entry.recipient, domain: domain,
                    nextHop: domain, reason: entry.reason, queued: false))
        }
        let waiting = assign(candidates, findings: findings, configuration: configuration, options: options, transports: transports)
        return DeferredMail(queueRead: queue != nil, mailLog: mailLog, waiting: waiting)
    }

    /// Each candidate to the finding that governs its next hop, if fixable.
    static func assign(
        _ candidates: [DeferredRecipient], findings: [Finding], configuration: Configuration, options: FixOptions,
        transports: (any TransportTable)?
    ) -> [WaitingMail] {
        let fixable = findings.filter { $0.severity == .fixable && $0.rule == .missingServername }
        guard !candidates.isEmpty, !fixable.isEmpty else { return [] }
        let resolver = NextHopResolver(configuration: configuration, transports: transports)
        let routes = candidates.map { resolver.destinations(address: $0.recipient) ?? [] }
        let wanted = Set(routes.flatMap { $0.flatMap(PolicyKeys.candidates) })
        let lookup = PolicyLookup(configuration: configuration, options: options, wanted: wanted)
        let mainCf = configuration.displayPath(configuration.mainCf.path)
        var byFinding: [Int: [DeferredRecipient]] = [:]
        for (candidate, destinations) in zip(candidates, routes) {
            for destination in destinations {
                let governing: Int?
                switch lookup.select(PolicyKeys.candidates(destination)) {
                case .entry(let location):
                    governing = fixable.firstIndex { $0.location == location }
                case .global:
                    governing = fixable.firstIndex {
                        $0.location.path == mainCf && ($0.subject == "smtp_tls_security_level" || $0.subject == "smtp_enforce_tls")
                    }
                case .unknown:
                    governing = nil
                }
                guard let governing else { continue }
                var matched = candidate
                matched.nextHop = destination
                byFinding[governing, default: []].append(matched)
                break
            }
        }
        return byFinding.keys.sorted().map { WaitingMail(finding: fixable[$0], recipients: byFinding[$0]!) }
    }
}

/// The distinct elements, in the order first seen.
func uniqued(_ values: [String]) -> [String] {
    var seen: Set<String> = []
    return values.filter { seen.insert($0).inserted }
}
