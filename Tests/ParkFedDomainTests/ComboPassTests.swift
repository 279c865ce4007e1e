import ParkFedDomain
import Testing

@Suite struct ComboPassTests {
    let p1 = try! ParkID("P001"), p2 = try! ParkID("P002"), p3 = try! ParkID("P003")
    func day(_ text: String) -> CivilDay { try! CivilDay(text) }

    @Test func civilDaysCountAcrossMonthsAndLeapYears() throws {
        #expect(day("1970-01-01").dayNumber == 0)
        #expect(day("2028-02-28").adding(days: 1) == day("2028-02-29"))
        #expect(day("2026-12-31").adding(days: 1) == day("2027-01-01"))
        #expect(day("2026-11-25").adding(days: -25).description == "2026-10-31")
        #expect(throws: DomainError.self) { try CivilDay("2026-02-29") }
        #expect(throws: DomainError.self) { try CivilDay("2026-1-05") }
    }

    func threeDayPass() throws -> ComboPass {
        let product = try ComboProduct(
            id: "3DAY", price: Money(minorUnits: 30_000),
            members: [
                .init(park: p1, allocationPerEntry: 10_000), .init(park: p2, entries: 2, allocationPerEntry: 5_000),
                .init(park: p3, allocationPerEntry: 10_000),
            ], validity: .fromFirstUse(days: 3, activateWithinDays: 30))
        let window = try product.saleWindow(date: day("2026-11-25"))
        #expect(window.from == day("2026-11-25") && window.until == day("2026-12-24"))
        return ComboPass(id: "x", product: product, issuer: p1, validFrom: window.from, validUntil: window.until)
    }

    @Test func theFirstEntryActivatesAFirstUsePassForItsDays() throws {
        var pass = try threeDayPass()
        #expect(pass.admission(at: p1, on: day("2026-11-24"), generation: 0) == .failure(.notYetValid))
        #expect(pass.admission(at: p1, on: day("2026-12-25"), generation: 0) == .failure(.expired))
        let first = try pass.admission(at: p2, on: day("2026-12-01"), generation: 0).get()
        #expect(first.activates == day("2026-12-01") && first.entriesLeft == 1 && first.usableUntil == day("2026-12-03"))
        #expect(first.activatedOn == day("2026-12-01"))
        pass.record(first, at: p2)
        #expect(pass.admission(at: p1, on: day("2026-12-04"), generation: 0) == .failure(.expired))
        let second = try pass.admission(at: p2, on: day("2026-12-03"), generation: 0).get()
        // The hub answers the gate with the pass's activation day from the admission (no read after the append).
        #expect(second.activates == nil && second.entriesLeft == 0 && second.activatedOn == day("2026-12-01"))
        pass.record(second, at: p2)
        #expect(pass.admission(at: p2, on: day("2026-12-03"), generation: 0) == .failure(.alreadyUsed))
        #expect(pass.admission(at: try ParkID("P009"), on: day("2026-12-02"), generation: 0) == .failure(.notValidHere))
    }

    /// The emergency fast check uses the same dates and place, reading what a gate cannot know (the activation day)
    /// in the pass's favour: a first-use pass is refused only after the last day it could still be used.
    @Test func theFastCheckReadsTheSameDatesWithTheUnknownActivationInThePasssFavour() throws {
        let pass = try threeDayPass()
        #expect(pass.fastCheck(at: p1, on: day("2026-11-24")) == .notYetValid)
        #expect(pass.fastCheck(at: p1, on: day("2026-12-01")) == nil)
        #expect(pass.fastCheck(at: p1, on: day("2026-12-26")) == nil)
        #expect(pass.fastCheck(at: p1, on: day("2026-12-27")) == .expired)
        #expect(pass.fastCheck(at: try ParkID("P009"), on: day("2026-12-01")) == .notValidHere)
        // Where the full rule knows the activation, it is stricter; the fast check never refuses what it admits.
        #expect(pass.admission(at: p1, on: day("2026-12-26"), generation: 0) == .failure(.expired))
        for offset in -3..<40 {
            let on = day("2026-11-25").adding(days: offset)
            if case .success = pass.admission(at: p2, on: on, generation: 0) { #expect(pass.fastCheck(at: p2, on: on) == nil) }
        }
    }

    @Test func olderGenerationsAndRefundedPassesAreRevoked() throws {
        var pass = try threeDayPass()
        pass.generation = 1
        #expect(pass.admission(at: p1, on: day("2026-11-26"), generation: 0) == .failure(.revoked))
        #expect((try? pass.admission(at: p1, on: day("2026-11-26"), generation: 1).get()) != nil)
        pass.refunded = true
        #expect(pass.admission(at: p1, on: day("2026-11-26"), generation: 1) == .failure(.revoked))
    }

    @Test func aPooledPassAllowsNEntriesAcrossItsParks() throws {
        let product = try ComboProduct(
            id: "ANY2", price: Money(minorUnits: 16_000),
            members: [
                .init(park: p1, entries: 2, allocationPerEntry: 8_000), .init(park: p2, entries: 2, allocationPerEntry: 8_000),
                .init(park: p3, entries: 2, allocationPerEntry: 8_000),
            ], validity: .fixed(from: day("2026-11-01"), until: day("2026-11-30")), entriesTotal: 2)
        #expect(throws: DomainError.self) {
            try ComboProduct(
                id: "BAD", price: Money(minorUnits: 16_000),
                members: [
                    .init(park: p1, allocationPerEntry: 8_000), .init(park: p2, allocationPerEntry: 7_000),
                ], entriesTotal: 2)
        }
        var pass = ComboPass(id: "y", product: product, issuer: p1, validFrom: day("2026-11-01"), validUntil: day("2026-11-30"))
        let first = try pass.admission(at: p3, on: day("2026-11-25"), generation: 0).get()
        #expect(first.entriesLeft == 1)
        pass.record(first, at: p3)
        #expect(try product.refund(used: pass.entries).minorUnits == 8_000)
        let second = try pass.admission(at: p2, on: day("2026-11-25"), generation: 0).get()
        #expect(second.entriesLeft == 0)
        pass.record(second, at: p2)
        #expect(pass.admission(at: p1, on: day("2026-11-25"), generation: 0) == .failure(.alreadyUsed))
        #expect(pass.admission(at: p1, on: day("2026-12-01"), generation: 0) == .failure(.expired))
    }

    @Test func theUnusedPassOnlyRuleRefundsNothingOnceUsed() throws {
        let product = try ComboProduct(
            id: "STRICT", price: Money(minorUnits: 20_000),
            members: [
                .init(park: p1, allocationPerEntry: 12_000), .init(park: p2, allocationPerEntry: 8_000),
            ], refundRule: .unusedPassOnly)
        #expect(try product.refund(used: [:]).minorUnits == 20_000)
        #expect(try product.refund(used: [p2: 1]).minorUnits == 0)
    }
}
