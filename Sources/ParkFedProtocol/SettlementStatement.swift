import Foundation
import ParkFedCrypto

/// A clearing step the hub writes into its log, signed with its own key, so that a park (or anyone holding the hub's
/// key) can verify who released a batch and how a dispute went: `batch.approved` (naming who ran the batch and who
/// released it, and the signed batch's digest), `dispute.filed`, `dispute.accepted` (with the period its adjustment
/// lines went into), `dispute.rejected`, and `payment.marked` (a position marked paid by hand, with who and why).
///
/// JWS `typ`: `parkfed-settlement.statement+jwt`, `kid` the hub's key id; filed under the log party `hub`.
public struct SettlementStatement: Codable, Sendable, Hashable {
    public static let type = "settlement.statement"
    public static let jwsType = "parkfed-settlement.statement+jwt"

    public enum Action: String, Codable, Sendable, Hashable, CaseIterable {
        case batchApproved = "batch.approved"
        case disputeFiled = "dispute.filed"
        case disputeAccepted = "dispute.accepted"
        case disputeRejected = "dispute.rejected"
        case paymentMarked = "payment.marked"
    }

    public var id: String
    public var type: String
    public var action: Action
    public var issuedAt: Date
    public var batch: String
    /// Who took the step (`clearing:C02`, or `park:P002` for a dispute filed).
    public var principal: String
    /// For `batch.approved`: who ran (or re-ran) the batch.
    public var ranBy: [String]?
    /// For `batch.approved`: the SHA-256 (hex) of the signed batch's compact JWS.
    public var batchDigest: String?
    public var dispute: String?
    public var park: String?
    public var obligationSeq: Int64?
    public var amountMinor: Int64?
    public var assertionIDs: [String]?
    public var reason: String?
    /// For `dispute.accepted`: the business day whose batch carries the adjustment.
    public var adjustmentPeriod: String?
    /// For `payment.marked`: the bank reference.
    public var reference: String?

    public init(id: String, action: Action, issuedAt: Date, batch: String, principal: String) {
        self.id = id
        self.type = Self.type
        self.action = action
        self.issuedAt = issuedAt
        self.batch = batch
        self.principal = principal
    }

    enum CodingKeys: String, CodingKey {
        case id, type, action, batch, principal, dispute, park, reason, reference
        case issuedAt = "issued_at"
        case ranBy = "ran_by"
        case batchDigest = "batch_digest"
        case obligationSeq = "obligation_seq"
        case amountMinor = "amount_minor"
        case assertionIDs = "assertion_ids"
        case adjustmentPeriod = "adjustment_period"
    }

    public func signed(with key: SigningKey) throws -> String {
        try JWS.sign(payload: try StrictJSON.encoder.encode(self), kid: key.kid, type: Self.jwsType, with: key).compact
    }

    /// Verifies a statement with the hub's key and decodes it strictly.
    public static func verify(_ jws: JWS, hubKey: VerifyingKey) throws -> SettlementStatement {
        guard jws.header.typ == jwsType else { throw WireError("not a settlement statement (typ \(jws.header.typ ?? "none"))") }
        guard jws.isSigned(by: hubKey) else { throw WireError("the statement is not signed by the hub's key") }
        let statement = try StrictJSON.decode(SettlementStatement.self, from: jws.payload)
        guard statement.type == type else { throw WireError("not a settlement statement") }
        return statement
    }
}

/// The hub's own statements in its log, whichever kind: verified with the hub's key.
public enum HubStatement {
    /// The statement's id when `compact` is a hub statement signed by `hubKey`, else nil.
    public static func verifiedID(_ jws: JWS, hubKey: VerifyingKey) -> String? {
        switch jws.header.typ {
        case RegulatorQueryStatement.jwsType: (try? RegulatorQueryStatement.verify(jws, hubKey: hubKey))?.id
        case SettlementStatement.jwsType: (try? SettlementStatement.verify(jws, hubKey: hubKey))?.id
        case CapacityStatement.jwsType: (try? CapacityStatement.verify(jws, hubKey: hubKey))?.id
        case RetentionStatement.jwsType: (try? RetentionStatement.verify(jws, hubKey: hubKey))?.id
        default: nil
        }
    }
}
