import Foundation
import ParkFedCrypto

/// A fact the hub itself writes into its log, signed with the hub's own key: one answered regulator query (who asked,
/// what, how many records the answer held, when). Parks' assertions and these statements share one Merkle log, so a
/// query cannot be dropped from the audit without breaking every later checkpoint.
///
/// The query text names a document only in its masked form. JWS `typ`: `parkfed-regulator.query+jwt`, `kid` the
/// hub's key id; schema `schemas/regulator-query-statement.schema.json`.
public struct RegulatorQueryStatement: Codable, Sendable, Hashable {
    public static let type = "regulator.query"
    public static let jwsType = "parkfed-regulator.query+jwt"
    /// The principal every hub statement is filed under in the log.
    public static let logParty = "hub"

    public var id: String
    public var type: String
    public var issuedAt: Date
    /// `regulator:<id>`.
    public var principal: String
    /// What was asked, e.g. `holder resident_id 1101**********002X 2026-11-18..2026-11-25`.
    public var query: String
    /// How many records the answer held.
    public var records: Int

    public init(id: String, issuedAt: Date, principal: String, query: String, records: Int) {
        self.id = id
        self.type = Self.type
        self.issuedAt = issuedAt
        self.principal = principal
        self.query = query
        self.records = records
    }

    enum CodingKeys: String, CodingKey {
        case id, type, principal, query, records
        case issuedAt = "issued_at"
    }

    /// The compact JWS the hub appends to its log.
    public func signed(with key: SigningKey) throws -> String {
        try JWS.sign(payload: try StrictJSON.encoder.encode(self), kid: key.kid, type: Self.jwsType, with: key).compact
    }

    /// Verifies a statement with the hub's key and decodes it strictly.
    public static func verify(_ jws: JWS, hubKey: VerifyingKey) throws -> RegulatorQueryStatement {
        guard jws.header.typ == jwsType else { throw WireError("not a regulator query statement (typ \(jws.header.typ ?? "none"))") }
        guard jws.isSigned(by: hubKey) else { throw WireError("the statement is not signed by the hub's key") }
        let statement = try StrictJSON.decode(RegulatorQueryStatement.self, from: jws.payload)
        guard statement.type == type, statement.records >= 0 else { throw WireError("not a regulator query statement") }
        return statement
    }
}
