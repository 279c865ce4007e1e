/// An error of the hub outside a request: set-up, configuration, files.
public struct HubError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let alreadyInitialized = Code(rawValue: "already_initialized")
        public static let notInitialized = Code(rawValue: "not_initialized")
        public static let invalidConfiguration = Code(rawValue: "invalid_configuration")
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
