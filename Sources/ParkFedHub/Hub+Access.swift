import ParkFedDomain
import ParkFedProtocol

/// Which kind of principal may do what, checked in one place: parks write and read their own, regulators read
/// real-name records and reports, clearing staff (and the operator) run settlement and see money.
extension Hub {
    static let clearingRoles: Set<Principal.Role> = [.clearing, .hub]

    /// Refuses (403 `forbidden_for_principal`) a principal whose kind is not in `roles`.
    static func require(_ principal: Principal, _ roles: Set<Principal.Role>, _ title: String) throws {
        guard roles.contains(principal.role) else { throw Refusal(.forbidden, code: "forbidden_for_principal", title: title) }
    }

    static func requireRegulator(_ peer: AuthenticatedPeer) throws {
        try require(peer.principal, [.regulator], "Only regulators query real-name records and reports")
    }
}
