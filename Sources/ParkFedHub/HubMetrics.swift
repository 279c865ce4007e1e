import Foundation
import ParkFedDomain
import Hummingbird
import ParkFedProtocol
import Prometheus
import Synchronization

/// The hub's Prometheus metrics. Each hub owns its registry (no global bootstrap), so several hubs in one test
/// process keep separate counts; `GET /metrics` on the ops listener exports them.
public final class HubMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    static func descriptor(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "parkfed", subsystem: "hub", metricName: name, unitName: unit, helpText: help)
    }

    /// The metrics of the hot paths (every request, every group commit), made once per label set: the registry
    /// validates names, labels and help text and takes its lock on every `make…` call.
    private let requestCounters = Mutex<[RequestKey: Counter]>([:])
    private let requestDurations = Mutex<[String: DurationHistogram]>([:])
    private let groupCommits: Counter, groupAppends: Counter, groupEntries: Counter

    private struct RequestKey: Hashable {
        var method: String, route: String, status: Int
    }

    public init() {
        groupCommits = registry.makeCounter(descriptor: Self.descriptor("log_group_commits", "total", "Log transactions (group commits)"))
        groupAppends = registry.makeCounter(
            descriptor: Self.descriptor("log_group_appends", "total", "Appends (requests) answered by the log's group commits"))
        groupEntries = registry.makeCounter(descriptor: Self.descriptor("log_group_entries", "total", "Entries offered to the log's group commits"))
    }

    func request(method: String, route: String, status: Int, duration: Duration) {
        let key = RequestKey(method: method, route: route, status: status)
        let counter = requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.descriptor("http_requests", "total", "HTTP requests by method, route and status"),
                labels: [("method", method), ("route", route), ("status", "\(status)")])
            counters[key] = counter
            return counter
        }
        counter.increment()
        let histogram = requestDurations.withLock { histograms in
            if let histogram = histograms[route] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: Self.descriptor("http_request_duration", "seconds", "HTTP request latency by route"),
                labels: [("route", route)],
                buckets: [
                    .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                    .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
                ])
            histograms[route] = histogram
            return histogram
        }
        histogram.record(duration)
    }

    /// One group commit of the log: how many appends (requests) and entries it held.
    func logGroup(appends: Int, entries: Int) {
        groupCommits.increment()
        groupAppends.increment(by: Int64(appends))
        groupEntries.increment(by: Int64(entries))
    }

    func enrollment(outcome: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("enrollments", "total", "Enrollment attempts by outcome (accepted or the refusal code)"),
            labels: [("outcome", outcome)]
        ).increment()
    }

    func connectionRefused() {
        registry.makeCounter(descriptor: Self.descriptor("connections_refused", "total", "Connections closed at once because max_connections were open"))
            .increment()
    }

    func rateLimited(principal: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("rate_limited", "total", "Requests refused with 429 because a principal was over its rate limit"),
            labels: [("principal", principal)]
        ).increment()
    }

    func authenticationRefused(code: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("authentication_refusals", "total", "Requests refused by client-certificate checks"),
            labels: [("code", code)]
        ).increment()
    }

    func trustListSequence(_ sequence: Int64) {
        registry.makeGauge(descriptor: Self.descriptor("trust_list_sequence", "number", "Sequence number of the latest signed trust list"))
            .set(Double(sequence))
    }

    func ingested(_ results: [IngestResult]) {
        var counts: [String: Int64] = [:]
        for result in results { counts[result.status == .rejected ? (result.reason ?? "rejected") : result.status.rawValue, default: 0] += 1 }
        for (outcome, count) in counts {
            registry.makeCounter(
                descriptor: Self.descriptor("assertions", "total", "Assertions submitted, by outcome (accepted, duplicate, or the rejection reason)"),
                labels: [("outcome", outcome)]
            ).increment(by: count)
        }
    }

    func octoBooking(_ outcome: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("octo_bookings", "total", "OCTO booking steps by outcome (held, sold_out, confirmed, cancelled)"),
            labels: [("outcome", outcome)]
        ).increment()
    }

    func shopPayment(provider: String, event: String) {
        registry.makeCounter(
            descriptor: Self.descriptor(
                "shop_payments", "total", "Shop payment events by provider (started, issued, late, notification_refused, amount_mismatch)"),
            labels: [("provider", provider), ("event", event)]
        ).increment()
    }

    func shopRefund(_ status: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("shop_refunds", "total", "Shop refunds by step (approved, review, declined, refunded)"),
            labels: [("status", status)]
        ).increment()
    }

    /// The level a park last reached against a capacity: 0 normal, 1 warning, 2 full (set when a statement logs it).
    func capacityLevel(park: String, measure: String, level: CapacityLevel) {
        registry.makeGauge(
            descriptor: Self.descriptor("capacity", "level", "Capacity level per park and measure (0 normal, 1 warning at the share, 2 full)"),
            labels: [("park", park), ("measure", measure)]
        ).set(Double(level.rank))
    }

    func regulatorPush(_ outcome: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("regulator_pushes", "total", "Capacity statements pushed to regulators' endpoints by outcome (delivered, failed)"),
            labels: [("outcome", outcome)]
        ).increment()
    }

    func octoWebhook(_ outcome: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("octo_webhooks", "total", "OCTO webhook delivery attempts by outcome (delivered, failed)"),
            labels: [("outcome", outcome)]
        ).increment()
    }

    func gateDecision(reason: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("pass_entries", "total", "Gate entries decided by the hub, by outcome (allow or the refusal reason)"),
            labels: [("outcome", reason)]
        ).increment()
    }

    func settlementRun(day: String, obligations: Int) {
        registry.makeCounter(descriptor: Self.descriptor("settlement_runs", "total", "Business days closed into settlement batches")).increment()
        registry.makeGauge(descriptor: Self.descriptor("settlement_last_obligations", "count", "Obligations in the last settlement batch"))
            .set(Double(obligations))
    }

    func logSize(_ size: UInt64) {
        registry.makeGauge(descriptor: Self.descriptor("log_size", "entries", "Entries in the assertion log")).set(Double(size))
    }

    /// The Prometheus text exposition.
    public func exposition() -> String { registry.emitToString() }
}
