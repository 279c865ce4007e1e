import Foundation
import ParkFedCrypto
import ParkFedDomain

/// The hub's signed statement that a park's level against one of its capacities changed (``CapacityWatch``): a
/// warning at the configured share, `full` at the capacity (for the daily capacity: sales of that day stop on every
/// channel), `normal` again when places were freed (refunds, exits). Appended to the log, shown to the park's
/// operators and the regulators, and pushed (the compact JWS itself, `application/jose`) to every regulator's
/// registered endpoint.
///
/// JWS `typ`: `parkfed-capacity.level+jwt`, `kid` the hub's key id; filed under the log party `hub`.
public struct CapacityStatement: Codable, Sendable, Hashable {
    public static let type = "capacity.level"
    public static let jwsType = "parkfed-capacity.level+jwt"

    public var id: String
    public var type: String
    public var issuedAt: Date
    public var park: String
    /// The business day (YYYY-MM-DD) the figure is for.
    public var day: String
    public var measure: CapacityMeasure
    public var level: CapacityLevel
    public var previous: CapacityLevel
    /// Places used (daily) or people inside (instantaneous) when the level changed.
    public var used: Int
    public var capacity: Int
    /// The warning share in force, in basis points.
    public var warnBasisPoints: Int
    /// Whether sales of `day` stop at `park` (daily capacity full).
    public var salesStopped: Bool

    public init(
        id: String, issuedAt: Date, park: String, day: String, measure: CapacityMeasure, level: CapacityLevel, previous: CapacityLevel, used: Int,
        capacity: Int, warnBasisPoints: Int
    ) {
        self.id = id
        self.type = Self.type
        self.issuedAt = issuedAt
        self.park = park
        self.day = day
        self.measure = measure
        self.level = level
        self.previous = previous
        self.used = used
        self.capacity = capacity
        self.warnBasisPoints = warnBasisPoints
        self.salesStopped = measure == .daily && level == .full
    }

    enum CodingKeys: String, CodingKey {
        case id, type, park, day, measure, level, previous, used, capacity
        case issuedAt = "issued_at"
        case warnBasisPoints = "warn_basis_points"
        case salesStopped = "sales_stopped"
    }

    public func signed(with key: SigningKey) throws -> String {
        try JWS.sign(payload: try StrictJSON.encoder.encode(self), kid: key.kid, type: Self.jwsType, with: key).compact
    }

    /// Verifies a statement with the hub's key and decodes it strictly.
    public static func verify(_ jws: JWS, hubKey: VerifyingKey) throws -> CapacityStatement {
        guard jws.header.typ == jwsType else { throw WireError("not a capacity statement (typ \(jws.header.typ ?? "none"))") }
        guard jws.isSigned(by: hubKey) else { throw WireError("the statement is not signed by the hub's key") }
        let statement = try StrictJSON.decode(CapacityStatement.self, from: jws.payload)
        guard statement.type == type, statement.used >= 0, statement.capacity > 0 else { throw WireError("not a capacity statement") }
        return statement
    }
}

/// A park's levels as the hub holds them now: what a node shows its operators and what it refuses to sell offline.
public struct CapacityStatus: Codable, Sendable, Hashable {
    public struct Level: Codable, Sendable, Hashable {
        public var park: String
        public var day: String
        public var measure: CapacityMeasure
        public var level: CapacityLevel
        public var used: Int
        public var capacity: Int
        /// The log index of the statement that set it.
        public var logIndex: UInt64?

        public init(park: String, day: String, measure: CapacityMeasure, level: CapacityLevel, used: Int, capacity: Int, logIndex: UInt64?) {
            self.park = park
            self.day = day
            self.measure = measure
            self.level = level
            self.used = used
            self.capacity = capacity
            self.logIndex = logIndex
        }

        enum CodingKeys: String, CodingKey {
            case park, day, measure, level, used, capacity
            case logIndex = "log_index"
        }
    }

    /// Levels above normal, today and ahead (every park's: a combo pass covers other parks).
    public var levels: [Level]
    /// `park day` pairs whose sales stopped (daily capacity full).
    public var salesStopped: [String]
    public var warnBasisPoints: Int

    public init(levels: [Level], warnBasisPoints: Int) {
        self.levels = levels
        self.salesStopped = levels.filter { $0.measure == .daily && $0.level == .full }.map { "\($0.park) \($0.day)" }
        self.warnBasisPoints = warnBasisPoints
    }

    enum CodingKeys: String, CodingKey {
        case levels
        case salesStopped = "sales_stopped"
        case warnBasisPoints = "warn_basis_points"
    }
}
