import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// A hostile member park, with nothing but its own valid certificate and signing key, over real mutual TLS: each
/// attack of issue #17 beside the legitimate path that still works. Every attack must be refused with a clear reason
/// and change nothing (balances, ledger, obligations, pass state, the log).
@Suite struct HostileParkTests {
    static let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")

    static func post(_ agent: NodeAgent, _ path: String, _ body: some Encodable) async throws -> (status: Int, text: String) {
        let reply = try await agent.hub.send(.POST, path, body: try StrictJSON.encoder.encode(body))
        return (reply.status, String(decoding: reply.body, as: UTF8.self))
    }

    static func ingest(_ agent: NodeAgent, _ compacts: [String]) async throws -> [IngestResult] {
        try await agent.hub.json(.POST, "/v1/assertions", body: IngestRequest(assertions: compacts), as: IngestResponse.self).results
    }

    /// The stored facts of the hub an attack must not change.
    static func snapshot(_ hub: Hub) async throws -> String {
        let totals = try await hub.store.ledgerTotals()
        return "\(totals.debits)/\(totals.credits)/\(totals.balances.sorted { $0.key < $1.key })/\(try await hub.store.unsettledObligations())/\(hub.log.size)"
    }

    // MARK: 1. Spending a card the park never saw

    @Test func aParkCannotSpendACardItNeverSawOnlyTheCardItselfAuthorisesASpend() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let card = try SimulatedCard(try await p1.registerCard("IC-H1", kind: .ic))
            _ = try await p1.loadCard("IC-H1", loadID: "L1", promotion: "LOAD1000GET200")
            let before = try await Self.snapshot(federation.hub)

            // The card id alone (read off a receipt), a made-up cryptogram, one made with a guessed key: all refused.
            let guessedKey = SymmetricKey(size: .bits256)
            let guessed = CardProof(
                counter: 7,
                cryptogram: CardCryptogram.compute(
                    key: guessedKey, .hold, cardID: "IC-H1", counter: 7, amountMinor: 10_000,
                    park: "P002", requestID: "EVIL-1"))
            for proof in [CardProof(counter: 1, cryptogram: String(repeating: "A", count: 22)), guessed] {
                let refused = try await Self.post(p2, "/v1/cards/IC-H1/holds", HoldRequest(requestID: "EVIL-1", amountMinor: 10_000, cardProof: proof))
                #expect(refused.status == 403 && refused.text.contains("card_not_present"), "\(refused)")
            }
            // A cryptogram the card made for another amount, park or request does not stretch to this one.
            let forTen = card.proof(.hold, amountMinor: 1_000, park: "P002", requestID: "EVIL-2")
            let stretched = try await Self.post(p2, "/v1/cards/IC-H1/holds", HoldRequest(requestID: "EVIL-2", amountMinor: 100_000, cardProof: forTen))
            #expect(stretched.status == 403 && stretched.text.contains("card_not_present"))
            let forP1 = card.proof(.hold, amountMinor: 1_000, park: "P001", requestID: "EVIL-3")
            #expect(try await Self.post(p2, "/v1/cards/IC-H1/holds", HoldRequest(requestID: "EVIL-3", amountMinor: 1_000, cardProof: forP1)).status == 403)
            // A refund onto the card without it is refused too.
            let noCard = CardRefundRequest(refundID: "F-EVIL", amountMinor: 1, cardProof: CardProof(counter: 99, cryptogram: String(repeating: "B", count: 22)))
            #expect(try await Self.post(p2, "/v1/cards/IC-H1/holds/EVIL-1/refunds", noCard).text.contains("card_not_present"))
            await #expect(try Self.snapshot(federation.hub) == before)
            await #expect(try federation.hub.store.authorisations(card: "IC-H1").isEmpty)

            // The legitimate path: the visitor taps the card at P002's reader; the hub authorises it.
            let spend = try await p2.spendCard(
                "IC-H1", requestID: "R1", amountMinor: 10_000, proof: card.proof(.hold, amountMinor: 10_000, park: "P002", requestID: "R1"))
            #expect(spend.state == "captured" && spend.principalMinor == 8_000 && spend.bonusMinor == 2_000)
            await #expect(
                try federation.hub.store.unsettledObligations() == [
                    Obligation(from: p1.park, to: p2.park, amountMinor: 10_000, reason: "card_spend", reference: "capture:R1")
                ])
            // A recorded cryptogram replayed under its own request id answers the first decision again (nothing new); a
            // cloned card that restarts its counter is refused.
            let recorded = HoldRequest(requestID: "R2", amountMinor: 100, cardProof: card.proof(.hold, amountMinor: 100, park: "P002", requestID: "R2"))
            let first = try await Self.post(p2, "/v1/cards/IC-H1/holds", recorded), again = try await Self.post(p2, "/v1/cards/IC-H1/holds", recorded)
            #expect(first.status == 200 && again.status == 200 && first.text == again.text)
            // (The card's counters 1 and 2 went to cryptograms the hub refused above; 3 and 4 were accepted.)
            let clone = try SimulatedCard(id: "IC-H1", cardKey: try #require(try await p1.registerCard("IC-H1", kind: .ic).cardKey), counter: 2)
            let replayed = try await Self.post(
                p2, "/v1/cards/IC-H1/holds",
                HoldRequest(
                    requestID: "R3", amountMinor: 100,
                    cardProof: clone.proof(.hold, amountMinor: 100, park: "P002", requestID: "R3")))
            #expect(replayed.status == 403 && replayed.text.contains("card_not_present") && replayed.text.contains("used before"), "\(replayed)")
        }
    }

    // MARK: 2. Taking a card over

    @Test func loadingOneFenMakesNoParkACustodianOnlyTheHoldersParkBlocksAndMovesACard() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            _ = try await p1.registerCard("IC-H2", kind: .ic)
            _ = try await p1.loadCard("IC-H2", loadID: "L1", amountMinor: 100_000)
            let evil = try SimulatedCard(try await p2.registerCard("IC-EVIL", kind: .ic))
            // P002 loads 1 fen (a load is its own cash: allowed), and then tries to act as the card's custodian.
            _ = try await p2.loadCard("IC-H2", loadID: "EVIL-L", amountMinor: 1)
            let before = try await Self.snapshot(federation.hub)
            let block = try await Self.post(p2, "/v1/cards/IC-H2/block", BlockCardRequest(reason: "lost"))
            #expect(block.status == 403 && block.text.contains("forbidden_for_principal"), "\(block)")
            let move = try await Self.post(
                p2, "/v1/cards/IC-H2/block",
                BlockCardRequest(
                    reason: "lost", replacementCardID: "IC-EVIL", cardProof: evil.proof(.move, park: "P002", requestID: "IC-EVIL")))
            #expect(move.status == 403)
            // Even the custodian moves a balance only to a card it registered, of the same holder.
            let away = try await Self.post(p1, "/v1/cards/IC-H2/block", BlockCardRequest(reason: "lost", replacementCardID: "IC-EVIL"))
            #expect(away.status == 403, "\(away)")
            await #expect(try Self.snapshot(federation.hub) == before)
            let untouched = try await p1.card("IC-H2")
            #expect(untouched.status == "active" && untouched.principalMinor == 100_001)

            // The legitimate path: a member's lost card, blocked at the member's park, its balance moved to the
            // member's new card with the member present (their current app code).
            let member = try await p1.enrollMember(NodeAgent.MemberEnrollment(holder: Self.holder, phone: "13812345678", consentVersion: "2026-01"))
            let secret = SymmetricKey(data: try #require(member.codeSecret.flatMap { Base64URL.decode($0) }))
            // Each code step works once: the second binding shows the code of a step not used yet (this minute's, or the
            // previous one's when the first binding used this minute's), whenever a minute boundary falls between them.
            // The previous minute's code is good only until the next boundary: with less than 20 s left (a loaded
            // machine), the test waits for the boundary and shows the new minute's code instead.
            let first = Date()
            _ = try await p1.registerCard(
                "IC-M-OLD", kind: .ic, memberID: member.memberID, memberCode: MemberCode.make(memberID: member.memberID, secret: secret, at: first))
            _ = try await p1.loadCard("IC-M-OLD", loadID: "ML1", amountMinor: 50_000)
            var now = Date()
            let left = MemberCode.step - now.timeIntervalSince1970.truncatingRemainder(dividingBy: MemberCode.step)
            if MemberCode.step(at: now) == MemberCode.step(at: first), left < 20 {
                try await Task.sleep(for: .seconds(left + 0.1))
                now = Date()
            }
            let unused = MemberCode.step(at: now) == MemberCode.step(at: first) ? now.addingTimeInterval(-60) : now
            _ = try await p1.registerCard(
                "IC-M-NEW", kind: .ic, memberID: member.memberID, memberCode: MemberCode.make(memberID: member.memberID, secret: secret, at: unused))
            // Another member's code, or none, moves nothing.
            let other = try await p1.enrollMember(
                NodeAgent.MemberEnrollment(
                    holder: HolderInput(name: "王五", idType: "resident_id", idNumber: "430102199003071234"),
                    phone: "13900000000", consentVersion: "2026-01"))
            let otherSecret = SymmetricKey(data: try #require(other.codeSecret.flatMap { Base64URL.decode($0) }))
            let wrong = try await Self.post(
                p1, "/v1/cards/IC-M-OLD/block",
                BlockCardRequest(
                    reason: "lost", replacementCardID: "IC-M-NEW", memberCode: MemberCode.make(memberID: other.memberID, secret: otherSecret, at: Date())))
            #expect(wrong.status == 403 && wrong.text.contains("card_not_present"), "\(wrong)")
            #expect(try await p1.card("IC-M-OLD").status == "active")
            let reissued = try await p1.reissueMemberCode(member.memberID, holder: Self.holder)
            let fresh = MemberCode.make(
                memberID: member.memberID, secret: SymmetricKey(data: try #require(reissued.codeSecret.flatMap { Base64URL.decode($0) })), at: Date())
            let moved = try await p1.hub.json(
                .POST, "/v1/cards/IC-M-OLD/block", body: BlockCardRequest(reason: "lost", replacementCardID: "IC-M-NEW", memberCode: fresh),
                as: CardView.self)
            #expect(moved.status == "blocked" && moved.principalMinor == 0)
            #expect(try await p1.card("IC-M-NEW").principalMinor == 50_000)
        }
    }

    // MARK: 3. Overwriting another park's pass

    /// P001's `pass.issued` for `passID`, as the hub logged it.
    static func loggedSale(_ hub: Hub, passID: String) async throws -> PassIssued {
        for index in 0..<hub.log.size {
            let payload = try Assertions.decodePayload(try JWS(compact: try #require(try await hub.store.logEntry(index: index)).jws))
            if case .passIssued(let data) = payload.data, data.passID == passID { return data }
        }
        throw WireError("no pass.issued for \(passID) in the log")
    }

    @Test func anotherParksPassIsNeverChangedOnAnyPathAndTheAnswerIsDecidedBeforeAnythingIsWritten() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let sale = try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: Self.holder))
            try await p1.deliverOutbox()
            let original = try await Self.loggedSale(federation.hub, passID: sale.passID)
            let peer1 = AuthenticatedPeer(principal: .park(p1.park), serial: "t", notAfter: .distantFuture)
            let revenueBefore = try await StrictJSON.encoder.encode(try federation.hub.revenue(peer: peer1))
            let passBefore = try await federation.hub.store.pass(sale.passID)
            let before = try await Self.snapshot(federation.hub)

            // P002 signs a sale of P001's pass id at 0.01 with its own holder, and a refund and a transfer of it.
            var forged = original
            forged.priceMinor = 1
            let (_, issued) = try Assertions.sign(.passIssued(forged), park: p2.park, key: p2.signingKey)
            let (_, refunded) = try Assertions.sign(
                .passRefunded(PassRefunded(passID: sale.passID, amountMinor: 29_900, reason: "x")), park: p2.park, key: p2.signingKey)
            let (_, transferred) = try Assertions.sign(
                .passTransferred(
                    PassTransferred(
                        passID: sale.passID, newHolder: original.holder!, generation: 1, resalePriceMinor: 0, feeMinor: 0, currency: "CNY")), park: p2.park,
                key: p2.signingKey)
            let results = try await Self.ingest(p2, [issued.compact, refunded.compact, transferred.compact])
            #expect(results.map(\.status) == [.rejected, .rejected, .rejected], "\(results)")
            #expect(results.map(\.reason) == ["not_issuer", "not_issuer", "not_issuer"], "\(results)")
            // The deciding endpoints refuse the same, with the same reasons, before anything is stored or logged.
            let direct = try await Self.post(p2, "/v1/passes", PassChangeRequest(assertion: issued.compact))
            #expect(direct.status == 409 && direct.text.contains("not_issuer"), "\(direct)")
            let refund = try await Self.post(p2, "/v1/passes/\(sale.passID)/refund", PassChangeRequest(assertion: refunded.compact))
            #expect(refund.status == 409 && refund.text.contains("not_issuer"), "\(refund)")
            // Even its issuer cannot sell a pass twice or change a sale's price afterwards.
            var repriced = original
            repriced.priceMinor = 1
            let (_, again) = try Assertions.sign(.passIssued(repriced), park: p1.park, key: p1.signingKey)
            #expect(try await Self.ingest(p1, [again.compact]).first?.reason == "already_issued")
            await #expect(try Self.snapshot(federation.hub) == before)
            await #expect(try federation.hub.store.pass(sale.passID) == passBefore)
            await #expect(try StrictJSON.encoder.encode(try federation.hub.revenue(peer: peer1)) == revenueBefore)
            await #expect(try LogVerifier(hub: federation.hub).verify().ok)

            // The legitimate path: the issuer refunds its own pass.
            #expect(try await p1.refundPass(sale.passID, reason: "rain").refundedMinor == 29_900)
        }
    }

    // MARK: 5. Overselling a timed slot

    @Test func aTimedSlotIsNeverOversoldThroughTheRecordPath() async throws {
        try await TestFederation.run { federation in
            let calendar = federation.hub.passes.calendar
            let minute = calendar.minuteOfDay(Date())
            let json = """
                {"products": [{"id": "TIMED-H", "name": "Timed", "currency": "CNY", "price_minor": 6000,
                  "validity": {"kind": "fixed", "from": "2026-01-01", "until": "2099-12-31"},
                  "members": [{"park": "P002", "allocation_minor": 6000}],
                  "time_slots": [{"id": "NOW", "start": "\(TimeSlot.clock(max(0, minute - 30)))", "end": "\(TimeSlot.clock(min(1440, minute + 30)))", "capacity": 3}]}]}
                """
            let file = federation.directory.file("timed.json")
            try json.write(toFile: file, atomically: true, encoding: .utf8)
            _ = try await federation.hub.importProducts(file: file)
            let agents = try await federation.enrollParks(["P001", "P002"])
            let p2 = agents[1]
            // One place sold the legitimate way (decided by the hub).
            let sold = try await p2.sellPass(PassSaleRequest(product: "TIMED-H", channel: "window", holder: Self.holder, slot: "NOW"))
            let template = try await Self.loggedSale(federation.hub, passID: sold.passID)
            // Five more sales of the slot pushed through the record path at once: only the two places left are taken.
            let compacts = try (0..<5).map { _ -> String in
                var sale = template
                sale.passID = UUIDv7.make(now: Date())
                return try Assertions.sign(.passIssued(sale), park: p2.park, key: p2.signingKey).1.compact
            }
            let results = try await Self.ingest(p2, compacts)
            #expect(results.filter { $0.status == .accepted }.count == 2, "\(results)")
            #expect(results.filter { $0.reason == "slot_full" }.count == 3, "\(results)")
            // And the deciding path agrees: the slot is full.
            let more = try await Self.post(
                p2, "/v1/passes",
                PassChangeRequest(
                    assertion: try {
                        var sale = template
                        sale.passID = UUIDv7.make(now: Date())
                        return try Assertions.sign(.passIssued(sale), park: p2.park, key: p2.signingKey).1.compact
                    }()))
            #expect(more.status == 409 && more.text.contains("slot_full"))
        }
    }

    // MARK: 6. Reading other parks' payment references

    @Test func aParkReadsOnlyItsOwnLinesAndItsOwnPaymentReferenceOfABatch() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let card = try SimulatedCard(try await agents[0].registerCard("IC-H6", kind: .ic))
            _ = try await agents[0].loadCard("IC-H6", loadID: "L1", amountMinor: 100_000)
            for (index, agent) in agents.enumerated().dropFirst() {
                _ = try await agent.spendCard(
                    "IC-H6", requestID: "S\(index)", amountMinor: Int64(1_000 * index),
                    proof: card.proof(.hold, amountMinor: Int64(1_000 * index), park: agent.park.rawValue, requestID: "S\(index)"))
            }
            let hub = federation.hub
            let today = hub.passes.calendar.day(of: Date())
            let record = try await hub.runSettlement(day: today, now: hub.endOfDay(today).addingTimeInterval(1))
            _ = try await hub.approveSettlement(record.id, by: .clearing("C01"))
            _ = try await hub.recordSettlementPayments(
                record.id,
                [
                    .init(park: "P001", reference: "REF-P001-SECRET"), .init(park: "P002", reference: "REF-P002"),
                    .init(park: "P003", reference: "REF-P003-SECRET"),
                ], by: .clearing("C01"))
            let export = try await agents[1].hub.json(.GET, "/v1/settlement/batches/\(record.id)", body: Optional<String>.none, as: SettlementExport.self)
            #expect(export.payments == [.init(park: "P002", reference: "REF-P002")])
            #expect(export.obligations.allSatisfy { $0.from == "P002" || $0.to == "P002" } && !export.obligations.isEmpty)
            // Every net position stays visible (the hub's signature covers them), and they sum to zero.
            #expect(export.batch.positions.count == 3 && export.batch.positions.reduce(0) { $0 + $1.netMinor } == 0)
            let csv = try await agents[1].hub.send(.GET, "/v1/settlement/batches/\(record.id)?format=positions.csv")
            let text = String(decoding: csv.body, as: UTF8.self)
            #expect(text.contains("REF-P002") && !text.contains("SECRET"), "\(text)")
            // Clearing staff see every reference.
            await #expect(try hub.settlementExport(try hub.settlementBatch(record.id)).payments.count == 3)
        }
    }
}
