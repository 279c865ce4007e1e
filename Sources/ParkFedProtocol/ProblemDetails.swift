/// An RFC 9457 problem details body (`application/problem+json`), with a machine-readable `code`.
public struct ProblemDetails: Codable, Sendable, Hashable, Error, CustomStringConvertible {
    /// A URI naming the problem type: `urn:parkfed:problem:<code>`.
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String?
    /// The machine-readable reason (also the last part of `type`).
    public var code: String

    public init(status: Int, code: String, title: String, detail: String? = nil) {
        self.type = "urn:parkfed:problem:\(code)"
        self.title = title
        self.status = status
        self.detail = detail
        self.code = code
    }

    public static let mediaType = "application/problem+json"

    public var description: String { "\(status) \(code): \(detail ?? title)" }
}

extension ProblemDetails {
    /// The title in `language` when the catalogue has one for this code (`problem.<code>`); the detail, which names
    /// the particular values, stays as it is.
    public func localized(_ language: MessageCatalog.Language) -> ProblemDetails {
        guard language != .en, MessageCatalog.has("problem.\(code)") else { return self }
        var copy = self
        if copy.detail == nil { copy.detail = title }
        copy.title = MessageCatalog.text("problem.\(code)", language)
        return copy
    }
}
