/// A request a rule refuses: what kind of refusal it is, a stable machine-readable code (`snake_case`, what clients
/// branch on), a title and a detail for a person.
///
/// The hub's and the node agent's rules throw it and know nothing of HTTP; the HTTP edge maps each ``Kind`` to one
/// status, once (`ProblemDetails(refusal)` in ParkFedHTTP), and the command line prints the same refusal as text.
public struct Refusal: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The request is malformed or a value is out of range.
        case invalid
        /// No (valid) credential.
        case unauthenticated
        /// The caller may not do this: another park's object, the wrong kind of principal, a card not present.
        case forbidden
        /// What the request names does not exist (for this caller).
        case notFound
        /// The request contradicts the state: already used, already decided, changed meanwhile.
        case conflict
        /// Well-formed, but the rules refuse it (a signature that does not verify, an amount above the balance).
        case unprocessable
        /// What was shown was valid once and has expired (a member code older than its minute).
        case expired
        /// The request is larger than the limit.
        case tooLarge
        /// Too many requests; try again later.
        case tooMany
        /// Something the answer depends on is not reachable now.
        case unavailable
        /// An upstream party (the hub, for a node agent) answered with an error.
        case upstream
        /// The server failed; nothing was changed.
        case failed
    }

    public let kind: Kind
    public let code: String
    public let title: String
    public var detail: String?

    public init(_ kind: Kind, code: String, title: String, detail: String? = nil) {
        self.kind = kind
        self.code = code
        self.title = title
        self.detail = detail
    }

    public var description: String { "\(code): \(detail ?? title)" }
}
