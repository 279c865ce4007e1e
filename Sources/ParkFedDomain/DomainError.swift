/// An error of the domain core: a code and a message (``CodedError``).
public typealias DomainError = CodedError<DomainErrorKind>

public enum DomainErrorKind: ErrorKind {}

extension CodedError<DomainErrorKind>.Code {
    public static let invalidParkID = Self(rawValue: "invalid_park_id")
    public static let invalidPrincipal = Self(rawValue: "invalid_principal")
    public static let invalidAmount = Self(rawValue: "invalid_amount")
    public static let currencyMismatch = Self(rawValue: "currency_mismatch")
    public static let invalidCurrency = Self(rawValue: "invalid_currency")
    public static let invalidSplit = Self(rawValue: "invalid_split")
    public static let overflow = Self(rawValue: "overflow")
    public static let insufficientBalance = Self(rawValue: "insufficient_balance")
    public static let unbalanced = Self(rawValue: "unbalanced")
    public static let cardBlocked = Self(rawValue: "card_blocked")
    /// A card-present operation without a valid, fresh card cryptogram (or member code).
    public static let cardNotPresent = Self(rawValue: "card_not_present")
    public static let unknownRequest = Self(rawValue: "unknown_request")
    public static let requestConflict = Self(rawValue: "request_conflict")
    public static let invalidState = Self(rawValue: "invalid_state")
    public static let invalidDocument = Self(rawValue: "invalid_document")
    public static let invalidProduct = Self(rawValue: "invalid_product")
    public static let notValidHere = Self(rawValue: "not_valid_here")
    public static let invalidDate = Self(rawValue: "invalid_date")
    public static let invalidTimeZone = Self(rawValue: "invalid_time_zone")
    public static let invalidCalendar = Self(rawValue: "invalid_calendar")
    public static let invalidCapacity = Self(rawValue: "invalid_capacity")
}
