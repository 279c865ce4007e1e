import ParkFedDomain

/// An error of the federation PKI: a code and a message (``CodedError``).
public typealias PKIError = CodedError<PKIErrorKind>

public enum PKIErrorKind: ErrorKind {}

extension CodedError<PKIErrorKind>.Code {
    public static let malformedPEM = Self(rawValue: "malformed_pem")
    public static let malformedCSR = Self(rawValue: "malformed_csr")
    public static let badCSRSignature = Self(rawValue: "bad_csr_signature")
    public static let unsupportedKey = Self(rawValue: "unsupported_key")
    public static let csrNamesOtherPrincipal = Self(rawValue: "csr_names_other_principal")
    public static let noPrincipal = Self(rawValue: "no_principal")
    public static let malformedCertificate = Self(rawValue: "malformed_certificate")
    public static let io = Self(rawValue: "io_error")
}
