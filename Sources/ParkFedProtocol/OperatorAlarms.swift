import Foundation

/// What needs the federation operator now (`GET /v1/operator/alarms`, and the operator's console page), worst first.
public struct OperatorAlarms: Codable, Sendable, Hashable {
    public enum Severity: String, Codable, Sendable, Hashable {
        case warning, critical

        /// Sort order: critical first.
        public var rank: Int { self == .critical ? 1 : 0 }
    }

    public struct Alarm: Codable, Sendable, Hashable {
        public var severity: Severity
        /// A stable code: `log_verification_failed`, `log_verification_stale`, `certificate_expired`,
        /// `certificate_expiring`, `checkpoint_behind`, `offline_conflicts`.
        public var kind: String
        /// What it is about: a park id, `log` or `passes`.
        public var subject: String
        public var detail: String

        public init(severity: Severity, kind: String, subject: String, detail: String) {
            self.severity = severity
            self.kind = kind
            self.subject = subject
            self.detail = detail
        }
    }

    public var at: Date
    public var alarms: [Alarm]

    public init(at: Date, alarms: [Alarm]) {
        self.at = at
        self.alarms = alarms
    }
}
