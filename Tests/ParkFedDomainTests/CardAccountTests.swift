import Foundation
import ParkFedDomain
import ParkFedTesting
import Testing

@Suite struct CardAccountTests {
    let p1 = try! ParkID("P001"), p2 = try! ParkID("P002"), p3 = try! ParkID("P003")
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func loadOneThousandGetTwoHundredDeductEightToTwoAcrossParks() throws {
        var card = CardAccount(id: "C1")
        _ = try card.load(loadID: "L1", park: p1, principal: 1000, bonus: 200, ratio: .init(principal: 8, bonus: 2))
        let hold = try card.hold(requestID: "R1", park: p2, amount: 100, now: now, lifetime: 300)
        #expect(hold.principal == 80 && hold.bonus == 20)
        #expect(card.available == 1100)
        let effect = try card.capture(requestID: "R1", park: p2, now: now)
        #expect(card.principalBalance == 920 && card.bonusBalance == 180)
        // The loading park owes the spending park the principal and (by default) the bonus spent there.
        #expect(effect.obligations == [Obligation(from: p1, to: p2, amountMinor: 100, reason: "card_spend", reference: "capture:R1")])
    }

    @Test func theLoadsOwnRatioAndARefusedOverdraft() throws {
        var card = CardAccount(id: "C1")
        _ = try card.load(loadID: "L1", park: p1, principal: 1000, bonus: 200, ratio: nil)
        let hold = try card.hold(requestID: "R1", park: p1, amount: 120, now: now, lifetime: 300)
        #expect(hold.principal == 100 && hold.bonus == 20)
        let sameParkCapture = try card.capture(requestID: "R1", park: p1, now: now)
        #expect(sameParkCapture.obligations.isEmpty)
        #expect(throws: DomainError.self) { _ = try card.hold(requestID: "R2", park: p2, amount: 1081, now: now, lifetime: 300) }
        #expect(card.available == 1080)
    }

    @Test func aPromotionMayKeepTheBonusWithTheLoader() throws {
        var card = CardAccount(id: "C1")
        _ = try card.load(loadID: "L1", park: p1, principal: 1000, bonus: 200, ratio: .init(principal: 8, bonus: 2), bonusOwedByLoader: false)
        _ = try card.hold(requestID: "R1", park: p3, amount: 100, now: now, lifetime: 300)
        #expect(try card.capture(requestID: "R1", park: p3, now: now).obligations.map(\.amountMinor) == [80])
    }

    @Test func holdsCapturesAndVoidsAreIdempotentByRequestID() throws {
        var card = CardAccount(id: "C1")
        _ = try card.load(loadID: "L1", park: p1, principal: 500, bonus: 0, ratio: nil)
        #expect(try card.load(loadID: "L1", park: p1, principal: 500, bonus: 0, ratio: nil).repeated)
        #expect(throws: DomainError.self) { _ = try card.load(loadID: "L1", park: p1, principal: 400, bonus: 0, ratio: nil) }
        let first = try card.hold(requestID: "R1", park: p2, amount: 100, now: now, lifetime: 300)
        #expect(try card.hold(requestID: "R1", park: p2, amount: 100, now: now, lifetime: 300) == first)
        #expect(throws: DomainError.self) { _ = try card.hold(requestID: "R1", park: p2, amount: 90, now: now, lifetime: 300) }
        #expect(!(try card.capture(requestID: "R1", park: p2, now: now)).repeated)
        #expect(try card.capture(requestID: "R1", park: p2, now: now).repeated)
        #expect(throws: DomainError.self) { _ = try card.void(requestID: "R1", park: p2, now: now) }
        _ = try card.hold(requestID: "R2", park: p2, amount: 50, now: now, lifetime: 300)
        #expect(!(try card.void(requestID: "R2", park: p2, now: now)).repeated)
        #expect(try card.void(requestID: "R2", park: p2, now: now).repeated)
        #expect(throws: DomainError.self) { _ = try card.capture(requestID: "R2", park: p2, now: now) }
        #expect(card.principalBalance == 400)
    }

    @Test func staleHoldsExpireAndReleaseTheirValue() throws {
        var card = CardAccount(id: "C1")
        _ = try card.load(loadID: "L1", park: p1, principal: 100, bonus: 0, ratio: nil)
        _ = try card.hold(requestID: "R1", park: p2, amount: 100, now: now, lifetime: 60)
        #expect(throws: DomainError.self) { _ = try card.hold(requestID: "R2", park: p3, amount: 1, now: now.addingTimeInterval(30), lifetime: 60) }
        _ = try card.hold(requestID: "R2", park: p3, amount: 100, now: now.addingTimeInterval(61), lifetime: 60)
        #expect(throws: DomainError.self) { _ = try card.capture(requestID: "R1", park: p2, now: now.addingTimeInterval(62)) }
    }

    @Test func refundsGoBackToTheirLotsAndReverseTheObligation() throws {
        var card = CardAccount(id: "C1")
        _ = try card.load(loadID: "L1", park: p1, principal: 1000, bonus: 200, ratio: .init(principal: 8, bonus: 2))
        _ = try card.hold(requestID: "R1", park: p2, amount: 100, now: now, lifetime: 300)
        _ = try card.capture(requestID: "R1", park: p2, now: now)
        let refund = try card.refund(requestID: "R1", refundID: "F1", park: p2, amount: 50)
        #expect(card.principalBalance == 960 && card.bonusBalance == 190)
        #expect(refund.obligations == [Obligation(from: p2, to: p1, amountMinor: 50, reason: "card_refund", reference: "refund:R1:F1")])
        #expect(try card.refund(requestID: "R1", refundID: "F1", park: p2, amount: 50).repeated)
        #expect(throws: DomainError.self) { _ = try card.refund(requestID: "R1", refundID: "F2", park: p2, amount: 51) }
    }

    @Test func aLostCardIsBlockedAndItsBalanceMovesWithItsLoadingParks() throws {
        var lost = CardAccount(id: "C1"), replacement = CardAccount(id: "C2")
        _ = try lost.load(loadID: "L1", park: p1, principal: 300, bonus: 60, ratio: nil)
        _ = try lost.hold(requestID: "R1", park: p2, amount: 50, now: now, lifetime: 300)
        lost.block()
        #expect(throws: DomainError.self) { _ = try lost.hold(requestID: "R2", park: p2, amount: 1, now: now, lifetime: 300) }
        _ = try lost.moveBalance(to: &replacement)
        #expect(lost.principalBalance == 0 && lost.bonusBalance == 0)
        #expect(replacement.principalBalance == 300 && replacement.bonusBalance == 60)
        _ = try replacement.hold(requestID: "R3", park: p3, amount: 120, now: now, lifetime: 300)
        #expect(try replacement.capture(requestID: "R3", park: p3, now: now).obligations.first?.from == p1)
    }

    /// Property: over random sequences of loads, holds, captures, voids, refunds, blocks and moves on several
    /// cards, the ledger balances, every card account's ledger balance equals its lots, nothing goes below zero, and
    /// obligations net to what was spent away from the loading parks.
    @Test(arguments: 0..<12) func theLedgerStaysBalancedOverRandomSequences(seed: Int) throws {
        var generator = SeededRandom(seed: UInt64(seed))
        let parks = [p1, p2, p3]
        for _ in 0..<5 {
            var cards = (0..<4).map { CardAccount(id: "C\($0)") }
            var balances: [String: Int64] = [:]  // credit − debit per account
            var debits: Int64 = 0, credits: Int64 = 0
            var requests: [(card: Int, request: String, park: ParkID)] = []
            var clock = now
            func apply(_ effect: CardEffect) {
                for transaction in effect.transactions {
                    for posting in transaction.postings {
                        debits += posting.debit
                        credits += posting.credit
                        balances[posting.account, default: 0] += posting.credit - posting.debit
                    }
                }
            }
            for step in 0..<120 {
                clock = clock.addingTimeInterval(Double.random(in: 0...20, using: &generator))
                let c = Int.random(in: 0..<cards.count, using: &generator)
                let park = parks.randomElement(using: &generator)!
                let snapshot = cards
                do {
                    switch Int.random(in: 0..<10, using: &generator) {
                    case 0, 1:
                        let ratio = Bool.random(using: &generator) ? try StoredValueSplit.Ratio(principal: 8, bonus: 2) : nil
                        apply(
                            try cards[c].load(
                                loadID: "L\(step)", park: park, principal: Int64.random(in: 1...2000, using: &generator),
                                bonus: Int64.random(in: 0...400, using: &generator), ratio: ratio,
                                bonusOwedByLoader: Bool.random(using: &generator)))
                    case 2, 3, 4:
                        _ = try cards[c].hold(requestID: "R\(step)", park: park, amount: Int64.random(in: 1...800, using: &generator), now: clock, lifetime: 60)
                        requests.append((c, "R\(step)", park))
                    case 5, 6:
                        if let r = requests.randomElement(using: &generator) {
                            apply(try cards[r.card].capture(requestID: r.request, park: r.park, now: clock))
                        }
                    case 7:
                        if let r = requests.randomElement(using: &generator) { apply(try cards[r.card].void(requestID: r.request, park: r.park, now: clock)) }
                    case 8:
                        if let r = requests.randomElement(using: &generator) {
                            apply(
                                try cards[r.card].refund(
                                    requestID: r.request, refundID: "F\(step)", park: r.park, amount: Int64.random(in: 1...100, using: &generator)))
                        }
                    default:
                        if Int.random(in: 0..<6, using: &generator) == 0 {
                            let target = (c + 1) % cards.count
                            cards[c].block()
                            var replacement = cards[target]
                            if replacement.status == .active { apply(try cards[c].moveBalance(to: &replacement)); cards[target] = replacement }
                        }
                    }
                } catch {
                    // Refusals are part of the sequence (overdrafts, expired holds, conflicts); they change nothing
                    // but the expiry of stale holds, which time alone decides.
                    var expected = snapshot
                    for index in expected.indices { expected[index].expireHolds(now: clock) }
                    var actual = cards
                    for index in actual.indices { actual[index].expireHolds(now: clock) }
                    #expect(actual == expected, "a refused operation changed a card: \(error)")
                }
                for card in cards {
                    try card.checkInvariants()
                    #expect(balances[LedgerAccount.cardPrincipal(card.id), default: 0] == card.principalBalance)
                    #expect(balances[LedgerAccount.cardBonus(card.id), default: 0] == card.bonusBalance)
                }
                #expect(debits == credits)
            }
        }
    }
}
