import Foundation
import ParkFedDomain
import ParkFedTesting
import Testing

@Suite struct CardAccountCompactTests {
    let parks = [try! ParkID("P001"), try! ParkID("P002"), try! ParkID("P003")]
    let now = Date(timeIntervalSince1970: 1_790_000_000.123_456)

    /// The card as stored (core and each authorisation's record), decoded again.
    func roundTrip(_ card: CardAccount) throws -> CardAccount {
        var decoded = try CardAccount(compactCore: card.compactCore())
        for authorisation in card.authorisations.values {
            decoded.authorisations[authorisation.requestID] = try CardAccount.Authorisation(compact: authorisation.compact())
        }
        return decoded
    }

    /// Property: after every step of random loads, holds, captures, voids, refunds, presentations and blocks, the
    /// compact records decode to exactly the card (lots, counters, ratio, every authorisation with its draws and
    /// refunds), and to the same card the JSON documents they replace decode to.
    @Test(arguments: 0..<8) func everyStateOfRandomSequencesSurvivesTheCompactRecords(seed: Int) throws {
        var generator = SeededRandom(seed: UInt64(seed))
        var card = CardAccount(id: "卡-\(seed)-C1")
        var requests: [(String, ParkID)] = []
        var clock = now
        for step in 0..<300 {
            clock = clock.addingTimeInterval(Double.random(in: 0...20, using: &generator))
            let park = parks.randomElement(using: &generator)!
            switch Int.random(in: 0..<9, using: &generator) {
            case 0, 1:
                let ratio = Bool.random(using: &generator) ? try StoredValueSplit.Ratio(principal: 8, bonus: 2) : nil
                _ = try? card.load(
                    loadID: "L\(step)", park: park, principal: Int64.random(in: 1...2000, using: &generator),
                    bonus: Int64.random(in: 0...400, using: &generator), ratio: ratio, bonusOwedByLoader: Bool.random(using: &generator))
            case 2, 3:
                if (try? card.hold(requestID: "R\(step)", park: park, amount: Int64.random(in: 1...800, using: &generator), now: clock, lifetime: 60)) != nil {
                    requests.append(("R\(step)", park))
                }
            case 4:
                if let (request, park) = requests.randomElement(using: &generator) { _ = try? card.capture(requestID: request, park: park, now: clock) }
            case 5:
                if let (request, park) = requests.randomElement(using: &generator) { _ = try? card.void(requestID: request, park: park, now: clock) }
            case 6:
                if let (request, park) = requests.randomElement(using: &generator) {
                    _ = try? card.refund(requestID: request, refundID: "F\(step)", park: park, amount: Int64.random(in: 1...100, using: &generator))
                }
            case 7:
                try? card.present(counter: Int64.random(in: 1...400, using: &generator))
            default:
                if step > 280 { card.block() }
            }
            let decoded = try roundTrip(card)
            #expect(decoded == card, "step \(step)")
            let json = try JSONDecoder().decode(CardAccount.self, from: JSONEncoder().encode(card))
            #expect(decoded == json, "step \(step): the compact records and the JSON they replace say the same")
        }
        #expect(card.lots.count > 3 && !card.authorisations.isEmpty && card.counter != nil, "the sequence exercised the fields")
    }

    @Test func extremeValuesAndTextRoundTrip() throws {
        var card = CardAccount(id: "C-ü-🎢")
        card.counter = Int64.max
        card.recentCounters = UInt64.max
        card.ratio = try StoredValueSplit.Ratio(principal: 1_000_000, bonus: 0)
        _ = try card.load(loadID: String(repeating: "L", count: 300), park: parks[0], principal: 100_000_000, bonus: 0, ratio: nil)
        let hold = try card.hold(requestID: "R", park: parks[1], amount: 1, now: Date(timeIntervalSinceReferenceDate: -1e9), lifetime: 0.5)
        #expect(try CardAccount.Authorisation(compact: hold.compact()) == hold)
        card.lots[0].principal = Int64.min + 1
        #expect(try roundTrip(card) == card)
        #expect(try CardAccount(compactCore: CardAccount(id: "E").compactCore()) == CardAccount(id: "E"))
    }

    /// A damaged record is an error, never a different card: every truncation, bytes left over, an unknown format.
    @Test func aDamagedRecordIsRefusedNotMisread() throws {
        var card = CardAccount(id: "C1")
        _ = try card.load(loadID: "L1", park: parks[0], principal: 1000, bonus: 200, ratio: .init(principal: 8, bonus: 2))
        try card.present(counter: 7)
        let hold = try card.hold(requestID: "R1", park: parks[1], amount: 100, now: now, lifetime: 300)
        let core = card.compactCore(), record = hold.compact()
        for length in 0..<core.count {
            #expect(throws: DomainError.self, "core cut at \(length)") { try CardAccount(compactCore: core.prefix(length)) }
        }
        for length in 0..<record.count {
            #expect(throws: DomainError.self, "authorisation cut at \(length)") { try CardAccount.Authorisation(compact: record.prefix(length)) }
        }
        #expect(throws: DomainError.self) { try CardAccount(compactCore: core + [0]) }
        #expect(throws: DomainError.self) { try CardAccount.Authorisation(compact: record + [0]) }
        #expect(throws: DomainError.self) { try CardAccount(compactCore: [2] + core.dropFirst()) }
        let error = #expect(throws: DomainError.self) { try CardAccount(compactCore: core.dropLast()) }
        #expect(error?.code == .invalidState && error?.message.contains("damaged") == true)
        #expect(core.count < 60 && record.count < 60, "compact: \(core.count) and \(record.count) bytes")
    }
}
