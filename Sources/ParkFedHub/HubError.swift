import ParkFedDomain

/// An error of the hub outside a request (set-up, configuration, files): a code and a message (``CodedError``).
public typealias HubError = CodedError<HubErrorKind>

public enum HubErrorKind: ErrorKind {}

extension CodedError<HubErrorKind>.Code {
    public static let alreadyInitialized = Self(rawValue: "already_initialized")
    public static let notInitialized = Self(rawValue: "not_initialized")
    public static let invalidConfiguration = Self(rawValue: "invalid_configuration")
    public static let io = Self(rawValue: "io_error")
}
