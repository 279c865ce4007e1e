/// The one shape of the project's errors, as in swift-certificates: a machine-readable code (`snake_case`, stable,
/// what callers branch on and what problem details carry) and a message for a person. Each module names its kind
/// (`DomainError`, `CryptoError`, `PKIError`, `StoreError`, `HubError`) and declares its codes on ``Code``.
public struct CodedError<Kind: ErrorKind>: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// What a module's errors are about; only a tag, so that errors of different modules are different types.
public protocol ErrorKind: Sendable {}
