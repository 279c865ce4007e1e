import Foundation
import ParkFedProtocol

/// The node agent's Prometheus exposition: the state an operator alerts on (hub link, trust-list age,
/// certificate expiry), computed from the agent's status at scrape time.
enum NodeMetrics {
    static func exposition(_ status: NodeAgent.Status, counters: NodeCounters, now: Date = Date()) -> String {
        var lines: [String] = []
        func gauge(_ name: String, _ help: String, _ value: Double) {
            lines.append("# HELP parkfed_node_\(name) \(help)")
            lines.append("# TYPE parkfed_node_\(name) gauge")
            lines.append("parkfed_node_\(name){park=\"\(status.park)\"} \(value)")
        }
        gauge("hub_reachable", "1 if the last call to the hub succeeded, 0 if it failed, -1 before the first call",
              status.hub.reachable.map { $0 ? 1 : 0 } ?? -1)
        gauge("trust_list_present", "1 if a verified trust list is cached", status.trustList.present ? 1 : 0)
        gauge("trust_list_sequence", "Sequence number of the cached trust list", Double(status.trustList.sequence ?? 0))
        gauge("trust_list_age_seconds", "Seconds since the trust list was last confirmed with the hub", Double(status.trustList.ageSeconds ?? -1))
        gauge("trust_list_stale", "1 if the cached trust list is older than the staleness limit", status.trustList.stale ? 1 : 0)
        gauge("certificate_expiry_seconds", "Seconds until the park's client certificate expires", status.certificate.notAfter.timeIntervalSince(now).rounded())
        gauge("outbox_pending", "Assertions waiting in the outbox", Double(status.outbox.pending))
        gauge("outbox_rejected", "Assertions the hub rejected", Double(status.outbox.rejected))
        gauge("outbox_unverified", "Accepted assertions whose log inclusion is not verified yet", Double(status.outbox.accepted - status.outbox.verified))
        gauge("alarms", "Alarms raised (rejected assertions, failed log checks); any increase needs a person", Double(status.alarmCount))
        lines.append("# HELP parkfed_node_gate_mode 1 for the park's current gate mode (normal, fast_check, evacuation)")
        lines.append("# TYPE parkfed_node_gate_mode gauge")
        for mode in GateMode.allCases {
            lines.append("parkfed_node_gate_mode{park=\"\(status.park)\",mode=\"\(mode.rawValue)\"} \(mode == status.mode ? 1 : 0)")
        }
        let snapshot = counters.snapshot()
        lines.append("# HELP parkfed_node_gate_decisions_total Gate decisions by outcome (allow or the refusal reason) and mode (online or offline)")
        lines.append("# TYPE parkfed_node_gate_decisions_total counter")
        for (key, count) in snapshot.decisions.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|")
            lines.append("parkfed_node_gate_decisions_total{park=\"\(status.park)\",outcome=\"\(parts[0])\",mode=\"\(parts[1])\"} \(count)")
        }
        lines.append("# HELP parkfed_node_gate_decision_seconds Time to decide at the gate (verification, local state, and the hub when online)")
        lines.append("# TYPE parkfed_node_gate_decision_seconds histogram")
        var cumulative = 0
        for (bound, count) in zip(NodeCounters.bounds, snapshot.buckets) {
            cumulative += count
            lines.append("parkfed_node_gate_decision_seconds_bucket{park=\"\(status.park)\",le=\"\(bound)\"} \(cumulative)")
        }
        lines.append("parkfed_node_gate_decision_seconds_bucket{park=\"\(status.park)\",le=\"+Inf\"} \(snapshot.count)")
        lines.append("parkfed_node_gate_decision_seconds_sum{park=\"\(status.park)\"} \(snapshot.sum)")
        lines.append("parkfed_node_gate_decision_seconds_count{park=\"\(status.park)\"} \(snapshot.count)")
        lines.append("# HELP parkfed_node_passes_sold_total Combo passes sold at this park")
        lines.append("# TYPE parkfed_node_passes_sold_total counter")
        lines.append("parkfed_node_passes_sold_total{park=\"\(status.park)\"} \(snapshot.sales)")
        lines.append("# HELP parkfed_node_http_requests_total Requests to the local API by route and status")
        lines.append("# TYPE parkfed_node_http_requests_total counter")
        for (key, count) in snapshot.requests.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|")
            lines.append("parkfed_node_http_requests_total{park=\"\(status.park)\",route=\"\(parts[0])\",status=\"\(parts[1])\"} \(count)")
        }
        lines.append("# HELP parkfed_node_http_request_seconds_total Time spent answering the local API, by route")
        lines.append("# TYPE parkfed_node_http_request_seconds_total counter")
        for (route, seconds) in snapshot.requestSeconds.sorted(by: { $0.key < $1.key }) {
            lines.append("parkfed_node_http_request_seconds_total{park=\"\(status.park)\",route=\"\(route)\"} \(seconds)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Counters the node agent keeps in memory since it started: gate decisions and their latency, sales.
final class NodeCounters: @unchecked Sendable {
    static let bounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    struct Snapshot {
        var decisions: [String: Int] = [:]
        var buckets = [Int](repeating: 0, count: NodeCounters.bounds.count)
        var count = 0
        var sum = 0.0
        var sales = 0
        /// Requests to the local API by "route|status", and their total time.
        var requests: [String: Int] = [:]
        var requestSeconds: [String: Double] = [:]
    }
    private let lock = NSLock()
    private var state = Snapshot()

    func gate(_ decision: GateDecision, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        lock.withLock {
            state.decisions["\(decision.decision == .allow ? "allow" : (decision.reason ?? "deny"))|\(decision.mode.rawValue)", default: 0] += 1
            if let bucket = Self.bounds.firstIndex(where: { seconds <= $0 }) { state.buckets[bucket] += 1 }
            state.count += 1
            state.sum += seconds
        }
    }

    func sale() { lock.withLock { state.sales += 1 } }

    func request(route: String, status: Int, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        lock.withLock {
            state.requests["\(route)|\(status)", default: 0] += 1
            state.requestSeconds[route, default: 0] += seconds
        }
    }

    func snapshot() -> Snapshot { lock.withLock { state } }
}
