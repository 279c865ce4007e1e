/// An error of the federation PKI: a machine-readable code and a human message.
public struct PKIError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let malformedPEM = Code(rawValue: "malformed_pem")
        public static let malformedCSR = Code(rawValue: "malformed_csr")
        public static let badCSRSignature = Code(rawValue: "bad_csr_signature")
        public static let unsupportedKey = Code(rawValue: "unsupported_key")
        public static let csrNamesOtherPrincipal = Code(rawValue: "csr_names_other_principal")
        public static let noPrincipal = Code(rawValue: "no_principal")
        public static let malformedCertificate = Code(rawValue: "malformed_certificate")
        public static let io = Code(rawValue: "io_error")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
