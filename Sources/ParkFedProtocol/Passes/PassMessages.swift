import Foundation
import ParkFedDomain

/// `POST /v1/passes/entries` (hub): a park's gate asks the hub to count an entry. The body is the park's signed
/// `pass.redeemed` assertion, which carries the scanned code; the hub decides and, when it admits, logs the
/// assertion and counts the entry in the same transaction.
public struct RedeemRequest: Codable, Sendable {
    public var assertion: String
    public init(assertion: String) { self.assertion = assertion }
}

/// The hub's answer to a gate: `allow` (the entry is counted and logged) or `deny` with a machine reason.
public struct RedeemResponse: Codable, Sendable, Hashable {
    public enum Decision: String, Codable, Sendable { case allow, deny }
    public var decision: Decision
    public var reason: String?
    public var detail: String?
    public var passID: String
    public var entriesLeft: Int?
    public var activatedOn: String?
    public var usableUntil: String?
    public var logIndex: UInt64?

    public init(
        decision: Decision, reason: String? = nil, detail: String? = nil, passID: String, entriesLeft: Int? = nil,
        activatedOn: String? = nil, usableUntil: String? = nil, logIndex: UInt64? = nil
    ) {
        self.decision = decision
        self.reason = reason
        self.detail = detail
        self.passID = passID
        self.entriesLeft = entriesLeft
        self.activatedOn = activatedOn
        self.usableUntil = usableUntil
        self.logIndex = logIndex
    }

    enum CodingKeys: String, CodingKey {
        case decision, reason, detail
        case passID = "pass_id"
        case entriesLeft = "entries_left"
        case activatedOn = "activated_on"
        case usableUntil = "usable_until"
        case logIndex = "log_index"
    }
}

/// `POST /v1/passes/{id}/refund` and `/transfer` (hub): the issuing park's signed `pass.refunded` or
/// `pass.transferred` assertion. The hub checks it against the pass's state in the same transaction that logs it.
public struct PassChangeRequest: Codable, Sendable {
    public var assertion: String
    public init(assertion: String) { self.assertion = assertion }
}

/// `GET /v1/passes/{id}` (hub): a pass as the hub knows it, for its issuing park and clearing staff.
public struct PassView: Codable, Sendable, Hashable {
    public struct Entries: Codable, Sendable, Hashable {
        public var park: String
        public var count: Int
        public init(park: String, count: Int) {
            self.park = park
            self.count = count
        }
    }
    public var passID: String
    public var product: String
    public var issuer: String
    public var generation: Int
    public var state: String
    public var validFrom: String
    public var validUntil: String
    public var activatedOn: String?
    public var usableUntil: String
    public var entries: [Entries]
    public var entriesUsed: Int
    public var refundDueMinor: Int64
    public var refundedMinor: Int64?
    public var currency: String

    public init(
        passID: String, product: String, issuer: String, generation: Int, state: String, validFrom: String, validUntil: String,
        activatedOn: String?, usableUntil: String, entries: [Entries], entriesUsed: Int, refundDueMinor: Int64, refundedMinor: Int64?, currency: String
    ) {
        self.passID = passID
        self.product = product
        self.issuer = issuer
        self.generation = generation
        self.state = state
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.activatedOn = activatedOn
        self.usableUntil = usableUntil
        self.entries = entries
        self.entriesUsed = entriesUsed
        self.refundDueMinor = refundDueMinor
        self.refundedMinor = refundedMinor
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case product, issuer, generation, state, entries, currency
        case passID = "pass_id"
        case validFrom = "valid_from"
        case validUntil = "valid_until"
        case activatedOn = "activated_on"
        case usableUntil = "usable_until"
        case entriesUsed = "entries_used"
        case refundDueMinor = "refund_due_minor"
        case refundedMinor = "refunded_minor"
    }
}

/// `GET /v1/passes/revocations?after=N` (hub): refunded passes and superseded generations, in order, for gates.
public struct PassRevocations: Codable, Sendable, Hashable {
    public struct Entry: Codable, Sendable, Hashable {
        public var seq: Int64
        public var passID: String
        /// Codes below this generation are refused; a refunded pass is refused whatever its generation.
        public var minimumGeneration: Int
        public var refunded: Bool

        public init(seq: Int64, passID: String, minimumGeneration: Int, refunded: Bool) {
            self.seq = seq
            self.passID = passID
            self.minimumGeneration = minimumGeneration
            self.refunded = refunded
        }

        enum CodingKeys: String, CodingKey {
            case seq, refunded
            case passID = "pass_id"
            case minimumGeneration = "minimum_generation"
        }
    }
    public var revocations: [Entry]
    public var last: Int64

    public init(revocations: [Entry], last: Int64) {
        self.revocations = revocations
        self.last = last
    }
}

/// `GET /v1/passes/conflicts` (hub): entries admitted offline that the hub would have refused. Both records are
/// kept (the entry is in the log); none of them creates an obligation until clearing staff resolve it.
public struct PassConflicts: Codable, Sendable, Hashable {
    public struct Conflict: Codable, Sendable, Hashable {
        public var entryID: String
        public var passID: String
        public var park: String
        public var issuer: String
        public var reason: String
        public var enteredAt: Date
        public var logIndex: UInt64

        public init(entryID: String, passID: String, park: String, issuer: String, reason: String, enteredAt: Date, logIndex: UInt64) {
            self.entryID = entryID
            self.passID = passID
            self.park = park
            self.issuer = issuer
            self.reason = reason
            self.enteredAt = enteredAt
            self.logIndex = logIndex
        }

        enum CodingKeys: String, CodingKey {
            case park, issuer, reason
            case entryID = "entry_id"
            case passID = "pass_id"
            case enteredAt = "entered_at"
            case logIndex = "log_index"
        }
    }
    public var conflicts: [Conflict]

    public init(conflicts: [Conflict]) { self.conflicts = conflicts }
}

/// `POST /v1/passes/{id}/visitor-links` (the selling park): the code of the pass's current generation.
public struct VisitorLinkRequest: Codable, Sendable, Hashable {
    public var code: String
    public init(code: String) { self.code = code }
}

/// A visitor link: `path` (`/p/<token>`) on the hub's public address; the token is shown this once.
public struct VisitorLink: Codable, Sendable, Hashable {
    public var passID: String
    public var generation: Int
    public var token: String
    public var path: String
    public init(passID: String, generation: Int, token: String, path: String) {
        self.passID = passID
        self.generation = generation
        self.token = token
        self.path = path
    }
    enum CodingKeys: String, CodingKey {
        case generation, token, path
        case passID = "pass_id"
    }
}

/// `POST /v1/sales/{id}/visitor-link` at the node agent: the link to print or send to the visitor.
public struct VisitorLinkAnswer: Codable, Sendable, Hashable {
    public var passID: String
    public var generation: Int
    public var url: String
    public init(passID: String, generation: Int, url: String) {
        self.passID = passID
        self.generation = generation
        self.url = url
    }
    enum CodingKeys: String, CodingKey {
        case generation, url
        case passID = "pass_id"
    }
}
