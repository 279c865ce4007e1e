/// The kinds of fact a park reports. The JWS `typ` names the kind: `parkfed-<type>+jwt`.
public enum AssertionType: String, Codable, Sendable, CaseIterable {
    case passIssued = "pass.issued"
    case passRedeemed = "pass.redeemed"
    case passRefunded = "pass.refunded"
    case passTransferred = "pass.transferred"
    case cardLoaded = "card.loaded"
    case cardSpent = "card.spent"
    case cardRefunded = "card.refunded"
    case cardBlocked = "card.blocked"
    case memberEnrolled = "member.enrolled"
    case memberLinked = "member.linked"
    case gateExits = "gate.exits"

    public var jwsType: String { "parkfed-\(rawValue)+jwt" }

    public init?(jwsType: String) {
        guard jwsType.hasPrefix("parkfed-"), jwsType.hasSuffix("+jwt") else { return nil }
        self.init(rawValue: String(jwsType.dropFirst(8).dropLast(4)))
    }
}
