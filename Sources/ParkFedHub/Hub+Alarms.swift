import Foundation
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

extension Hub {
    /// How close to its end a park's certificate must come before the operator is warned (node agents renew a
    /// third of the way before; a park still inside this window has not renewed).
    static let certificateWarning: TimeInterval = 14 * 24 * 3600
    /// A whole-log verification older than this is itself an alarm: nobody has checked the log lately.
    static let verificationMaxAge: TimeInterval = 24 * 3600
    /// A log that grew past its latest checkpoint for longer than this has an unpublished tail.
    static let checkpointMaxAge: TimeInterval = 3600

    /// What needs the operator now, worst first: a failed or stale log verification, certificates of active parks
    /// that expire soon or have expired, an unpublished tail of the log, offline conflicts. Derived from the state
    /// every time (nothing to acknowledge and forget): an alarm ends when its cause does.
    public func operatorAlarms(now: Date = Date()) async throws -> OperatorAlarms {
        var alarms: [OperatorAlarms.Alarm] = []
        let verified = try await lastLogVerification()
        let verifiedAt = verified.at
        if verified.ok == false {
            alarms.append(
                .init(severity: .critical, kind: "log_verification_failed", subject: "log", detail: "entry \(verified.number ?? "?") does not verify"))
        } else if verifiedAt.map({ now.timeIntervalSince($0) > Self.verificationMaxAge }) ?? true {
            alarms.append(
                .init(
                    severity: .warning, kind: "log_verification_stale", subject: "log",
                    detail: verifiedAt.map { "last verified \(ISO8601DateFormatter().string(from: $0))" } ?? "never verified"))
        }
        for park in try await store.parks() where park.status == .active {
            let certificates = try await store.certificates(of: .park(park.id)).filter { $0.revokedAt == nil }
            guard let end = certificates.map(\.notAfter).max() else { continue }
            if end <= now {
                alarms.append(
                    .init(
                        severity: .critical, kind: "certificate_expired", subject: park.id.rawValue,
                        detail: "expired \(ISO8601DateFormatter().string(from: end))"))
            } else if end.timeIntervalSince(now) < Self.certificateWarning {
                let days = Int(end.timeIntervalSince(now) / 86_400)
                alarms.append(
                    .init(
                        severity: .warning, kind: "certificate_expiring", subject: park.id.rawValue,
                        detail: "expires \(ISO8601DateFormatter().string(from: end)) (in \(days) days) and was not renewed"))
            }
        }
        let checkpoint = try await store.latestCheckpoint()
        if log.size > (checkpoint?.treeSize ?? 0), now.timeIntervalSince(checkpoint?.createdAt ?? .distantPast) > Self.checkpointMaxAge {
            alarms.append(
                .init(
                    severity: .warning, kind: "checkpoint_behind", subject: "log",
                    detail: "\(log.size - (checkpoint?.treeSize ?? 0)) entries after the latest checkpoint"))
        }
        let conflicts = try await store.passConflicts(park: nil, limit: 1000)
        if !conflicts.isEmpty {
            alarms.append(
                .init(
                    severity: .warning, kind: "offline_conflicts", subject: "passes",
                    detail: "\(conflicts.count)\(conflicts.count == 1000 ? "+" : "") offline entries in conflict"))
        }
        // Parks at their warning share or full (today and ahead), as the capacity statements set them.
        for level in try await store.capacityLevels(from: passes.calendar.day(of: now)) where level.level != .normal {
            let stopped = level.measure == .daily && level.level == .full ? ": sales of that day stopped" : ""
            alarms.append(
                .init(
                    severity: level.level == .full ? .critical : .warning, kind: "capacity_\(level.level.rawValue)", subject: level.park,
                    detail: "\(level.day) \(level.measure.rawValue) capacity: \(level.used) of \(level.capacity)\(stopped) (log index \(level.logIndex))"))
        }
        return OperatorAlarms(at: now, alarms: alarms.sorted { $0.severity.rank > $1.severity.rank })
    }
}
