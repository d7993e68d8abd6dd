// EvidenceSources.swift: where the Evidence stage reads from on a real
// system: the queue of the running instance (postqueue -j), its
// transport_maps (one `postmap -q -` for every key the routes need), and a
// mail log the admin names. The queue is read only when that Postfix runs
// and never under --root: an image's queue is not this machine's.

import PostconfModel
import PostfixTools

extension Evidence {
    /// The evidence for these findings, or nil when there was nothing to
    /// read (Postfix not running, no --maillog). Errors reading one source
    /// are returned beside what the others gave. The findings are asked for
    /// only when there is something to match: a large table's findings are a
    /// million values, which diff and apply otherwise never make.
    public static func gather(
        location: ConfigurationLocation, configuration: () -> Configuration?, findings: () -> [Finding], options: FixOptions,
        mailLog: String?
    ) -> (mail: DeferredMail?, problems: [EvidenceError]) {
        var problems: [EvidenceError] = []
        var queue: [QueuedMessage]?
        guard let configuration = configuration() else { return (nil, problems) }
        // The queue directory from main.cf's model: postconf -h would expand
        // every parameter of main.cf, without bound.
        if location.root == nil,
            PostfixInstallation.isRunning(queueDirectory: String(decoding: configuration.value("queue_directory"), as: UTF8.self))
        {
            do {
                queue = try PostQueue.list(configDirectory: location.directory)
            } catch {
                problems.append(.queueUnreadable(error))
            }
        }
        var readLog: [LoggedDeferral]?
        if let mailLog {
            do throws(EvidenceError) {
                readLog = MailLog.deferrals(in: try MailLog.readTail(mailLog))
            } catch {
                problems.append(error)
            }
        }
        guard queue != nil || readLog != nil else { return (nil, problems) }
        let logRead = readLog == nil ? nil : mailLog
        let logged = readLog ?? []
        let addresses =
            (queue ?? []).flatMap { message in
                message.recipients.filter { isCertificateFailure($0.delayReason ?? "") }.map(\.address)
            }
            + logged.filter { isCertificateFailure($0.reason) }.map(\.recipient)
        var transports: (any TransportTable)?
        do throws(EvidenceError) {
            transports = try transportTable(configuration, addresses: addresses)
        } catch {
            problems.append(error)
        }
        let mail = match(
            queue: queue, logged: logged, mailLog: logRead, findings: findings(),
            configuration: configuration, options: options, transports: transports)
        return (mail, problems)
    }

    /// transport_maps' answers for every key these addresses can need, in
    /// one `postmap -q -` (which searches the maps in order, first found
    /// wins, as trivial-rewrite does); nil when main.cf sets none.
    static func transportTable(_ configuration: Configuration, addresses: [String]) throws(EvidenceError) -> (any TransportTable)? {
        let maps = MapReference.splitList(configuration.value("transport_maps")).map { String(decoding: $0, as: UTF8.self) }
        guard !maps.isEmpty, !addresses.isEmpty else { return nil }
        let resolver = NextHopResolver(configuration: configuration, transports: nil)
        var keys: [String] = []
        for address in Set(addresses.map { $0.lowercased() }) {
            guard let domain = QueuedMessage.Recipient(address: address, delayReason: nil).domain else { continue }
            keys += resolver.transportKeys(address: address, domain: domain)
        }
        let input = Array(uniqued(keys).joined(separator: "\n").utf8) + [0x0A]
        do {
            let output = try Postmap.run(["-q", "-"] + maps, configDirectory: configuration.directory, input: input)
            var entries: [String: String] = [:]
            for (key, value) in Postmap.records(output.stdout) {
                entries[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
            }
            return InMemoryTransportTable(entries)
        } catch {
            throw .transportsUnreadable(error)
        }
    }
}
