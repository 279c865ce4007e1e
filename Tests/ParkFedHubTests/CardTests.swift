import Foundation
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

    @Test func loadOneThousandGetTwoHundredAtOneParkSpendAtAnother() async throws {
        let federation = try await TestFederation.start()
        defer { Task { await federation.stop() } }
        let p1 = try await federation.enroll("P001"), p2 = try await federation.enroll("P002")
        defer { Task { await p1.shutdown(); await p2.shutdown() } }
        _ = try await Self.post(p1, "/v1/cards", RegisterCardRequest(cardID: "IC-0001", kind: .ic), as: CardView.self)
        let loaded = try await Self.post(p1, "/v1/cards/IC-0001/loads", LoadRequest(loadID: "L1", promotion: "LOAD1000GET200"), as: CardView.self)
        #expect(loaded.principalMinor == 100_000 && loaded.bonusMinor == 20_000)
        // Deduct 8:2: spending 100 yuan takes 80 principal and 20 bonus.
        let hold = try await Self.post(p2, "/v1/cards/IC-0001/holds", HoldRequest(requestID: "R1", amountMinor: 10_000), as: AuthorisationView.self)
        #expect(hold.principalMinor == 8_000 && hold.bonusMinor == 2_000 && hold.state == "held")
        let captured = try await Self.post(p2, "/v1/cards/IC-0001/holds/R1/capture", Optional<String>.none, as: AuthorisationView.self)
        #expect(captured.state == "captured")
        let balance = try await Self.call(p1, "GET", "/v1/cards/IC-0001", Optional<String>.none, as: CardView.self)
        #expect(balance.principalMinor == 92_000 && balance.bonusMinor == 18_000)
        // The loading park owes the spending park the principal and the bonus spent there.
        let obligations = try federation.hub.store.unsettledObligations()
        #expect(obligations == [Obligation(from: try ParkID("P001"), to: try ParkID("P002"), amountMinor: 10_000, reason: "card_spend", reference: "capture:R1")])
        // A spend larger than the balance is refused.
        #expect(try await Self.problem(p2, "/v1/cards/IC-0001/holds", HoldRequest(requestID: "R2", amountMinor: 110_001)) == "insufficient_balance")
    }

    @Test func theLoadsOwnRatioByDefault() async throws {
        let federation = try await TestFederation.start()
        defer { Task { await federation.stop() } }
        let p2 = try await federation.enroll("P002")
        defer { Task { await p2.shutdown() } }
        _ = try await Self.post(p2, "/v1/cards", RegisterCardRequest(cardID: "WB-7", kind: .wristband), as: CardView.self)
        _ = try await Self.post(p2, "/v1/cards/WB-7/loads", LoadRequest(loadID: "L1", promotion: "LOAD1000GET200-OWN"), as: CardView.self)
        let hold = try await Self.post(p2, "/v1/cards/WB-7/holds", HoldRequest(requestID: "R1", amountMinor: 12_000), as: AuthorisationView.self)
        #expect(hold.principalMinor == 10_000 && hold.bonusMinor == 2_000)
    }

    @Test func twoPhaseStepsAreIdempotentAndVoidsReleaseTheHold() async throws {
        let federation = try await TestFederation.start()
        defer { Task { await federation.stop() } }
        let p1 = try await federation.enroll("P001")
        defer { Task { await p1.shutdown() } }
        _ = try await Self.post(p1, "/v1/cards", RegisterCardRequest(cardID: "V-1", kind: .virtual), as: CardView.self)
        _ = try await Self.post(p1, "/v1/cards/V-1/loads", LoadRequest(loadID: "L1", amountMinor: 5_000), as: CardView.self)
        let first = try await Self.post(p1, "/v1/cards/V-1/holds", HoldRequest(requestID: "R1", amountMinor: 3_000), as: AuthorisationView.self)
        let again = try await Self.post(p1, "/v1/cards/V-1/holds", HoldRequest(requestID: "R1", amountMinor: 3_000), as: AuthorisationView.self)
        #expect(first == again)
        #expect(try await Self.problem(p1, "/v1/cards/V-1/holds", HoldRequest(requestID: "R1", amountMinor: 2_000)) == "request_conflict")
        _ = try await Self.post(p1, "/v1/cards/V-1/holds/R1/void", Optional<String>.none, as: AuthorisationView.self)
        let voidAgain = try await Self.post(p1, "/v1/cards/V-1/holds/R1/void", Optional<String>.none, as: AuthorisationView.self)
        #expect(voidAgain.state == "voided")
        #expect(try await Self.problem(p1, "/v1/cards/V-1/holds/R1/capture", Optional<String>.none) == "invalid_state")
        let balance = try await Self.call(p1, "GET", "/v1/cards/V-1", Optional<String>.none, as: CardView.self)
        #expect(balance.availableMinor == 5_000 && balance.heldMinor == 0)
        // Capture twice: one spend.
        _ = try await Self.post(p1, "/v1/cards/V-1/holds", HoldRequest(requestID: "R2", amountMinor: 1_000), as: AuthorisationView.self)
        _ = try await Self.post(p1, "/v1/cards/V-1/holds/R2/capture", Optional<String>.none, as: AuthorisationView.self)
        _ = try await Self.post(p1, "/v1/cards/V-1/holds/R2/capture", Optional<String>.none, as: AuthorisationView.self)
        #expect(try await Self.call(p1, "GET", "/v1/cards/V-1", Optional<String>.none, as: CardView.self).principalMinor == 4_000)
        // A refund of the captured spend, then the statement shows every movement.
        let refunded = try await Self.post(p1, "/v1/cards/V-1/holds/R2/refunds", CardRefundRequest(refundID: "F1", amountMinor: 400), as: AuthorisationView.self)
        #expect(refunded.refundedMinor == 400)
        let statement = try await Self.call(p1, "GET", "/v1/cards/V-1/statement", Optional<String>.none, as: StatementView.self)
        #expect(statement.card.principalMinor == 4_400)
        #expect(statement.lines.map(\.transaction) == ["load:L1", "capture:R2", "refund:R2:F1"])
    }

    @Test func parksSpendingOneCardAtOnceNeverOverdrawIt() async throws {
        let federation = try await TestFederation.start()
        defer { Task { await federation.stop() } }
        var enrolled: [NodeAgent] = []
        for id in ["P001", "P002", "P003"] { enrolled.append(try await federation.enroll(id)) }
        let parks = enrolled
        defer { Task { for park in parks { await park.shutdown() } } }
        _ = try await Self.post(parks[0], "/v1/cards", RegisterCardRequest(cardID: "IC-RACE", kind: .ic), as: CardView.self)
        _ = try await Self.post(parks[0], "/v1/cards/IC-RACE/loads", LoadRequest(loadID: "L1", amountMinor: 10_000), as: CardView.self)
        // 60 concurrent spends of 500 from three parks on a card holding 10,000: exactly 20 can succeed.
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<60 {
                let park = parks[i % 3]
                group.addTask {
                    let reply = try await park.hub.send(.POST, "/v1/cards/IC-RACE/holds",
                                                        body: try StrictJSON.encoder.encode(HoldRequest(requestID: "R\(i)", amountMinor: 500)))
                    guard reply.status == 200 else { return (i, false) }
                    let capture = try await park.hub.send(.POST, "/v1/cards/IC-RACE/holds/R\(i)/capture")
                    return (i, capture.status == 200)
                }
            }
            var results: [(Int, Bool)] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(outcomes.filter { $0.1 }.count == 20)
        let balance = try await Self.call(parks[0], "GET", "/v1/cards/IC-RACE", Optional<String>.none, as: CardView.self)
        #expect(balance.principalMinor == 0 && balance.availableMinor == 0)
        let totals = try federation.hub.store.ledgerTotals()
        #expect(totals.debits == totals.credits)
        #expect(totals.balances[LedgerAccount.cardPrincipal("IC-RACE")] == 0)
        // P001 loaded it: it owes P002 and P003 what was spent there, nothing to itself.
        let owed = Dictionary(grouping: try federation.hub.store.unsettledObligations(), by: \.to).mapValues { $0.reduce(0) { $0 + $1.amountMinor } }
        #expect(owed[try ParkID("P001")] == nil)
        let spentAtLoader: Int64 = Int64(outcomes.filter { $0.1 && $0.0 % 3 == 0 }.count) * 500
        let owedToOthers: Int64 = (owed[try ParkID("P002")] ?? 0) + (owed[try ParkID("P003")] ?? 0)
        #expect(owedToOthers + spentAtLoader == 10_000)
    }

    @Test func aLostCardIsBlockedAndItsBalanceMovesToANewCard() async throws {
        let federation = try await TestFederation.start()
        defer { Task { await federation.stop() } }
        let p1 = try await federation.enroll("P001"), p2 = try await federation.enroll("P002")
        defer { Task { await p1.shutdown(); await p2.shutdown() } }
        _ = try await Self.post(p1, "/v1/cards", RegisterCardRequest(cardID: "OLD", kind: .ic), as: CardView.self)
        _ = try await Self.post(p1, "/v1/cards", RegisterCardRequest(cardID: "NEW", kind: .ic), as: CardView.self)
        _ = try await Self.post(p1, "/v1/cards/OLD/loads", LoadRequest(loadID: "L1", promotion: "LOAD1000GET200"), as: CardView.self)
        // Another park may not block or read it.
        #expect(try await Self.problem(p2, "/v1/cards/OLD/block", BlockCardRequest(reason: "lost")) == "forbidden_for_principal")
        let blocked = try await Self.post(p1, "/v1/cards/OLD/block", BlockCardRequest(reason: "lost", replacementCardID: "NEW"), as: CardView.self)
        #expect(blocked.status == "blocked" && blocked.principalMinor == 0)
        #expect(try await Self.problem(p2, "/v1/cards/OLD/holds", HoldRequest(requestID: "R1", amountMinor: 1)) == "card_blocked")
        let moved = try await Self.call(p1, "GET", "/v1/cards/NEW", Optional<String>.none, as: CardView.self)
        #expect(moved.principalMinor == 100_000 && moved.bonusMinor == 20_000)
        // The bonus ratio and the loading park travel with the balance.
        let hold = try await Self.post(p2, "/v1/cards/NEW/holds", HoldRequest(requestID: "R2", amountMinor: 10_000), as: AuthorisationView.self)
        #expect(hold.principalMinor == 8_000 && hold.bonusMinor == 2_000)
    }

    @Test func badCardRequestsAreRefusedAndChangeNothing() async throws {
        let federation = try await TestFederation.start()
        defer { Task { await federation.stop() } }
        let p1 = try await federation.enroll("P001"), p2 = try await federation.enroll("P002")
        defer { Task { await p1.shutdown(); await p2.shutdown() } }
        _ = try await Self.post(p1, "/v1/cards", RegisterCardRequest(cardID: "C1", kind: .ic), as: CardView.self)
        #expect(try await Self.problem(p2, "/v1/cards/C1/loads", LoadRequest(loadID: "L1", promotion: "LOAD1000GET200")) == "promotion_of_other_park")
        #expect(try await Self.problem(p1, "/v1/cards/C1/loads", LoadRequest(loadID: "L1", promotion: "NOPE")) == "unknown_promotion")
        #expect(try await Self.problem(p1, "/v1/cards/C1/loads", LoadRequest(loadID: "L1")) == "invalid_body")
        #expect(try await Self.problem(p1, "/v1/cards/C1/loads", LoadRequest(loadID: "L1", amountMinor: -5)) == "invalid_amount")
        #expect(try await Self.problem(p1, "/v1/cards/NOPE/holds", HoldRequest(requestID: "R1", amountMinor: 5)) == "unknown_card")
        #expect(try await Self.problem(p1, "/v1/cards/C1/holds", HoldRequest(requestID: "bad id!", amountMinor: 5)) == "invalid_body")
        let regulator = try federation.issueCertificate(for: .regulator("R01"), name: "r")
        #expect(try await federation.curl("/v1/cards/C1", certificate: regulator).httpStatus == 403)
        let totals = try federation.hub.store.ledgerTotals()
        #expect(totals.debits == 0 && totals.credits == 0)
    }
}
