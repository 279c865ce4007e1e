import Foundation
import ParkFedCrypto
import ParkFedDomain
import Crypto
import ParkFedHub
import ParkFedPKI
import ParkFedProtocol
import ParkFedTesting
import Testing

/// The hub's rules called in process, as its routes call them, with no server and no TLS: what a hostile park with
/// a valid certificate may and may not do, decided before anything is written. The same rules over real mutual TLS
/// are pinned by the network suites (``HostileParkTests``, ``CardTests``, ``EnrollmentTests``).
@Suite struct HubRuleTests {
    /// The refusal `body` throws, or nil when it does not throw one.
    static func refusal(_ body: () async throws -> some Any) async -> Refusal? {
        do {
            _ = try await body()
            return nil
        } catch let refusal as Refusal {
            return refusal
        } catch {
            Issue.record("expected a refusal, got \(error)")
            return nil
        }
    }

    @Test func anAssertionCountsOnlyOverItsOwnParksConnectionSignedUnchangedAndOnTime() async throws {
        try await InProcessHub.run(parks: ["P001", "P002"]) { rules, parks in
            let hub = rules.hub
            let (p1, p2) = (parks[0], parks[1])
            let genuine = try p1.sign(SampleAssertions.data(4, issuer: p1.id))
            // P002 replays P001's genuine assertion over its own connection; then sends one it changed.
            let replayed = try await hub.ingest(IngestRequest(assertions: [genuine]), from: p2.peer)
            #expect(replayed.results.map(\.reason) == ["issuer_mismatch"])
            var parts = genuine.split(separator: ".").map(String.init)
            parts[1] = Base64URL.encode(Data(#"{"forged":true}"#.utf8))
            let tampered = parts.joined(separator: ".")
            let early = try p1.sign(SampleAssertions.data(14, issuer: p1.id), now: Date().addingTimeInterval(3_600))
            let foreign = try InProcessHub.Park(id: p1.id, peer: p1.peer, signingKey: SigningKey()).sign(SampleAssertions.data(24, issuer: p1.id))
            let refused = try await hub.ingest(IngestRequest(assertions: [tampered, early, foreign, "not a jws"]), from: p1.peer)
            #expect(refused.results.map(\.reason) == ["bad_signature", "clock_skew", "unknown_kid", "malformed_jws"])
            #expect(hub.log.size == 0)
            // The genuine one over its own park's connection: accepted once, a retry is a duplicate at the same index.
            let accepted = try await hub.ingest(IngestRequest(assertions: [genuine, genuine]), from: p1.peer)
            #expect(accepted.results.map(\.status) == [.accepted, .duplicate] && accepted.results[1].index == 0)
            // Only parks submit, and a batch has 1-1,000 assertions.
            let clearing = rules.peer(.clearing("C01"))
            #expect(await Self.refusal { try await hub.ingest(IngestRequest(assertions: [genuine]), from: clearing) }?.kind == .forbidden)
            #expect(await Self.refusal { try await hub.ingest(IngestRequest(assertions: []), from: p1.peer) }?.code == "invalid_batch")
            #expect(hub.log.size == 1)
        }
    }

    @Test func onlyTheCardItselfAuthorisesASpendAndTwoParksNeverOverdrawIt() async throws {
        try await InProcessHub.run(parks: ["P001", "P002", "P003"]) { rules, parks in
            let hub = rules.hub
            let (loader, spender, other) = (parks[0], parks[1], parks[2])
            let card = try SimulatedCard(try await hub.registerCard(RegisterCardRequest(cardID: "IC-RULE-1", kind: .ic), peer: loader.peer))
            _ = try await hub.loadCard("IC-RULE-1", LoadRequest(loadID: "L1", amountMinor: 10_000), peer: loader.peer)
            let before = try await rules.stateDump()
            // Without the card: a cryptogram for another amount, or another park's request, is refused and writes nothing.
            let wrongAmount = HoldRequest(requestID: "R1", amountMinor: 6_000, cardProof: card.proof(.hold, amountMinor: 1, park: "P002", requestID: "R1"))
            #expect(await Self.refusal { try await hub.holdCard("IC-RULE-1", wrongAmount, peer: spender.peer) }?.code == "card_not_present")
            let forOther = HoldRequest(requestID: "R1", amountMinor: 6_000, cardProof: card.proof(.hold, amountMinor: 6_000, park: "P003", requestID: "R1"))
            #expect(await Self.refusal { try await hub.holdCard("IC-RULE-1", forOther, peer: spender.peer) }?.code == "card_not_present")
            // Nobody but its custodian blocks a card.
            #expect(await Self.refusal { try await hub.blockCard("IC-RULE-1", BlockCardRequest(reason: "lost"), peer: other.peer) }?.kind == .forbidden)
            #expect(try await rules.stateDump() == before)
            // The card present at two parks at once: 60.00 twice out of 100.00, one of them is refused.
            let holds = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (park, request) in [(spender, "R2"), (other, "R3")] {
                    let proof = card.proof(.hold, amountMinor: 6_000, park: park.id.rawValue, requestID: request)
                    group.addTask {
                        (try? await hub.holdCard("IC-RULE-1", HoldRequest(requestID: request, amountMinor: 6_000, cardProof: proof), peer: park.peer)) != nil
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(holds.filter { $0 }.count == 1)
            #expect(try await hub.cardBalance("IC-RULE-1", peer: loader.peer).principalMinor == 10_000)
        }
    }

    @Test func aTokenEnrollsOnlyItsOwnParkOnceAndARefusedEnrollmentWritesNothing() async throws {
        try await InProcessHub.run { rules, _ in
            let hub = rules.hub
            let token = try await hub.createEnrollmentToken(park: try ParkID("P003"), name: "Park P003")
            let before = try await rules.stateDump()
            // A CSR naming another park, the wrong park named, a guessed token: refused, nothing written.
            let otherPark = try SigningRequest.make(for: .park(try ParkID("P004")), key: P256.Signing.PrivateKey())
            let signingKey = SigningKey().publicKey.base64URL
            let refusals = [
                await Self.refusal { try await hub.enroll(EnrollmentRequest(token: token, csr: otherPark, signingKey: signingKey)) },
                await Self.refusal { try await hub.enroll(EnrollmentRequest(token: token, csr: otherPark, signingKey: signingKey, park: "P004")) },
                await Self.refusal { try await hub.enroll(EnrollmentRequest(token: "pfe_guessed", csr: otherPark, signingKey: signingKey)) },
            ]
            #expect(refusals.map { $0?.kind } == [.forbidden, .forbidden, .unauthenticated], "\(refusals)")
            #expect(try await rules.stateDump() == before)
            // The park itself enrolls once; the token is then spent.
            let own = try SigningRequest.make(for: .park(try ParkID("P003")), key: P256.Signing.PrivateKey())
            let certificate = try await hub.enroll(EnrollmentRequest(token: token, csr: own, signingKey: signingKey))
            #expect(certificate.principal == "park:P003")
            let again = try SigningRequest.make(for: .park(try ParkID("P003")), key: P256.Signing.PrivateKey())
            let reused = await Self.refusal { try await hub.enroll(EnrollmentRequest(token: token, csr: again, signingKey: SigningKey().publicKey.base64URL)) }
            #expect(reused?.code == "token_used" && reused?.kind == .conflict)
        }
    }

    @Test func parksNeitherRunNorApproveSettlementAndARerunGivesTheSameSignedBatch() async throws {
        try await InProcessHub.run(parks: ["P001", "P002"]) { rules, parks in
            let hub = rules.hub
            let card = try SimulatedCard(try await hub.registerCard(RegisterCardRequest(cardID: "IC-RULE-2", kind: .ic), peer: parks[0].peer))
            _ = try await hub.loadCard("IC-RULE-2", LoadRequest(loadID: "L1", amountMinor: 10_000), peer: parks[0].peer)
            let proof = card.proof(.hold, amountMinor: 2_500, park: "P002", requestID: "R1")
            _ = try await hub.holdCard("IC-RULE-2", HoldRequest(requestID: "R1", amountMinor: 2_500, cardProof: proof), peer: parks[1].peer)
            _ = try await hub.settleHold("IC-RULE-2", requestID: "R1", .capture, peer: parks[1].peer)
            let today = hub.passes.calendar.day(of: Date())
            #expect(await Self.refusal { try await hub.runSettlement(day: today) }?.code == "day_not_over")
            let record = try await hub.runSettlement(day: today, now: Date().addingTimeInterval(2 * 86_400))
            let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
            #expect(batch.positions.map(\.netMinor).reduce(0, +) == 0)
            #expect(Set(batch.positions.map { "\($0.park) \($0.netMinor)" }) == ["P001 -2500", "P002 2500"])
            #expect(await Self.refusal { try await hub.approveSettlement(record.id, by: .park(parks[1].id)) }?.kind == .forbidden)
            let again = try await hub.runSettlement(day: today, now: Date().addingTimeInterval(3 * 86_400))
            #expect(again.body == record.body && again.signature == record.signature)
            let approved = try await hub.approveSettlement(record.id, by: .clearing("C01"))
            #expect(approved.state == "approved")
        }
    }
}
