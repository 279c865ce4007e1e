import ParkFedDomain

/// An error of the durable store: a code and a message (``CodedError``).
public typealias StoreError = CodedError<StoreErrorKind>

public enum StoreErrorKind: ErrorKind {}

extension CodedError<StoreErrorKind>.Code {
    public static let tokenUnknown = Self(rawValue: "token_unknown")
    public static let tokenUsed = Self(rawValue: "token_used")
    public static let tokenExpired = Self(rawValue: "token_expired")
    public static let tokenForOtherPark = Self(rawValue: "token_for_other_park")
    public static let keyInUse = Self(rawValue: "signing_key_in_use")
    public static let parkRevoked = Self(rawValue: "park_revoked")
    public static let notFound = Self(rawValue: "not_found")
    public static let corrupt = Self(rawValue: "store_corrupt")
    public static let cardConflict = Self(rawValue: "card_conflict")
    public static let memberConflict = Self(rawValue: "member_conflict")
    public static let settlementConflict = Self(rawValue: "settlement_conflict")
    public static let invalidState = Self(rawValue: "invalid_state")
    public static let backupInvalid = Self(rawValue: "backup_invalid")
    /// The transaction lost a deadlock (or a serialization conflict) to another and was rolled back: it may run again.
    public static let deadlock = Self(rawValue: "database_deadlock")
    /// A row with the same unique key was inserted by a transaction that committed meanwhile (PostgreSQL).
    public static let uniqueViolation = Self(rawValue: "database_unique_violation")
    /// The database server refused a statement or could not be reached.
    public static let database = Self(rawValue: "database_error")
}
