/// An error of the node agent: a machine-readable code and a human message.
public struct NodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let notEnrolled = Code(rawValue: "not_enrolled")
        public static let alreadyEnrolled = Code(rawValue: "already_enrolled")
        public static let invalidConfiguration = Code(rawValue: "invalid_configuration")
        public static let hubRefused = Code(rawValue: "hub_refused")
        public static let hubUnreachable = Code(rawValue: "hub_unreachable")
        public static let badResponse = Code(rawValue: "bad_hub_response")
        public static let trustListRejected = Code(rawValue: "trust_list_rejected")
    }

    public let code: Code
    public let message: String
    /// The hub's problem code when the hub refused.
    public var problemCode: String?

    public init(_ code: Code, _ message: String, problemCode: String? = nil) {
        self.code = code
        self.message = message
        self.problemCode = problemCode
    }

    public var description: String { "\(code): \(message)" }
}
