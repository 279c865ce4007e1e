import ParkFedDomain
import Testing

@Suite struct PrincipalTests {
    @Test func parsesEveryRoleFromTextAndURI() throws {
        #expect(try Principal(parsing: "park:P001") == .park(try ParkID("P001")))
        #expect(try Principal(parsing: "regulator:R01") == .regulator("R01"))
        #expect(try Principal(parsing: "clearing:C01") == .clearing("C01"))
        #expect(try Principal(parsing: "hub") == .hub)
        #expect(Principal(uri: "urn:parkfed:park:P001") == .park(try ParkID("P001")))
        #expect(Principal.park(try ParkID("P001")).uri == "urn:parkfed:park:P001")
    }

    @Test(arguments: ["", "park", "park:", "park:p001", "park:P 01", "admin:X1", "urn:parkfed:park:P001", "park:P001:extra", "regulator:"])
    func refusesMalformedPrincipals(_ text: String) {
        #expect(throws: DomainError.self) { try Principal(parsing: text) }
    }

    @Test func parkIDsAreRestrictedToSafeCharacters() {
        #expect(ParkID.isValid("P001"))
        #expect(ParkID.isValid("WEST-LAKE_2"))
        #expect(!ParkID.isValid("P"))
        #expect(!ParkID.isValid("1P"))
        #expect(!ParkID.isValid("p001"))
        #expect(!ParkID.isValid("P001/../x"))
        #expect(!ParkID.isValid(String(repeating: "A", count: 33)))
    }
}
