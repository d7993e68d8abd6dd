// ProbeAll.swift: `probe --all`: every ProbeTarget through the same two
// posttls-finger handshakes as `probe`, a bounded number at a time. Each
// run blocks on the network (bounded by posttls-finger's own -t/-T
// timeouts), so the workers are threads of their own (serial dispatch
// queues, which libdispatch runs on threads beyond the core count), not the
// cooperative pool, which would run no more than the cores at once.

import Dispatch
import PostfixTools
import Synchronization

/// The outcome for one target: the probe, or why posttls-finger could not run.
public struct ProbeAllResult: Sendable {
    public var target: ProbeTarget
    public var probe: SNIProbe?
    public var error: String?

    /// The probe's verdict; a run that could not start is unknown.
    public var verdict: SNIVerdict { probe?.verdict ?? .unknown }
}

public enum ProbeAll {
    public typealias Handshake = @Sendable (_ target: ProbeTarget, _ sni: String?) throws(PostfixToolError) -> TLSHandshake

    /// Probes every target, at most `parallel` at once, and returns the
    /// results in the targets' order. `progress` hears of each as it ends
    /// (from the worker's thread).
    public static func run(
        _ targets: [ProbeTarget], parallel: Int, servername: String, handshake: @escaping Handshake,
        progress: @escaping @Sendable (_ done: Int, _ total: Int, ProbeAllResult) -> Void = { _, _, _ in }
    ) -> [ProbeAllResult] {
        let next = Atomic<Int>(0)
        let results = Mutex<[ProbeAllResult?]>(Array(repeating: nil, count: targets.count))
        let done = Atomic<Int>(0)
        let group = DispatchGroup()
        for worker in 0..<max(1, min(parallel, targets.count)) {
            DispatchQueue(label: "probe-all.\(worker)").async(group: group) {
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    guard index < targets.count else { return }
                    let result = probe(targets[index], servername: servername, handshake: handshake)
                    results.withLock { $0[index] = result }
                    progress(done.add(1, ordering: .relaxed).newValue, targets.count, result)
                }
            }
        }
        group.wait()
        return results.withLock { $0.compactMap { $0 } }
    }

    static func probe(_ target: ProbeTarget, servername: String, handshake: Handshake) -> ProbeAllResult {
        do {
            let probe = SNIProbe(
                destination: target.destination, level: target.level.rawValue, servername: servername,
                withoutSNI: try handshake(target, nil), withSNI: try handshake(target, servername))
            return ProbeAllResult(target: target, probe: probe)
        } catch {
            return ProbeAllResult(target: target, error: error.description)
        }
    }

    /// The exit status of the whole run: the worst verdict's (0 when there was nothing to probe).
    public static func exitStatus(_ results: [ProbeAllResult]) -> Int32 {
        results.map(\.verdict.exitStatus).max() ?? 0
    }
}
