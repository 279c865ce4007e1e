import ParkFedDomain
import Testing

/// Categories, groups and time slots: their prices and allocations add up, and a timed pass admits only in its window.
@Suite struct TicketCategoryTests {
    let p1 = try! ParkID("P001"), p2 = try! ParkID("P002"), p3 = try! ParkID("P003")

    func product(slots: [TimeSlot] = [], validity: ComboProduct.Validity = .fromFirstUse(days: 3, activateWithinDays: 90)) throws -> ComboProduct {
        try ComboProduct(
            id: "JIANGNAN-3P", price: Money(minorUnits: 29_900),
            members: [
                .init(park: p1, allocationPerEntry: 9_900), .init(park: p2, entries: 2, allocationPerEntry: 6_000), .init(park: p3, allocationPerEntry: 8_000),
            ], validity: validity,
            categories: [
                try TicketCategory(
                    id: "child", kind: .concession, priceMinor: 14_900, allocations: [p1: 4_900, p2: 3_000, p3: 4_000], proof: "child's ID document"),
                try TicketCategory(
                    id: "group", kind: .group, priceMinor: 23_900, allocations: [p1: 7_900, p2: 5_000, p3: 6_000], minimumHeads: 10, maximumHeads: 60),
            ], slots: slots)
    }

    @Test func aConcessionHasItsOwnPriceAllocationsAndProof() throws {
        let child = try product().variant(category: "child", heads: 1)
        #expect(child.price.minorUnits == 14_900 && child.category?.proof == "child's ID document")
        #expect(child.members.map(\.allocationPerEntry) == [4_900, 3_000, 4_000])
        #expect(try child.redemptionObligation(issuer: p1, at: p2, reference: "r")?.amountMinor == 3_000)
        #expect(try child.refund(used: [p2: 1]).minorUnits == 11_900)
    }

    @Test func aGroupIsPricedAllocatedAndRefundedPerHead() throws {
        let group = try product().variant(category: "group", heads: 12)
        #expect(group.price.minorUnits == 286_800 && group.heads == 12)
        #expect(group.members.map(\.allocationPerEntry) == [94_800, 60_000, 72_000])
        #expect(group.members.reduce(0) { $0 + Int64($1.entries) * $1.allocationPerEntry } == group.price.minorUnits)
        #expect(try group.refund(used: [p2: 1]).minorUnits == 226_800)
        #expect(throws: DomainError.self) { try product().variant(category: "group", heads: 9) }
        #expect(throws: DomainError.self) { try product().variant(category: "group", heads: 61) }
        #expect(throws: DomainError.self) { try product().variant(category: "child", heads: 2) }
        #expect(throws: DomainError.self) { try product().variant(category: "senior", heads: 1) }
        #expect(try product().variant(category: nil, heads: 1).price.minorUnits == 29_900)
    }

    @Test func categoriesThatDoNotAddUpOrMissAParkAreRefused() throws {
        #expect(throws: DomainError.self) {
            try ComboProduct(
                id: "BAD", price: Money(minorUnits: 10_000), members: [.init(park: p1, allocationPerEntry: 10_000)],
                categories: [
                    try TicketCategory(id: "child", kind: .concession, priceMinor: 5_000, allocations: [p1: 4_000], proof: "ID")
                ])
        }
        #expect(throws: DomainError.self) {
            try ComboProduct(
                id: "BAD", price: Money(minorUnits: 10_000), members: [.init(park: p1, allocationPerEntry: 10_000)],
                categories: [
                    try TicketCategory(id: "child", kind: .concession, priceMinor: 5_000, allocations: [p2: 5_000], proof: "ID")
                ])
        }
        #expect(throws: DomainError.self) { try TicketCategory(id: "student", kind: .concession, priceMinor: 1, allocations: [:]) }
        #expect(throws: DomainError.self) { try TicketCategory(id: "group", kind: .group, priceMinor: 1, allocations: [:], minimumHeads: 1) }
    }

    @Test func aTimedPassAdmitsOnlyInItsWindowOnItsDay() throws {
        let morning = try TimeSlot(id: "AM", startMinute: 9 * 60, endMinute: 12 * 60, capacity: 200)
        let product = try product(slots: [morning], validity: .fixed(from: CivilDay("2026-01-01"), until: CivilDay("2027-12-31")))
        let day = try CivilDay("2026-11-29")
        #expect(try product.saleWindow(date: day) == (day, day))
        let pass = ComboPass(id: "x", product: product, issuer: p1, validFrom: day, validUntil: day, slot: "AM")
        #expect((try? pass.admission(at: p2, on: day, minute: 9 * 60, generation: 0).get()) != nil)
        #expect((try? pass.admission(at: p2, on: day, minute: 12 * 60 - 1, generation: 0).get()) != nil)
        #expect(pass.admission(at: p2, on: day, minute: 12 * 60, generation: 0) == .failure(.outsideTimeSlot))
        #expect(pass.admission(at: p2, on: day, minute: 8 * 60 + 59, generation: 0) == .failure(.outsideTimeSlot))
        #expect(pass.admission(at: p2, on: day.adding(days: 1), minute: 10 * 60, generation: 0) == .failure(.expired))
        // A timed product is a day ticket.
        #expect(throws: DomainError.self) { try self.product(slots: [morning]) }
        #expect(throws: DomainError.self) { try TimeSlot(id: "X", startMinute: 600, endMinute: 600, capacity: 1) }
    }
}
