import Foundation

/// The node agent's Prometheus exposition: the state an operator alerts on (hub link, trust-list age,
/// certificate expiry), computed from the agent's status at scrape time.
enum NodeMetrics {
    static func exposition(_ status: NodeAgent.Status, now: Date = Date()) -> String {
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
        return lines.joined(separator: "\n") + "\n"
    }
}
