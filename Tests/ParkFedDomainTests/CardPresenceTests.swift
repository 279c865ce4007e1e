import ParkFedDomain
import Testing

/// The card counter window, custody and the pass-change rule, in-process (pure domain code).
@Suite struct CardPresenceTests {
    @Test func aCounterIsAcceptedOnceOutOfOrderWithinTheWindowAndNeverWhenTooOld() throws {
        var card = CardAccount(id: "C1")
        try card.present(counter: 5)
        try card.present(counter: 3)  // arrived late, never used: accepted
        #expect(throws: DomainError.self) { try card.present(counter: 3) }  // replayed
        #expect(throws: DomainError.self) { try card.present(counter: 5) }
        try card.present(counter: 6)
        try card.present(counter: 4)
        #expect(throws: DomainError.self) { try card.present(counter: 0) }
        try card.present(counter: 200)
        #expect(throws: DomainError.self) { try card.present(counter: 200 - CardAccount.counterWindow) }  // too old
        try card.present(counter: 200 - CardAccount.counterWindow + 1)
        #expect(throws: DomainError.self) { try card.present(counter: 6) }
    }

    @Test func onlyTheRegisteringParkBlocksAndMovesAndOnlyWithTheHolderPresent() throws {
        let p1 = try ParkID("P001"), p2 = try ParkID("P002")
        let lost = CardCustody.Card(id: "A", registeredBy: p1, memberID: "M-1", loadedBy: [p1, p2])
        let new = CardCustody.Card(id: "B", registeredBy: p1, memberID: "M-1", loadedBy: [])
        let elsewhere = CardCustody.Card(id: "E", registeredBy: p2, memberID: "M-1", loadedBy: [])
        let stranger = CardCustody.Card(id: "S", registeredBy: p1, memberID: "M-2", loadedBy: [])
        #expect((try? CardCustody.block(lost, by: p2).get()) == nil)  // a loader is no custodian
        #expect((try? CardCustody.read(lost, by: p2).get()) != nil)  // but reads the balance it is owed against
        #expect((try? CardCustody.move(lost, to: new, by: p1, presence: nil).get()) == nil)
        #expect((try? CardCustody.move(lost, to: new, by: p1, presence: .member("M-2")).get()) == nil)
        #expect((try? CardCustody.move(lost, to: stranger, by: p1, presence: .card).get()) == nil)
        #expect((try? CardCustody.move(lost, to: elsewhere, by: p1, presence: .card).get()) == nil)
        #expect((try? CardCustody.move(lost, to: new, by: p1, presence: .member("M-1")).get()) != nil)
        #expect((try? CardCustody.move(lost, to: new, by: p1, presence: .card).get()) != nil)
    }

    @Test func aSaleIsTheIssuersOnceAndWithinItsSlot() throws {
        let p1 = try ParkID("P001"), p2 = try ParkID("P002")
        let product = try ComboProduct(
            id: "T", name: "T", price: try Money(minorUnits: 100), members: [.init(park: p1, allocationPerEntry: 100)],
            validity: .fixed(from: try CivilDay("2026-01-01"), until: try CivilDay("2026-12-31")),
            slots: [try TimeSlot(id: "AM", startMinute: 540, endMinute: 720, capacity: 2)])
        let facts = PassChanges.Facts(
            issuer: p1, product: "T", validFrom: try CivilDay("2026-05-01"), validUntil: try CivilDay("2026-05-01"),
            category: nil, heads: 1, slot: "AM", stock: false)
        let sale = PassChanges.Sale(passID: "X", facts: facts, priceMinor: 100)
        #expect((try? PassChanges.sale(sale, known: nil, product: product, slotHeadsSold: 1).get()) != nil)
        #expect((try? PassChanges.sale(sale, known: nil, product: product, slotHeadsSold: 2).get()) == nil)
        var other = facts
        other.issuer = p2
        if case .failure(let refusal) = PassChanges.sale(sale, known: .init(facts: other, sold: false), product: product, slotHeadsSold: 0) {
            #expect(refusal.reason == "not_issuer")
        } else {
            Issue.record("another park's pass was sold")
        }
        if case .failure(let refusal) = PassChanges.sale(sale, known: .init(facts: facts, sold: true), product: product, slotHeadsSold: 0) {
            #expect(refusal.reason == "already_issued")
        } else {
            Issue.record("a pass was sold twice")
        }
        #expect((try? PassChanges.sale(sale, known: .init(facts: facts, sold: false), product: product, slotHeadsSold: 0).get()) != nil)
    }

    @Test func aDocumentNumberIsNeverMoreThanHalfShown() throws {
        for (kind, number) in [
            (IdentityDocument.Kind.passport, "E12345678"), (.residentID, "11010519491231002X"), (.taiwanPermit, "12345678"),
            (.passport, "E1234"), (.foreignPermanentResident, "ABC123456789012"),
        ] {
            let masked = try IdentityDocument(kind: kind, number: number).maskedNumber
            #expect(masked.count == number.count)
            #expect(masked.filter { $0 != "*" }.count * 2 <= number.count, "\(masked)")
        }
        #expect(try IdentityDocument(kind: .residentID, number: "11010519491231002X").maskedNumber == "1101**********002X")
        #expect(try IdentityDocument(kind: .passport, number: "E12345678").maskedNumber == "E1*****78")
    }
}
