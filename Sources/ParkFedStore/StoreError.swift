/// An error of the durable store: a machine-readable code and a human message.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let tokenUnknown = Code(rawValue: "token_unknown")
        public static let tokenUsed = Code(rawValue: "token_used")
        public static let tokenExpired = Code(rawValue: "token_expired")
        public static let tokenForOtherPark = Code(rawValue: "token_for_other_park")
        public static let keyInUse = Code(rawValue: "signing_key_in_use")
        public static let parkRevoked = Code(rawValue: "park_revoked")
        public static let notFound = Code(rawValue: "not_found")
        public static let corrupt = Code(rawValue: "store_corrupt")
        public static let cardConflict = Code(rawValue: "card_conflict")
        public static let memberConflict = Code(rawValue: "member_conflict")
        public static let settlementConflict = Code(rawValue: "settlement_conflict")
        public static let invalidState = Code(rawValue: "invalid_state")
        public static let backupInvalid = Code(rawValue: "backup_invalid")
        /// The database server refused a statement or could not be reached.
        public static let database = Code(rawValue: "database_error")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
