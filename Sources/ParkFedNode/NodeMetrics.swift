import Foundation
import ParkFedDomain
import ParkFedProtocol
import Prometheus
import Synchronization

/// The node agent's Prometheus metrics (swift-prometheus, as the hub's): counters and a latency histogram kept since
/// start (gate decisions, sales, local API requests), and gauges an operator alerts on (hub link, trust-list age,
/// certificate expiry, outbox, alarms, gate mode), set from the agent's status at scrape time. Each agent owns its
/// registry, so several agents in one process keep separate counts.
final class NodeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let park: String

    /// A gate decision's metrics, made once per outcome and mode: the registry validates names, labels and help text
    /// and takes its lock on every `make…` call, and every decision records both.
    private let gateCounters = Mutex<[String: Counter]>([:])
    private let gateDuration: DurationHistogram

    init(park: String) {
        self.park = park
        gateDuration = registry.makeDurationHistogram(
            descriptor: Self.descriptor("gate_decision", "seconds", "Time to decide at the gate (verification, local state, and the hub when online)"),
            labels: [("park", park)],
            buckets: [
                .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            ])
    }

    static func descriptor(_ name: String, _ unit: String?, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "parkfed", subsystem: "node", metricName: name, unitName: unit, helpText: help)
    }

    func gate(_ decision: GateDecision, duration: Duration) {
        let outcome = decision.decision == .allow ? "allow" : (decision.reason ?? "deny")
        let key = "\(outcome) \(decision.mode.rawValue)"
        let counter = gateCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.descriptor("gate_decisions", "total", "Gate decisions by outcome (allow or the refusal reason) and mode"),
                labels: [("park", park), ("outcome", outcome), ("mode", decision.mode.rawValue)])
            counters[key] = counter
            return counter
        }
        counter.increment()
        gateDuration.record(duration)
    }

    /// Days (of any park) whose sales the hub last said stopped.
    func capacity(stopped: Int) {
        registry.makeGauge(
            descriptor: Self.descriptor("capacity_sales_stopped", "days", "Park days whose sales stopped at the daily capacity, as the hub last said"),
            labels: [("park", park)]
        ).set(Double(stopped))
    }

    /// The park's level against its instantaneous capacity (0 normal, 1 warning, 2 full).
    func insideLevel(_ level: CapacityLevel) {
        registry.makeGauge(
            descriptor: Self.descriptor("capacity_inside", "level", "Level of people inside against the instantaneous capacity (0, 1 warning, 2 full)"),
            labels: [("park", park)]
        ).set(Double(level.rank))
    }

    func sale() {
        registry.makeCounter(descriptor: Self.descriptor("passes_sold", "total", "Combo passes sold at this park"), labels: [("park", park)]).increment()
    }

    func request(route: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.descriptor("http_requests", "total", "Requests to the local API by route and status"),
            labels: [("park", park), ("route", route), ("status", "\(status)")]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.descriptor("http_request_duration", "seconds", "Local API latency by route"),
            labels: [("park", park), ("route", route)],
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2)]
        ).record(duration)
    }

    /// The text exposition, with the status gauges set from `status` first.
    func exposition(_ status: NodeAgent.Status, now: Date = Date()) -> String {
        func gauge(_ name: String, unit: String? = nil, _ help: String, _ value: Double) {
            registry.makeGauge(descriptor: Self.descriptor(name, unit, help), labels: [("park", park)]).set(value)
        }
        gauge(
            "hub_reachable", "1 if the last call to the hub succeeded, 0 if it failed, -1 before the first call",
            status.hub.reachable.map { $0 ? 1 : 0 } ?? -1)
        gauge("trust_list_present", "1 if a verified trust list is cached", status.trustList.present ? 1 : 0)
        gauge("trust_list_sequence", "Sequence number of the cached trust list", Double(status.trustList.sequence ?? 0))
        gauge("trust_list_age", unit: "seconds", "Seconds since the trust list was last confirmed with the hub", Double(status.trustList.ageSeconds ?? -1))
        gauge("trust_list_stale", "1 if the cached trust list is older than the staleness limit", status.trustList.stale ? 1 : 0)
        gauge(
            "certificate_expiry", unit: "seconds", "Seconds until the park's client certificate expires",
            status.certificate.notAfter.timeIntervalSince(now).rounded())
        gauge("outbox_pending", "Assertions waiting in the outbox", Double(status.outbox.pending))
        gauge("outbox_rejected", "Assertions the hub rejected", Double(status.outbox.rejected))
        gauge("outbox_unverified", "Accepted assertions whose log inclusion is not verified yet", Double(status.outbox.accepted - status.outbox.verified))
        gauge("alarms", "Alarms raised (rejected assertions, failed log checks); any increase needs a person", Double(status.alarmCount))
        for mode in GateMode.allCases {
            registry.makeGauge(
                descriptor: Self.descriptor("gate_mode", nil, "1 for the park's current gate mode (normal, fast_check, evacuation)"),
                labels: [("park", park), ("mode", mode.rawValue)]
            ).set(Double(mode == status.mode ? 1 : 0))
        }
        return registry.emitToString()
    }
}
