import Foundation
import ParkFedCrypto

/// The hub's signed statement of a retention run: real-name data of passes whose validity ended more than the
/// retention period ago was removed. It names the passes, how many holder records went, and every log entry whose
/// stored assertion was redacted (it carried the holder sealed to the hub), with that entry's leaf hash, so that the
/// log stays verifiable: `verify-log` takes a redacted entry's stored leaf hash where this statement vouches for it.
///
/// JWS `typ`: `parkfed-retention.purged+jwt`, `kid` the hub's key id; filed under the log party `hub`.
public struct RetentionStatement: Codable, Sendable, Hashable {
    public static let type = "retention.purged"
    public static let jwsType = "parkfed-retention.purged+jwt"
    /// The most entries one statement redacts (a run writes as many statements as it needs).
    public static let maximumEntries = 500

    public struct Redacted: Codable, Sendable, Hashable {
        public var index: UInt64
        /// The entry's RFC 9162 leaf hash (base64url), as it stays in the tree.
        public var leafHash: String
        public init(index: UInt64, leafHash: String) {
            self.index = index
            self.leafHash = leafHash
        }
        enum CodingKeys: String, CodingKey {
            case index
            case leafHash = "leaf_hash"
        }
    }

    public var id: String
    public var type: String
    public var issuedAt: Date
    /// The retention period in days after a pass's validity ends, and the law it follows.
    public var retentionDays: Int
    public var basis: String
    /// Passes whose validity ended before this day were reduced.
    public var endedBefore: String
    public var passes: [String]
    public var holdersRemoved: Int
    public var redacted: [Redacted]
    /// A member's erasure at their request (then `passes` is empty): the member id.
    public var member: String?

    public init(
        id: String, issuedAt: Date, retentionDays: Int, basis: String, endedBefore: String, passes: [String], holdersRemoved: Int, redacted: [Redacted],
        member: String? = nil
    ) {
        self.member = member
        self.id = id
        self.type = Self.type
        self.issuedAt = issuedAt
        self.retentionDays = retentionDays
        self.basis = basis
        self.endedBefore = endedBefore
        self.passes = passes
        self.holdersRemoved = holdersRemoved
        self.redacted = redacted
    }

    enum CodingKeys: String, CodingKey {
        case id, type, basis, passes, redacted, member
        case issuedAt = "issued_at"
        case retentionDays = "retention_days"
        case endedBefore = "ended_before"
        case holdersRemoved = "holders_removed"
    }

    public func signed(with key: SigningKey) throws -> String {
        try JWS.sign(payload: try StrictJSON.encoder.encode(self), kid: key.kid, type: Self.jwsType, with: key).compact
    }

    /// Verifies a statement with the hub's key and decodes it strictly.
    public static func verify(_ jws: JWS, hubKey: VerifyingKey) throws -> RetentionStatement {
        guard jws.header.typ == jwsType else { throw WireError("not a retention statement (typ \(jws.header.typ ?? "none"))") }
        guard jws.isSigned(by: hubKey) else { throw WireError("the statement is not signed by the hub's key") }
        let statement = try StrictJSON.decode(RetentionStatement.self, from: jws.payload)
        guard statement.type == type, statement.redacted.count <= maximumEntries else { throw WireError("not a retention statement") }
        return statement
    }
}
