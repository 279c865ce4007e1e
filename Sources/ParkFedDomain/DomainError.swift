/// An error of the domain core: a machine-readable code and a human message.
///
/// Errors are structs with codes, as in swift-certificates, so that callers can branch on ``code`` and show
/// ``message`` to a person.
public struct DomainError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidParkID = Code(rawValue: "invalid_park_id")
        public static let invalidPrincipal = Code(rawValue: "invalid_principal")
        public static let invalidAmount = Code(rawValue: "invalid_amount")
        public static let currencyMismatch = Code(rawValue: "currency_mismatch")
        public static let invalidCurrency = Code(rawValue: "invalid_currency")
        public static let invalidSplit = Code(rawValue: "invalid_split")
        public static let overflow = Code(rawValue: "overflow")
        public static let insufficientBalance = Code(rawValue: "insufficient_balance")
        public static let unbalanced = Code(rawValue: "unbalanced")
        public static let cardBlocked = Code(rawValue: "card_blocked")
        /// A card-present operation without a valid, fresh card cryptogram (or member code).
        public static let cardNotPresent = Code(rawValue: "card_not_present")
        public static let unknownRequest = Code(rawValue: "unknown_request")
        public static let requestConflict = Code(rawValue: "request_conflict")
        public static let invalidState = Code(rawValue: "invalid_state")
        public static let invalidDocument = Code(rawValue: "invalid_document")
        public static let invalidProduct = Code(rawValue: "invalid_product")
        public static let notValidHere = Code(rawValue: "not_valid_here")
        public static let invalidDate = Code(rawValue: "invalid_date")
        public static let invalidTimeZone = Code(rawValue: "invalid_time_zone")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
