import ParkFedDomain
import Testing

@Suite struct ComboProductTests {
    let p1 = try! ParkID("P001"), p2 = try! ParkID("P002"), p3 = try! ParkID("P003")

    func threeParkPass() throws -> ComboProduct {
        // 299.00: West Lake 99.00, Songcheng 2 × 60.00, museum 80.00.
        try ComboProduct(
            id: "JIANGNAN-3P", price: Money(minorUnits: 29_900),
            members: [
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
        #expect(
            try product.redemptionObligation(issuer: p1, at: p2, reference: "r1")
                == Obligation(from: p1, to: p2, amountMinor: 6_000, reason: "pass_redemption", reference: "r1"))
        #expect(try product.redemptionObligation(issuer: p1, at: p1, reference: "r2") == nil)
        #expect(throws: DomainError.self) { try product.redemptionObligation(issuer: p1, at: try ParkID("P009"), reference: "r3") }
    }

    func annualPass(retained: Int = 1_000) throws -> ComboProduct {
        try ComboProduct(
            id: "ANNUAL", price: Money(minorUnits: 120_000),
            members: [p1, p2, p3].map { .init(park: $0, entries: 366, allocationPerEntry: 0) },
            validity: .fromFirstUse(days: 365, activateWithinDays: 90), refundRule: .unusedPassOnly,
            allocation: .byEntries(issuerRetainedBasisPoints: retained))
    }

    @Test func aMembershipPassIsSplitByEntriesAfterTheIssuersRetainedShare() throws {
        // 1200.00, the issuer keeps 10 % (120.00); 1080.00 by entries 3 : 5 : 1 → 360.00, 600.00, 120.00.
        let split = try annualPass().entryAllocation(issuer: p1, entries: [p1: 3, p2: 5, p3: 1], reference: "A1")
        #expect(split.map { "\($0.from)→\($0.to) \($0.amountMinor)" } == ["P001→P002 60000", "P001→P003 12000"])
        // Largest remainder: 100.00 by 1 : 1 : 1, issuer P002 → P001 gets the odd fen.
        let thirds = try ComboProduct(
            id: "T", price: Money(minorUnits: 10_000), members: [p1, p2, p3].map { .init(park: $0, entries: 5, allocationPerEntry: 0) },
            refundRule: .unusedPassOnly, allocation: .byEntries(issuerRetainedBasisPoints: 0))
        #expect(try thirds.entryAllocation(issuer: p2, entries: [p1: 1, p2: 1, p3: 1], reference: "T1").map(\.amountMinor) == [3_334, 3_333])
        // Unused: everything stays with the issuer; entries elsewhere than the product's parks are refused.
        #expect(try annualPass().entryAllocation(issuer: p1, entries: [:], reference: "A2").isEmpty)
        #expect(throws: DomainError.self) { try annualPass().entryAllocation(issuer: p1, entries: [try ParkID("P009"): 1], reference: "A3") }
        // A per-entry product has nothing to split later: it paid at each entry.
        #expect(try threeParkPass().entryAllocation(issuer: p1, entries: [p2: 1], reference: "C1").isEmpty)
    }

    @Test func aMembershipPassSplitAlwaysAddsUpToThePrice() throws {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        for _ in 0..<500 {
            let retained = next(10_001)
            let product = try annualPass(retained: retained)
            let entries = [p1: next(366), p2: next(366), p3: next(366)]
            let issuer = [p1, p2, p3][next(3)]
            let split = try product.entryAllocation(issuer: issuer, entries: entries, reference: "X")
            let paidOut = split.reduce(Int64(0)) { $0 + $1.amountMinor }
            #expect(split.allSatisfy { $0.from == issuer && $0.to != issuer && $0.amountMinor > 0 })
            #expect(paidOut <= 120_000 - 120_000 * Int64(retained) / 10_000)
            if entries.values.reduce(0, +) == 0 { #expect(split.isEmpty) }
            // Whatever the issuer keeps plus what it pays out is exactly the price.
            let issuerShare = 120_000 - paidOut
            #expect(issuerShare + paidOut == 120_000 && issuerShare >= 120_000 * Int64(retained) / 10_000)
        }
    }

    @Test func aMembershipPassHasNoPerEntryAllocationsAndIsRefundedOnlyUnused() throws {
        #expect(throws: DomainError.self) {
            try ComboProduct(
                id: "BAD", price: Money(minorUnits: 100), members: [.init(park: p1, entries: 5, allocationPerEntry: 20)],
                refundRule: .unusedPassOnly, allocation: .byEntries(issuerRetainedBasisPoints: 0))
        }
        #expect(throws: DomainError.self) {
            try ComboProduct(
                id: "BAD", price: Money(minorUnits: 100), members: [.init(park: p1, entries: 5, allocationPerEntry: 0)],
                allocation: .byEntries(issuerRetainedBasisPoints: 0))
        }
        #expect(throws: DomainError.self) { try annualPass(retained: 10_001) }
        #expect(try annualPass().refund(used: [:]).minorUnits == 120_000)
        #expect(try annualPass().refund(used: [p2: 1]).minorUnits == 0)
    }
}
