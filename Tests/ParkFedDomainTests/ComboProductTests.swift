import ParkFedDomain
import Testing

@Suite struct ComboProductTests {
    let p1 = try! ParkID("P001"), p2 = try! ParkID("P002"), p3 = try! ParkID("P003")

    func threeParkPass() throws -> ComboProduct {
        // 299.00: West Lake 99.00, Songcheng 2 × 60.00, museum 80.00.
        try ComboProduct(id: "JIANGNAN-3P", price: Money(minorUnits: 29_900), members: [
            .init(park: p1, allocationPerEntry: 9_900), .init(park: p2, entries: 2, allocationPerEntry: 6_000), .init(park: p3, allocationPerEntry: 8_000),
        ])
    }

    @Test func allocationsMustAddUpToThePrice() throws {
        _ = try threeParkPass()
        #expect(throws: DomainError.self) {
            try ComboProduct(id: "BAD", price: Money(minorUnits: 30_000), members: [.init(park: p1, allocationPerEntry: 9_900)])
        }
        #expect(throws: DomainError.self) { try ComboProduct(id: "BAD", price: Money(minorUnits: 0), members: []) }
    }

    @Test func sharesSplitByLargestRemainderStillAddUp() throws {
        let members = try ComboProduct.allocations(price: Money(minorUnits: 10_000), weights: [(p1, 1), (p2, 1), (p3, 1)])
        #expect(members.map(\.allocationPerEntry) == [3_334, 3_333, 3_333])
        _ = try ComboProduct(id: "THIRDS", price: Money(minorUnits: 10_000), members: members)
    }

    @Test func refundsAreTheUnusedAllocations() throws {
        let product = try threeParkPass()
        #expect(try product.refund(used: [:]).minorUnits == 29_900)
        #expect(try product.refund(used: [p1: 1]).minorUnits == 20_000)
        #expect(try product.refund(used: [p1: 1, p2: 1]).minorUnits == 14_000)
        #expect(try product.refund(used: [p1: 1, p2: 2, p3: 1]).minorUnits == 0)
        #expect(throws: DomainError.self) { try product.refund(used: [p2: 3]) }
    }

    @Test func aRedemptionElsewhereMakesTheIssuerOweTheAllocation() throws {
        let product = try threeParkPass()
        #expect(try product.redemptionObligation(issuer: p1, at: p2, reference: "r1")
                == Obligation(from: p1, to: p2, amountMinor: 6_000, reason: "pass_redemption", reference: "r1"))
        #expect(try product.redemptionObligation(issuer: p1, at: p1, reference: "r2") == nil)
        #expect(throws: DomainError.self) { try product.redemptionObligation(issuer: p1, at: try ParkID("P009"), reference: "r3") }
    }
}
