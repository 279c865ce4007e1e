import ParkFedDomain

/// An error of signing and verifying: a code and a message (``CodedError``).
public typealias CryptoError = CodedError<CryptoErrorKind>

public enum CryptoErrorKind: ErrorKind {}

extension CodedError<CryptoErrorKind>.Code {
    public static let malformedJWS = Self(rawValue: "malformed_jws")
    public static let unsupportedAlgorithm = Self(rawValue: "unsupported_algorithm")
    public static let badSignature = Self(rawValue: "bad_signature")
    public static let unknownKey = Self(rawValue: "unknown_key")
    public static let malformedKey = Self(rawValue: "malformed_key")
    public static let malformedSealed = Self(rawValue: "malformed_sealed_value")
    /// Stored log tiles or leaf hashes that do not make the tree their size says.
    public static let malformedLog = Self(rawValue: "malformed_log")
}
