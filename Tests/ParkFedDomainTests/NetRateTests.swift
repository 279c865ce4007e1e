import ParkFedDomain
import ParkFedTesting
import Testing

/// A reseller's pass at its net rate: the net reaches the parks by the product's allocation, exactly to the fen.
@Suite struct NetRateTests {
    let p1 = try! ParkID("P001"), p2 = try! ParkID("P002"), p3 = try! ParkID("P003")

    /// The 299.00 Jiangnan pass of the product tests: 99.00, 2 × 60.00, 80.00.
    func threeParkPass() throws -> ComboProduct { try ComboProductTests().threeParkPass() }

    @Test func aNinetyPercentNetScalesEveryAllocation() throws {
        let net = try threeParkPass().atNet(26_910)
        #expect(net.members.map(\.allocationPerEntry) == [8_910, 5_400, 7_200])
        #expect(net.price.minorUnits == 26_910)
        // Unused, the whole net comes back; used at P001, the rest.
        #expect(try net.refund(used: [:]).minorUnits == 26_910)
        #expect(try net.refund(used: [p1: 1]).minorUnits == 18_000)
    }

    @Test func fenThatDoNotDivideIntoEntriesGoToTheFirstSingleEntryPark() throws {
        // 26,911: shares 8,910 / 10,801 / 7,200 by largest remainder; P002's 10,801 is not two equal entries, so
        // P002 gets 5,400 per entry and its odd fen goes to P001.
        let net = try threeParkPass().atNet(26_911)
        #expect(net.members.map(\.allocationPerEntry) == [8_911, 5_400, 7_200])
        let noSingle = try ComboProduct(
            id: "TWO-TWO", price: Money(minorUnits: 400),
            members: [.init(park: p1, entries: 2, allocationPerEntry: 100), .init(park: p2, entries: 2, allocationPerEntry: 100)])
        #expect(throws: DomainError.self) { try noSingle.atNet(301) }
        #expect(try noSingle.atNet(300).members.map(\.allocationPerEntry) == [75, 75])
    }

    @Test func aNetAbovePriceAPooledNetThatDoesNotDivideAndMembershipPassesAreRefused() throws {
        #expect(throws: DomainError.self) { try threeParkPass().atNet(30_000) }
        #expect(throws: DomainError.self) { try threeParkPass().atNet(-1) }
        let pooled = try ComboProduct(
            id: "ANY2", price: Money(minorUnits: 16_000),
            members: [.init(park: p1, entries: 2, allocationPerEntry: 8_000), .init(park: p2, entries: 2, allocationPerEntry: 8_000)],
            entriesTotal: 2)
        #expect(try pooled.atNet(15_000).members.map(\.allocationPerEntry) == [7_500, 7_500])
        #expect(throws: DomainError.self) { try pooled.atNet(15_001) }
        let annual = try ComboProduct(
            id: "ANNUAL", price: Money(minorUnits: 39_900), members: [.init(park: p1, entries: 366, allocationPerEntry: 0)], refundRule: .unusedPassOnly,
            allocation: .byEntries(issuerRetainedBasisPoints: 1000))
        #expect(throws: DomainError.self) { try annual.atNet(35_000) }
    }

    @Test(arguments: 0..<10) func aFullyUsedNetPassPaysOutExactlyTheNet(seed: Int) throws {
        // Property: for random products and nets, entries × allocations add up to the net (seeded, replayable).
        var generator = SeededRandom(seed: UInt64(seed))
        for _ in 0..<200 {
            let parks = (1...Int.random(in: 1...6, using: &generator)).map { try! ParkID("P\(100 + $0)") }
            var members = parks.map {
                ComboProduct.Member(
                    park: $0, entries: Int.random(in: 1...3, using: &generator), allocationPerEntry: Int64.random(in: 0...20_000, using: &generator))
            }
            members[0] = .init(park: parks[0], entries: 1, allocationPerEntry: members[0].allocationPerEntry + 1)
            let price = members.reduce(Int64(0)) { $0 + Int64($1.entries) * $1.allocationPerEntry }
            let product = try ComboProduct(id: "RANDOM", price: Money(minorUnits: price), members: members)
            let netMinor = Int64.random(in: 0...price, using: &generator)
            let net = try product.atNet(netMinor)
            #expect(net.members.reduce(Int64(0)) { $0 + Int64($1.entries) * $1.allocationPerEntry } == netMinor)
            #expect(net.members.allSatisfy { $0.allocationPerEntry >= 0 })
        }
    }

    @Test func aRateNeverHasANetAboveItsRetail() throws {
        #expect(try ResellerRate(product: "X", category: "full", retailMinor: 100, netMinor: 90).commissionMinor == 10)
        #expect(throws: DomainError.self) { try ResellerRate(product: "X", category: "full", retailMinor: 90, netMinor: 100) }
    }
}
