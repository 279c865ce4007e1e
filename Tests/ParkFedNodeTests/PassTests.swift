import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Combo passes end to end: sale, gates of three parks through the real hub over mutual TLS, exact allocations,
/// refunds and transfers.
@Suite struct PassTests {
    static let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")

    static func sell(_ agent: NodeAgent, _ product: String, date: String? = nil, holder: HolderInput = holder) async throws -> PassSaleResponse {
        try await agent.sellPass(PassSaleRequest(product: product, channel: "window", holder: holder, date: date))
    }

    static func scan(_ agent: NodeAgent, _ code: String, gate: String = "G1", now: Date = Date()) async throws -> GateDecision {
        try await agent.scan(GateScanRequest(code: code, gate: gate), now: now)
    }

    /// Obligations as "from→to amount" strings, sorted.
    static func obligations(_ hub: Hub) async throws -> [String] {
        try await hub.store.unsettledObligations().filter { $0.reason == "pass_redemption" }.map { "\($0.from)→\($0.to) \($0.amountMinor)" }.sorted()
    }

    @Test func aSaleGivesAShortSignedCodeWithoutTheIDNumber() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001"])
            let sale = try await Self.sell(agents[0], "JIANGNAN-3P")
            #expect(sale.code.utf8.count <= 412 && sale.qrVersion <= 15)
            #expect(sale.holderNameMasked == "张*三" && sale.idNumberMasked == "1101**********002X")
            #expect(sale.priceMinor == 29_900)
            let code = try PassCode(parsing: sale.code)
            let payload = String(decoding: code.jws.payload, as: UTF8.self)
            #expect(!sale.code.contains("11010519491231002X") && !payload.contains("11010519491231002X") && !payload.contains("张小三"))
            #expect(code.issuer.rawValue == "P001" && code.generation == 0)
            // The sale's pass.issued waits in the outbox, then reaches the hub, which knows the pass.
            await #expect(agents[0].status().outbox.pending == 1)
            try await agents[0].deliverOutbox()
            let view = try await federation.hub.passView(
                sale.passID, peer: AuthenticatedPeer(principal: .clearing("C1"), serial: "x", notAfter: .distantFuture))
            #expect(view.refundDueMinor == 29_900 && view.entriesUsed == 0)
            // Invalid holders and unknown products are refused with a clear reason.
            await #expect(throws: Refusal.self) {
                try await Self.sell(agents[0], "JIANGNAN-3P", holder: HolderInput(name: "李四", idType: "resident_id", idNumber: "110105194912310021"))
            }
            await #expect(throws: Refusal.self) { try await Self.sell(agents[0], "NO-SUCH-PRODUCT") }
        }
    }

    @Test func gatesOfThreeParksCountEntriesAndEachRedemptionElsewhereOwesTheAllocation() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let (p1, p2, p3) = (agents[0], agents[1], agents[2])
            let sale = try await Self.sell(p1, "JIANGNAN-3P")

            // P002 allows two entries, then refuses; the hub learns of the pass from its code before pass.issued arrives.
            let first = try await Self.scan(p2, sale.code)
            #expect(first.decision == .allow && first.mode == .online && first.entriesLeft == 1 && first.holderNameMasked == "张*三")
            let second = try await Self.scan(p2, sale.code, gate: "G2")
            #expect(second.decision == .allow && second.entriesLeft == 0)
            let third = try await Self.scan(p2, sale.code)
            #expect(third.decision == .deny && third.reason == "already_used")
            #expect(try await Self.scan(p3, sale.code).decision == .allow)
            #expect(try await Self.scan(p1, sale.code).decision == .allow)
            #expect(try await Self.scan(p1, sale.code).reason == "already_used")
            // The selling park owes each other park its allocation per entry; its own entry moves nothing.
            await #expect(try Self.obligations(federation.hub) == ["P001→P002 6000", "P001→P002 6000", "P001→P003 8000"])
            try await p1.deliverOutbox()
            let view = try await p1.hub.json(.GET, "/v1/passes/\(sale.passID)", body: Optional<String>.none, as: PassView.self)
            #expect(view.entriesUsed == 4 && view.refundDueMinor == 0 && view.activatedOn != nil)
            // Every entry the hub admitted is in the verifiable log and each gate's node checks its inclusion.
            let audit = try await p2.auditLog()
            #expect(audit.verifiedInclusions == 2)
            await #expect(try LogVerifier(hub: federation.hub).verify().ok)
        }
    }

    @Test func refundsReturnTheUnusedAllocationsAndRevokeThePass() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let (p1, p2, p3) = (agents[0], agents[1], agents[2])
            let unused = try await Self.sell(p1, "JIANGNAN-3P")
            #expect(try await p1.refundPass(unused.passID, reason: "plans changed").refundedMinor == 29_900)
            let partly = try await Self.sell(p1, "JIANGNAN-3P")
            #expect(try await Self.scan(p2, partly.code).decision == .allow)
            // 299.00 − one P002 entry (60.00) = 239.00.
            #expect(try await p1.refundPass(partly.passID, reason: "rain").refundedMinor == 23_900)
            // The hub refuses the refunded pass online; after fetching revocations, even an offline gate refuses it.
            #expect(try await Self.scan(p3, partly.code).reason == "revoked")
            try await p2.refreshRevocations()
            await federation.stopHub()
            let offline = try await Self.scan(p2, unused.code)
            #expect(offline.decision == .deny && offline.reason == "revoked" && offline.mode == .offline)
            try await federation.startHub()
            await #expect(throws: Refusal.self) { try await p1.refundPass(partly.passID, reason: "again") }
            // The P002 entry before the refund still stands: P001 owes its allocation.
            await #expect(try Self.obligations(federation.hub) == ["P001→P002 6000"])
            // A pass under the unused-pass-only rule refunds nothing once used.
            let any2 = try await Self.sell(p1, "ANY2-OF-3")
            #expect(try await Self.scan(p3, any2.code).decision == .allow)
            #expect(try await p1.refundPass(any2.passID, reason: "rule").refundedMinor == 0)
        }
    }

    @Test func forgedTamperedExpiredRevokedAndWrongParkPassesAreRefusedWithTheirReason() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let (p1, p2, p3) = (agents[0], agents[1], agents[2])
            let good = try await Self.sell(p1, "LAKE-AND-MUSEUM-2026")

            // Tampered: one character of the payload changed.
            let parts = good.code.split(separator: ".").map(String.init)
            var payload = Array(parts[1])
            payload[10] = payload[10] == "A" ? "B" : "A"
            #expect(try await Self.scan(p3, [parts[0], String(payload), parts[2]].joined(separator: ".")).reason == "forged")
            #expect(try await Self.scan(p3, "not a pass").reason == "forged")
            // Signed by a key the federation does not know.
            let stranger = try PassCode.make(
                .init(
                    issuer: p1.park, passID: "X1", product: "LAKE-AND-MUSEUM-2026", validFrom: try CivilDay("2026-01-01"),
                    validUntil: try CivilDay("2027-12-31"), generation: 0, name: "王*"), key: SigningKey())
            #expect(try await Self.scan(p3, stranger.text).reason == "unknown_key")
            // Signed by P001's own key but past its validity (a code the park printed long ago).
            let old = try PassCode.make(
                .init(
                    issuer: p1.park, passID: "OLD-1", product: "LAKE-AND-MUSEUM-2026", validFrom: try CivilDay("2026-01-01"),
                    validUntil: try CivilDay("2026-01-31"), generation: 0, name: "王*"), key: p1.signingKey)
            #expect(try await Self.scan(p3, old.text).reason == "expired")
            // Sold for a later visit date.
            let later = try await Self.sell(p1, "JIANGNAN-3P", date: CivilDay(dayNumber: p1.calendar.day(of: Date()).dayNumber + 3).description)
            #expect(try await Self.scan(p2, later.code).reason == "not_yet_valid")
            // The lake-and-museum pass does not include P002.
            #expect(try await Self.scan(p2, good.code).reason == "not_valid_here")
            // Capacity: P003 admits one visitor a day.
            try p3.setCapacity(daily: 1, hourly: 1)
            #expect(try await Self.scan(p3, good.code).decision == .allow)
            let another = try await Self.sell(p1, "LAKE-AND-MUSEUM-2026")
            #expect(try await Self.scan(p3, another.code).reason == "capacity_full")
            // A revoked park's key: its passes stop working at every gate once the trust list says so, and the hub
            // (which decides every sale while it is reachable) refuses the revoked park's next sale.
            let jiangnan = try await Self.sell(p1, "JIANGNAN-3P")
            _ = try await federation.hub.revoke(park: p1.park)
            try await p2.refreshTrustList()
            #expect(try await Self.scan(p2, jiangnan.code).reason == "revoked")
            do {
                _ = try await Self.sell(p1, "JIANGNAN-3P")
                Issue.record("a revoked park sold a pass while the hub was reachable")
            } catch let refusal as Refusal {
                #expect(refusal.code == "certificate_revoked")
            }
        }
    }

    @Test func aTransferWithinTheCapGivesANewCodeAndTheOldOneStopsWorking() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let sale = try await Self.sell(p1, "JIANGNAN-3P")
            let buyer = HolderInput(name: "李四", idType: "passport", idNumber: "E12345678")
            await #expect(throws: Refusal.self) {
                try await p1.transferPass(sale.passID, PassTransferOrder(newHolder: buyer, resalePriceMinor: 30_000))
            }
            let moved = try await p1.transferPass(sale.passID, PassTransferOrder(newHolder: buyer, resalePriceMinor: 25_000))
            #expect(moved.generation == 1 && moved.holderNameMasked == "李*" && moved.code != sale.code)
            #expect(try await Self.scan(p2, sale.code).reason == "revoked")
            let entry = try await Self.scan(p2, moved.code)
            #expect(entry.decision == .allow && entry.holderNameMasked == "李*")
            // The lake-and-museum product does not allow transfers.
            let fixed = try await Self.sell(p1, "LAKE-AND-MUSEUM-2026")
            await #expect(throws: Refusal.self) {
                try await p1.transferPass(fixed.passID, PassTransferOrder(newHolder: buyer, resalePriceMinor: 100))
            }
        }
    }

    /// Many gates of three parks try the last entry of one pooled pass at once: exactly one is admitted.
    @Test func concurrentGatesOfThreeParksNeverBothTakeTheLastEntry() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            for round in 0..<3 {
                let sale = try await Self.sell(agents[0], "ANY2-OF-3")
                // One of the two entries is used at the park of this round.
                #expect(try await Self.scan(agents[round], sale.code).decision == .allow)
                let decisions = try await withThrowingTaskGroup(of: GateDecision.self) { group in
                    for (index, agent) in agents.enumerated() {
                        for gate in 0..<5 {
                            group.addTask { try await Self.scan(agent, sale.code, gate: "P\(index)-G\(gate)") }
                        }
                    }
                    return try await group.reduce(into: [GateDecision]()) { $0.append($1) }
                }
                #expect(decisions.count == 15)
                #expect(decisions.filter { $0.decision == .allow }.count == 1)
                #expect(decisions.filter { $0.decision == .deny }.allSatisfy { $0.reason == "already_used" })
            }
            // Nothing conflicting was logged: every refusal happened before the log.
            let clearing = AuthenticatedPeer(principal: .clearing("C1"), serial: "x", notAfter: .distantFuture)
            await #expect(try federation.hub.passConflicts(peer: clearing).conflicts.isEmpty)
        }
    }
}
