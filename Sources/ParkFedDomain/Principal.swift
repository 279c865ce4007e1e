/// Who is speaking on a connection. Principals come only from verified certificates.
///
/// Text form: `park:P001`, `regulator:R01`, `clearing:C01`, `operator:O01` (the federation's operator staff, who
/// admit and revoke parks through the console), `reseller:KLOOK` (an online travel agency or mini-program platform
/// selling through the OCTO API, with an API key or a certificate), `hub`. In certificates the principal is a SAN URI
/// `urn:parkfed:` followed by the text form (``uri``).
public enum Principal: Hashable, Sendable, CustomStringConvertible, Codable {
    case park(ParkID)
    case regulator(String)
    case clearing(String)
    case `operator`(String)
    case reseller(String)
    case hub

    /// The roles a certificate can carry.
    public enum Role: String, Sendable, CaseIterable, Codable {
        case park, regulator, clearing, `operator`, reseller, hub
    }

    public static let uriPrefix = "urn:parkfed:"

    public var role: Role {
        switch self {
        case .park: .park
        case .regulator: .regulator
        case .clearing: .clearing
        case .operator: .operator
        case .reseller: .reseller
        case .hub: .hub
        }
    }

    /// The id after the role (`P001` for `park:P001`); `nil` for the hub.
    public var id: String? {
        switch self {
        case .park(let park): park.rawValue
        case .regulator(let id), .clearing(let id), .operator(let id), .reseller(let id): id
        case .hub: nil
        }
    }

    public var description: String {
        if let id { return "\(role.rawValue):\(id)" }
        return role.rawValue
    }

    /// The SAN URI that carries this principal in a certificate.
    public var uri: String { Self.uriPrefix + description }

    /// Builds a principal from a role and an id; the id follows the same rules as a park id.
    public init(role: Role, id: String?) throws(DomainError) {
        switch role {
        case .hub:
            guard id == nil || id == "" else { throw DomainError(.invalidPrincipal, "the hub principal takes no id") }
            self = .hub
        case .park:
            self = .park(try ParkID(id ?? ""))
        case .regulator, .clearing, .operator, .reseller:
            guard let id, ParkID.isValid(id) else {
                throw DomainError(.invalidPrincipal, "\(role.rawValue) id must be 2-32 characters of A-Z, 0-9, '-' or '_', starting with a letter")
            }
            switch role {
            case .regulator: self = .regulator(id)
            case .clearing: self = .clearing(id)
            case .reseller: self = .reseller(id)
            default: self = .operator(id)
            }
        }
    }

    /// Parses the text form (`park:P001`).
    public init(parsing text: String) throws(DomainError) {
        if text == "hub" { self = .hub; return }
        guard let colon = text.firstIndex(of: ":"), let role = Role(rawValue: String(text[..<colon])) else {
            throw DomainError(.invalidPrincipal, "not a principal: \(text.debugDescription)")
        }
        try self.init(role: role, id: String(text[text.index(after: colon)...]))
    }

    /// Parses a SAN URI (`urn:parkfed:park:P001`); `nil` when the URI is not a federation principal.
    public init?(uri: String) {
        guard uri.hasPrefix(Self.uriPrefix) else { return nil }
        guard let principal = try? Principal(parsing: String(uri.dropFirst(Self.uriPrefix.count))) else { return nil }
        self = principal
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
