import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// One-card stored value over real mutual TLS: exact figures, two-phase spends, concurrency, ledger invariants.
@Suite struct CardTests {
    static func call<T: Decodable>(_ agent: NodeAgent, _ method: String, _ path: String, _ body: (some Encodable)?, as type: T.Type) async throws -> T {
        try await agent.hub.json(method == "GET" ? .GET : .POST, path, body: body, as: type)
    }

    static func post<T: Decodable>(_ agent: NodeAgent, _ path: String, _ body: some Encodable, as type: T.Type) async throws -> T {
        try await agent.hub.json(.POST, path, body: body, as: type)
    }

    static func problem(_ agent: NodeAgent, _ path: String, _ body: some Encodable) async throws -> String? {
        let reply = try await agent.hub.send(.POST, path, body: try StrictJSON.encoder.encode(body))
        return (try? StrictJSON.decoder.decode(ProblemDetails.self, from: reply.body))?.code
    }

    /// Registers a card at `agent` and personalises a simulated card with the key the hub answers.
    static func register(_ agent: NodeAgent, _ id: String, _ kind: RegisterCardRequest.Kind) async throws -> SimulatedCard {
        try SimulatedCard(try await post(agent, "/v1/cards", RegisterCardRequest(cardID: id, kind: kind), as: CardView.self))
    }

    /// A hold at `agent`'s park, with the card's own cryptogram over it.
    static func hold(_ agent: NodeAgent, _ card: SimulatedCard, _ request: String, _ amount: Int64) -> HoldRequest {
        HoldRequest(requestID: request, amountMinor: amount, cardProof: card.proof(.hold, amountMinor: amount, park: agent.park.rawValue, requestID: request))
    }

    static func refund(_ agent: NodeAgent, _ card: SimulatedCard, _ refund: String, _ amount: Int64) -> CardRefundRequest {
        CardRefundRequest(
            refundID: refund, amountMinor: amount, cardProof: card.proof(.refund, amountMinor: amount, park: agent.park.rawValue, requestID: refund))
    }

    @Test func loadOneThousandGetTwoHundredAtOneParkSpendAtAnother() async throws {
        try await TestFederation.run { federation in
            let p1 = try await federation.enroll("P001"), p2 = try await federation.enroll("P002")
            federation.adopt(p1); federation.adopt(p2)
            let c_IC_0001 = try await Self.register(p1, "IC-0001", .ic)
            let loaded = try await Self.post(p1, "/v1/cards/IC-0001/loads", LoadRequest(loadID: "L1", promotion: "LOAD1000GET200"), as: LoadView.self)
            #expect(loaded.principalMinor == 100_000 && loaded.bonusMinor == 20_000)
            #expect(loaded.card.principalMinor == 100_000 && loaded.card.bonusMinor == 20_000)
            // Deduct 8:2: spending 100 yuan takes 80 principal and 20 bonus.
            let hold = try await Self.post(p2, "/v1/cards/IC-0001/holds", Self.hold(p2, c_IC_0001, "R1", 10_000), as: AuthorisationView.self)
            #expect(hold.principalMinor == 8_000 && hold.bonusMinor == 2_000 && hold.state == "held")
            let captured = try await Self.post(p2, "/v1/cards/IC-0001/holds/R1/capture", Optional<String>.none, as: AuthorisationView.self)
            #expect(captured.state == "captured")
            let balance = try await Self.call(p1, "GET", "/v1/cards/IC-0001", Optional<String>.none, as: CardView.self)
            #expect(balance.principalMinor == 92_000 && balance.bonusMinor == 18_000)
            // The loading park owes the spending park the principal and the bonus spent there.
            let obligations = try await federation.hub.store.unsettledObligations()
            #expect(
                obligations == [
                    Obligation(from: try ParkID("P001"), to: try ParkID("P002"), amountMinor: 10_000, reason: "card_spend", reference: "capture:R1")
                ])
            // A spend larger than the balance is refused.
            #expect(try await Self.problem(p2, "/v1/cards/IC-0001/holds", Self.hold(p2, c_IC_0001, "R2", 110_001)) == "insufficient_balance")
        }
    }

    @Test func theLoadsOwnRatioByDefault() async throws {
        try await TestFederation.run { federation in
            let p2 = try await federation.enroll("P002")
            federation.adopt(p2)
            let c_WB_7 = try await Self.register(p2, "WB-7", .wristband)
            _ = try await Self.post(p2, "/v1/cards/WB-7/loads", LoadRequest(loadID: "L1", promotion: "LOAD1000GET200-OWN"), as: LoadView.self)
            let hold = try await Self.post(p2, "/v1/cards/WB-7/holds", Self.hold(p2, c_WB_7, "R1", 12_000), as: AuthorisationView.self)
            #expect(hold.principalMinor == 10_000 && hold.bonusMinor == 2_000)
        }
    }

    @Test func twoPhaseStepsAreIdempotentAndVoidsReleaseTheHold() async throws {
        try await TestFederation.run { federation in
            let p1 = try await federation.enroll("P001")
            federation.adopt(p1)
            let c_V_1 = try await Self.register(p1, "V-1", .virtual)
            _ = try await Self.post(p1, "/v1/cards/V-1/loads", LoadRequest(loadID: "L1", amountMinor: 5_000), as: LoadView.self)
            let first = try await Self.post(p1, "/v1/cards/V-1/holds", Self.hold(p1, c_V_1, "R1", 3_000), as: AuthorisationView.self)
            let again = try await Self.post(p1, "/v1/cards/V-1/holds", Self.hold(p1, c_V_1, "R1", 3_000), as: AuthorisationView.self)
            #expect(first == again)
            #expect(try await Self.problem(p1, "/v1/cards/V-1/holds", Self.hold(p1, c_V_1, "R1", 2_000)) == "request_conflict")
            _ = try await Self.post(p1, "/v1/cards/V-1/holds/R1/void", Optional<String>.none, as: AuthorisationView.self)
            let voidAgain = try await Self.post(p1, "/v1/cards/V-1/holds/R1/void", Optional<String>.none, as: AuthorisationView.self)
            #expect(voidAgain.state == "voided")
            #expect(try await Self.problem(p1, "/v1/cards/V-1/holds/R1/capture", Optional<String>.none) == "invalid_state")
            let balance = try await Self.call(p1, "GET", "/v1/cards/V-1", Optional<String>.none, as: CardView.self)
            #expect(balance.availableMinor == 5_000 && balance.heldMinor == 0)
            // Capture twice: one spend.
            _ = try await Self.post(p1, "/v1/cards/V-1/holds", Self.hold(p1, c_V_1, "R2", 1_000), as: AuthorisationView.self)
            _ = try await Self.post(p1, "/v1/cards/V-1/holds/R2/capture", Optional<String>.none, as: AuthorisationView.self)
            _ = try await Self.post(p1, "/v1/cards/V-1/holds/R2/capture", Optional<String>.none, as: AuthorisationView.self)
            #expect(try await Self.call(p1, "GET", "/v1/cards/V-1", Optional<String>.none, as: CardView.self).principalMinor == 4_000)
            // A refund of the captured spend, then the statement shows every movement.
            let refunded = try await Self.post(p1, "/v1/cards/V-1/holds/R2/refunds", Self.refund(p1, c_V_1, "F1", 400), as: AuthorisationView.self)
            #expect(refunded.refundedMinor == 400)
            let statement = try await Self.call(p1, "GET", "/v1/cards/V-1/statement", Optional<String>.none, as: StatementView.self)
            #expect(statement.card.principalMinor == 4_400)
            #expect(statement.lines.map(\.transaction) == ["load:L1", "capture:R2", "refund:R2:F1"])
        }
    }

    @Test func parksSpendingOneCardAtOnceNeverOverdrawIt() async throws {
        try await TestFederation.run { federation in
            var enrolled: [NodeAgent] = []
            for id in ["P001", "P002", "P003"] { enrolled.append(try await federation.enroll(id)) }
            let parks = enrolled
            // Enrolled agents shut down with the federation.
            let c_IC_RACE = try await Self.register(parks[0], "IC-RACE", .ic)
            _ = try await Self.post(parks[0], "/v1/cards/IC-RACE/loads", LoadRequest(loadID: "L1", amountMinor: 5_000), as: LoadView.self)
            // 30 concurrent spends of 500 from three parks on a card holding 5,000: exactly 10 can succeed. (Kept to 30:
            // the whole suite runs at once on 2 cores, and each request must answer within the client's 30 s.)
            let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for i in 0..<30 {
                    let park = parks[i % 3]
                    group.addTask {
                        let reply = try await park.hub.send(
                            .POST, "/v1/cards/IC-RACE/holds",
                            body: try StrictJSON.encoder.encode(Self.hold(park, c_IC_RACE, "R\(i)", 500)))
                        guard reply.status == 200 else { return (i, false) }
                        let capture = try await park.hub.send(.POST, "/v1/cards/IC-RACE/holds/R\(i)/capture")
                        return (i, capture.status == 200)
                    }
                }
                var results: [(Int, Bool)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(outcomes.filter { $0.1 }.count == 10)
            let balance = try await Self.call(parks[0], "GET", "/v1/cards/IC-RACE", Optional<String>.none, as: CardView.self)
            #expect(balance.principalMinor == 0 && balance.availableMinor == 0)
            let totals = try await federation.hub.store.ledgerTotals()
            #expect(totals.debits == totals.credits)
            #expect(totals.balances[LedgerAccount.cardPrincipal("IC-RACE")] == 0)
            // P001 loaded it: it owes P002 and P003 what was spent there, nothing to itself.
            let owed = await Dictionary(grouping: try federation.hub.store.unsettledObligations(), by: \.to).mapValues { $0.reduce(0) { $0 + $1.amountMinor } }
            #expect(owed[try ParkID("P001")] == nil)
            let spentAtLoader: Int64 = Int64(outcomes.filter { $0.1 && $0.0 % 3 == 0 }.count) * 500
            let owedToOthers: Int64 = (owed[try ParkID("P002")] ?? 0) + (owed[try ParkID("P003")] ?? 0)
            #expect(owedToOthers + spentAtLoader == 5_000)
        }
    }

    @Test func aDamagedCardIsBlockedAndItsBalanceMovesToANewCardWithTheOldCardPresent() async throws {
        try await TestFederation.run { federation in
            let p1 = try await federation.enroll("P001"), p2 = try await federation.enroll("P002")
            federation.adopt(p1); federation.adopt(p2)
            let c_OLD = try await Self.register(p1, "OLD", .ic)
            let c_NEW = try await Self.register(p1, "NEW", .ic)
            _ = try await Self.post(p1, "/v1/cards/OLD/loads", LoadRequest(loadID: "L1", promotion: "LOAD1000GET200"), as: LoadView.self)
            // Another park may not block or read it.
            #expect(try await Self.problem(p2, "/v1/cards/OLD/block", BlockCardRequest(reason: "lost")) == "forbidden_for_principal")
            // Without the holder present (no card cryptogram, no member code) nothing moves.
            #expect(try await Self.problem(p1, "/v1/cards/OLD/block", BlockCardRequest(reason: "damaged", replacementCardID: "NEW")) == "card_not_present")
            let blocked = try await Self.post(
                p1, "/v1/cards/OLD/block",
                BlockCardRequest(
                    reason: "damaged", replacementCardID: "NEW", cardProof: c_OLD.proof(.move, park: "P001", requestID: "NEW")), as: CardView.self)
            #expect(blocked.status == "blocked" && blocked.principalMinor == 0)
            #expect(try await Self.problem(p2, "/v1/cards/OLD/holds", Self.hold(p2, c_OLD, "R1", 1)) == "card_blocked")
            let moved = try await Self.call(p1, "GET", "/v1/cards/NEW", Optional<String>.none, as: CardView.self)
            #expect(moved.principalMinor == 100_000 && moved.bonusMinor == 20_000)
            // The bonus ratio and the loading park travel with the balance.
            let hold = try await Self.post(p2, "/v1/cards/NEW/holds", Self.hold(p2, c_NEW, "R2", 10_000), as: AuthorisationView.self)
            #expect(hold.principalMinor == 8_000 && hold.bonusMinor == 2_000)
        }
    }

    @Test func theNodeAgentRecordsLoadsAndSpendsInTheLog() async throws {
        try await TestFederation.run { federation in
            let p1 = try await federation.enroll("P001"), p2 = try await federation.enroll("P002")
            federation.adopt(p1); federation.adopt(p2)
            let card = try SimulatedCard(try await p1.registerCard("IC-LOG", kind: .ic))
            let load = try await p1.loadCard("IC-LOG", loadID: "L1", promotion: "LOAD1000GET200")
            #expect(load.bonusMinor == 20_000)
            let spend = try await p2.spendCard(
                "IC-LOG", requestID: "R1", amountMinor: 10_000,
                proof: card.proof(.hold, amountMinor: 10_000, park: "P002", requestID: "R1"))
            #expect(spend.state == "captured" && spend.principalMinor == 8_000)
            try await p1.deliverOutbox()
            try await p2.deliverOutbox()
            var types: [AssertionType] = []
            for index in 0..<federation.hub.log.size {
                let jws = try await federation.hub.store.logEntry(index: index)!.jws
                types.append(try Assertions.decodePayload(try ParkFedCrypto.JWS(compact: jws)).type)
            }
            #expect(types == [.cardLoaded, .cardSpent])
        }
    }

    @Test func badCardRequestsAreRefusedAndChangeNothing() async throws {
        try await TestFederation.run { federation in
            let p1 = try await federation.enroll("P001"), p2 = try await federation.enroll("P002")
            federation.adopt(p1); federation.adopt(p2)
            let c_C1 = try await Self.register(p1, "C1", .ic)
            #expect(try await Self.problem(p2, "/v1/cards/C1/loads", LoadRequest(loadID: "L1", promotion: "LOAD1000GET200")) == "promotion_of_other_park")
            #expect(try await Self.problem(p1, "/v1/cards/C1/loads", LoadRequest(loadID: "L1", promotion: "NOPE")) == "unknown_promotion")
            #expect(try await Self.problem(p1, "/v1/cards/C1/loads", LoadRequest(loadID: "L1")) == "invalid_body")
            #expect(try await Self.problem(p1, "/v1/cards/C1/loads", LoadRequest(loadID: "L1", amountMinor: -5)) == "invalid_amount")
            #expect(
                try await Self.problem(
                    p1, "/v1/cards/NOPE/holds",
                    HoldRequest(requestID: "R1", amountMinor: 5, cardProof: c_C1.proof(.hold, amountMinor: 5, park: "P001", requestID: "R1")))
                    == "card_not_present")
            #expect(try await Self.problem(p1, "/v1/cards/C1/holds", Self.hold(p1, c_C1, "bad id!", 5)) == "invalid_body")
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "r")
            #expect(try await federation.curl("/v1/cards/C1", certificate: regulator).httpStatus == 403)
            let totals = try await federation.hub.store.ledgerTotals()
            #expect(totals.debits == 0 && totals.credits == 0)
        }
    }
}

/// Property: random loads, holds, captures, voids and refunds from several parks at once, through the hub's real
/// store; afterwards and throughout, the ledger balances and every card's balance is what its history says.
@Suite struct CardLedgerPropertyTests {
    @Test func concurrentRandomOperationsKeepTheLedgerBalanced() async throws {
        try await TestFederation.run { federation in
            let hub = federation.hub
            let parks = try ["P001", "P002", "P003"].map { try ParkID($0) }
            let peers = parks.map { AuthenticatedPeer(principal: .park($0), serial: "test", notAfter: .distantFuture) }
            let cards = (0..<5).map { "C\($0)" }
            var simulated: [String: SimulatedCard] = [:]
            for card in cards { simulated[card] = try await SimulatedCard(try hub.registerCard(RegisterCardRequest(cardID: card, kind: .ic), peer: peers[0])) }
            let physical = simulated

            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        var generator = SeededRandom(seed: UInt64(worker))  // each worker replays the same steps
                        var mine: [(card: String, request: String)] = []
                        for step in 0..<80 {
                            let peer = peers[worker % 3]
                            let card = cards.randomElement(using: &generator)!
                            do {
                                switch Int.random(in: 0..<10, using: &generator) {
                                case 0, 1:
                                    let promotion = ["LOAD1000GET200", "LOAD1000GET200-OWN", "LOAD500GET50"][worker % 3]
                                    let load =
                                        Bool.random(using: &generator)
                                        ? LoadRequest(loadID: "L\(worker)-\(step)", promotion: promotion)
                                        : LoadRequest(loadID: "L\(worker)-\(step)", amountMinor: Int64.random(in: 1...50_000, using: &generator))
                                    _ = try await hub.loadCard(card, load, peer: peer)
                                case 2, 3, 4:
                                    let request = "R\(worker)-\(step)"
                                    let amount = Int64.random(in: 1...30_000, using: &generator)
                                    let proof = physical[card]!.proof(.hold, amountMinor: amount, park: parks[worker % 3].rawValue, requestID: request)
                                    _ = try await hub.holdCard(card, HoldRequest(requestID: request, amountMinor: amount, cardProof: proof), peer: peer)
                                    mine.append((card, request))
                                case 5, 6:
                                    if let pick = mine.randomElement(using: &generator) {
                                        _ = try await hub.settleHold(pick.card, requestID: pick.request, .capture, peer: peer)
                                    }
                                case 7:
                                    if let pick = mine.randomElement(using: &generator) {
                                        _ = try await hub.settleHold(pick.card, requestID: pick.request, .void, peer: peer)
                                    }
                                default:
                                    if let pick = mine.randomElement(using: &generator) {
                                        let amount = Int64.random(in: 1...5_000, using: &generator), refund = "F\(worker)-\(step)"
                                        let proof = physical[pick.card]!.proof(
                                            .refund, amountMinor: amount, park: parks[worker % 3].rawValue, requestID: refund)
                                        _ = try await hub.refundCard(
                                            pick.card, requestID: pick.request,
                                            CardRefundRequest(refundID: refund, amountMinor: amount, cardProof: proof), peer: peer)
                                    }
                                }
                            } catch is Refusal {
                                // Refusals (overdraft, conflicts, wrong state) are expected and change nothing.
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }

            let totals = try await hub.store.ledgerTotals()
            #expect(totals.debits == totals.credits)
            var spentAway: Int64 = 0
            for card in cards {
                let record = try await #require(try hub.store.card(card))
                try record.account.checkInvariants()
                #expect(record.account.principalBalance >= 0 && record.account.bonusBalance >= 0)
                #expect(totals.balances[LedgerAccount.cardPrincipal(card), default: 0] == record.account.principalBalance)
                #expect(totals.balances[LedgerAccount.cardBonus(card), default: 0] == record.account.bonusBalance)
                // Balance = loads − spends + refunds, from the card's own history.
                let loaded = record.account.lots.reduce(Int64(0)) { $0 + $1.loadedPrincipal + $1.loadedBonus }
                let captured = try await hub.store.authorisations(card: card).filter { $0.state == .captured }
                let spent = captured.reduce(Int64(0)) { $0 + $1.amount }
                let refunded = captured.reduce(Int64(0)) { $0 + $1.refunded }
                #expect(record.account.principalBalance + record.account.bonusBalance == loaded - spent + refunded)
                spentAway += spent - refunded
            }
            // Sales recorded by the parks equal what the cards lost to spends.
            let sales = parks.reduce(Int64(0)) { $0 + totals.balances[LedgerAccount.parkSales($1), default: 0] }
            #expect(sales == spentAway)
            // What parks owe the federation equals what it owes parks, and both match the obligations recorded.
            let owes = parks.reduce(Int64(0)) { $0 - totals.balances[LedgerAccount.parkOwes($1), default: 0] }
            let owed = parks.reduce(Int64(0)) { $0 + totals.balances[LedgerAccount.parkOwed($1), default: 0] }
            #expect(owes == owed)
            await #expect(owed == (try hub.store.unsettledObligations()).reduce(Int64(0)) { $0 + $1.amountMinor })
        }
    }
}
