/// An error from signing or verifying: a machine-readable code and a human message.
public struct CryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let malformedJWS = Code(rawValue: "malformed_jws")
        public static let unsupportedAlgorithm = Code(rawValue: "unsupported_algorithm")
        public static let badSignature = Code(rawValue: "bad_signature")
        public static let unknownKey = Code(rawValue: "unknown_key")
        public static let malformedKey = Code(rawValue: "malformed_key")
        public static let malformedSealed = Code(rawValue: "malformed_sealed_value")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
