import Foundation
import ParkFedDomain
import Testing

/// A visitor's own refund request, decided by the product's rule: at once where the rule settles it, to the seller's
/// queue where a person must decide, refused where the rule gives nothing.
@Suite struct SelfServiceRefundTests {
    let p1 = try! ParkID("P001"), p2 = try! ParkID("P002")
    let visit = Date(timeIntervalSince1970: 1_800_000_000)
    let today = try! CivilDay("2026-12-03")

    func pass(_ rule: ComboProduct.RefundRule, entries: [ParkID: Int] = [:], refunded: Bool = false) throws -> ComboPass {
        let product = try ComboProduct(
            id: "TWO", price: Money(minorUnits: 20_000),
            members: [.init(park: p1, allocationPerEntry: 12_000), .init(park: p2, allocationPerEntry: 8_000)],
            validity: .fixed(from: try CivilDay("2026-12-01"), until: try CivilDay("2026-12-10")), refundRule: rule)
        return ComboPass(
            id: "x", product: product, issuer: try ParkID("PFSHOP"), validFrom: try CivilDay("2026-12-01"), validUntil: try CivilDay("2026-12-10"),
            refunded: refunded, entries: entries)
    }

    @Test func anUnusedTicketBeforeItsVisitIsRefundedInFullAtOnce() throws {
        #expect(
            SelfServiceRefund.decide(try pass(.unusedPassOnly), visitStart: visit, today: today, now: visit.addingTimeInterval(-1))
                == .automatic(amountMinor: 20_000, reason: "before_visit"))
    }

    @Test func anUnusedTicketWhoseVisitBeganOrWhoseValidityEndedGoesToTheSellersQueue() throws {
        #expect(
            SelfServiceRefund.decide(try pass(.unusedAllocations), visitStart: visit, today: today, now: visit)
                == .review(amountMinor: 20_000, reason: "visit_started"))
        #expect(
            SelfServiceRefund.decide(try pass(.unusedAllocations), visitStart: visit, today: try CivilDay("2026-12-11"), now: visit)
                == .review(amountMinor: 20_000, reason: "expired"))
    }

    @Test func aPartlyUsedTicketGetsExactlyTheUnusedParksAllocationsOrNothingByItsRule() throws {
        #expect(
            SelfServiceRefund.decide(try pass(.unusedAllocations, entries: [p1: 1]), visitStart: visit, today: today, now: visit)
                == .automatic(amountMinor: 8_000, reason: "partly_used"))
        #expect(
            SelfServiceRefund.decide(try pass(.unusedPassOnly, entries: [p1: 1]), visitStart: visit, today: today, now: visit)
                == .refused(code: "nothing_due", detail: "under the product's rule nothing is refunded once the ticket has been used"))
        guard case .refused(let code, _) = SelfServiceRefund.decide(try pass(.unusedAllocations, refunded: true), visitStart: visit, today: today, now: visit)
        else { Issue.record("a refunded ticket is refused"); return }
        #expect(code == "already_refunded")
    }
}
