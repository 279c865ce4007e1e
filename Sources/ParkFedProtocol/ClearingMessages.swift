import Foundation

/// One business day in the settlement calendar (`GET /v1/settlement/calendar`, `parkfed settle calendar`).
public struct SettlementDay: Codable, Sendable, Hashable {
    public var day: String
    /// open, closed, approved, files_issued, reconciled, final.
    public var state: String
    /// The cut-off (local midnight after the day), ISO 8601.
    public var cutOff: String
    /// When its payments are due (the settlement calendar's bank day).
    public var paymentDay: String
    public var batch: String?
    public var approvedBy: String?
    public var openExceptions: Int
    public var openDisputes: Int

    public init(
        day: String, state: String, cutOff: String, paymentDay: String, batch: String?, approvedBy: String?, openExceptions: Int, openDisputes: Int
    ) {
        self.day = day
        self.state = state
        self.cutOff = cutOff
        self.paymentDay = paymentDay
        self.batch = batch
        self.approvedBy = approvedBy
        self.openExceptions = openExceptions
        self.openDisputes = openDisputes
    }

    enum CodingKeys: String, CodingKey {
        case day, state, batch
        case cutOff = "cut_off"
        case paymentDay = "payment_day"
        case approvedBy = "approved_by"
        case openExceptions = "open_exceptions"
        case openDisputes = "open_disputes"
    }
}

public struct SettlementCalendarReport: Codable, Sendable, Hashable {
    public var timeZone: String
    public var days: [SettlementDay]
    public init(timeZone: String, days: [SettlementDay]) {
        self.timeZone = timeZone
        self.days = days
    }
    enum CodingKeys: String, CodingKey {
        case days
        case timeZone = "time_zone"
    }
}

/// `POST /v1/settlement/disputes` (a park): dispute one obligation line of a closed batch.
public struct DisputeRequest: Codable, Sendable, Hashable {
    public var batch: String
    public var seq: Int64
    public var reason: String
    public init(batch: String, seq: Int64, reason: String) {
        self.batch = batch
        self.seq = seq
        self.reason = reason
    }
}

/// `POST /v1/settlement/disputes/{id}/decision` (clearing): accept or reject, with a reason.
public struct DisputeDecisionRequest: Codable, Sendable, Hashable {
    public var decision: String
    public var reason: String
    public init(decision: String, reason: String) {
        self.decision = decision
        self.reason = reason
    }
}

/// A dispute and every signed step of it.
public struct DisputeView: Codable, Sendable, Hashable {
    public struct Step: Codable, Sendable, Hashable {
        public var action: String
        public var logIndex: UInt64
        /// The hub's statement (compact JWS): verify it with the hub's key.
        public var statement: String
        public init(action: String, logIndex: UInt64, statement: String) {
            self.action = action
            self.logIndex = logIndex
            self.statement = statement
        }
        enum CodingKeys: String, CodingKey {
            case action, statement
            case logIndex = "log_index"
        }
    }
    public var id: String
    public var batch: String
    public var seq: Int64
    public var park: String
    public var from: String
    public var to: String
    public var amountMinor: Int64
    public var feeMinor: Int64
    public var assertionIDs: [String]
    public var reason: String
    /// open, accepted, rejected.
    public var state: String
    public var filedAt: Date
    public var decidedBy: String?
    public var decisionReason: String?
    public var adjustmentPeriod: String?
    public var steps: [Step]

    public init(
        id: String, batch: String, seq: Int64, park: String, from: String, to: String, amountMinor: Int64, feeMinor: Int64, assertionIDs: [String],
        reason: String, state: String, filedAt: Date, decidedBy: String?, decisionReason: String?, adjustmentPeriod: String?, steps: [Step]
    ) {
        self.id = id
        self.batch = batch
        self.seq = seq
        self.park = park
        self.from = from
        self.to = to
        self.amountMinor = amountMinor
        self.feeMinor = feeMinor
        self.assertionIDs = assertionIDs
        self.reason = reason
        self.state = state
        self.filedAt = filedAt
        self.decidedBy = decidedBy
        self.decisionReason = decisionReason
        self.adjustmentPeriod = adjustmentPeriod
        self.steps = steps
    }

    enum CodingKeys: String, CodingKey {
        case id, batch, seq, park, from, to, reason, state, steps
        case amountMinor = "amount_minor"
        case feeMinor = "fee_minor"
        case assertionIDs = "assertion_ids"
        case filedAt = "filed_at"
        case decidedBy = "decided_by"
        case decisionReason = "decision_reason"
        case adjustmentPeriod = "adjustment_period"
    }
}

public struct DisputeList: Codable, Sendable, Hashable {
    public var disputes: [DisputeView]
    public init(disputes: [DisputeView]) { self.disputes = disputes }
}

/// One line of an imported statement and what reconciliation made of it.
public struct StatementLine: Codable, Sendable, Hashable {
    public var entryRef: String
    public var direction: String
    public var amountMinor: Int64
    /// matched, partly_paid, overpaid, unknown, duplicate.
    public var outcome: String
    public var batch: String?
    public var park: String?
    public var reference: String?
    public var expectedMinor: Int64?
    public var receivedMinor: Int64?

    public init(
        entryRef: String, direction: String, amountMinor: Int64, outcome: String, batch: String?, park: String?, reference: String?,
        expectedMinor: Int64?, receivedMinor: Int64?
    ) {
        self.entryRef = entryRef
        self.direction = direction
        self.amountMinor = amountMinor
        self.outcome = outcome
        self.batch = batch
        self.park = park
        self.reference = reference
        self.expectedMinor = expectedMinor
        self.receivedMinor = receivedMinor
    }

    enum CodingKeys: String, CodingKey {
        case direction, outcome, batch, park, reference
        case entryRef = "entry_ref"
        case amountMinor = "amount_minor"
        case expectedMinor = "expected_minor"
        case receivedMinor = "received_minor"
    }
}

/// `POST /v1/settlement/statements` (clearing): what an imported statement did.
public struct ReconciliationReport: Codable, Sendable, Hashable {
    public var statement: String
    public var lines: [StatementLine]
    /// Positions the statement completed (`S-2026-12-01 P002`).
    public var paid: [String]
    public init(statement: String, lines: [StatementLine], paid: [String]) {
        self.statement = statement
        self.lines = lines
        self.paid = paid
    }
}

/// An entry reconciliation could not settle by itself, until clearing staff resolve it with a reason.
public struct ClearingException: Codable, Sendable, Hashable {
    public var id: Int64
    public var statement: String
    public var entryRef: String
    public var outcome: String
    public var direction: String
    public var amountMinor: Int64
    public var batch: String?
    public var park: String?
    public var detail: String
    public var state: String
    public var resolvedBy: String?
    public var resolution: String?

    public init(
        id: Int64, statement: String, entryRef: String, outcome: String, direction: String, amountMinor: Int64, batch: String?, park: String?,
        detail: String, state: String, resolvedBy: String?, resolution: String?
    ) {
        self.id = id
        self.statement = statement
        self.entryRef = entryRef
        self.outcome = outcome
        self.direction = direction
        self.amountMinor = amountMinor
        self.batch = batch
        self.park = park
        self.detail = detail
        self.state = state
        self.resolvedBy = resolvedBy
        self.resolution = resolution
    }

    enum CodingKeys: String, CodingKey {
        case id, statement, outcome, direction, batch, park, detail, state, resolution
        case entryRef = "entry_ref"
        case amountMinor = "amount_minor"
        case resolvedBy = "resolved_by"
    }
}

public struct ClearingExceptionList: Codable, Sendable, Hashable {
    public var exceptions: [ClearingException]
    public init(exceptions: [ClearingException]) { self.exceptions = exceptions }
}

/// `POST /v1/settlement/exceptions/{id}/resolve` (clearing).
public struct ExceptionResolution: Codable, Sendable, Hashable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// `GET /v1/settlement/batches/{id}/files` (clearing): the payment files of an approved batch.
public struct PaymentFileSet: Codable, Sendable, Hashable {
    public var batch: String
    public var paymentDay: String
    public var pain001: String?
    public var pain008: String?
    public var noticesCSV: String
    public init(batch: String, paymentDay: String, pain001: String?, pain008: String?, noticesCSV: String) {
        self.batch = batch
        self.paymentDay = paymentDay
        self.pain001 = pain001
        self.pain008 = pain008
        self.noticesCSV = noticesCSV
    }
    enum CodingKeys: String, CodingKey {
        case batch
        case paymentDay = "payment_day"
        case pain001 = "pain_001"
        case pain008 = "pain_008"
        case noticesCSV = "notices_csv"
    }
}
