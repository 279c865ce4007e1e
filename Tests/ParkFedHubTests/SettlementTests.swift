import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// The nightly batcher on a real hub: a hand-computed day of three parks, idempotent re-runs, late arrivals, an
/// interrupted close, approval and payment, and each park checking its own lines.
@Suite struct SettlementTests {
    static let clearing = AuthenticatedPeer(principal: .clearing("C01"), serial: "test", notAfter: .distantFuture)

    /// One business day with every kind of obligation and a 1 % hub fee; every figure below is computed by hand.
    static func playDay(_ federation: TestFederation) async throws -> [NodeAgent] {
        let agents = try await federation.enrollParks(["P001", "P002", "P003"])
        let (p1, p2, p3) = (agents[0], agents[1], agents[2])
        let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
        // Pass sold at P001 (299.00): entries at P002 (60.00) and P003 (80.00) → P001 owes both.
        let jiangnan = try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder))
        #expect(try await p2.scan(GateScanRequest(code: jiangnan.code, gate: "G1")).decision == .allow)
        #expect(try await p3.scan(GateScanRequest(code: jiangnan.code, gate: "G1")).decision == .allow)
        #expect(try await p1.scan(GateScanRequest(code: jiangnan.code, gate: "G1")).decision == .allow)  // own park: nothing owed
        // Pass sold at P003 (160.00): entry at P001 (100.00) → P003 owes P001.
        let lake = try await p3.sellPass(PassSaleRequest(product: "LAKE-AND-MUSEUM-2026", channel: "kiosk", holder: holder))
        #expect(try await p1.scan(GateScanRequest(code: lake.code, gate: "G1")).decision == .allow)
        // An unused pass refunded in full moves nothing between parks.
        let unused = try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "ota", holder: holder))
        #expect(try await p1.refundPass(unused.passID, reason: "unused").refundedMinor == 29_900)
        // Card loaded at P001 (pay 1000 get 200, deduct 8:2), 100.00 spent at P002 (80 + 20), 50.00 of it refunded.
        let card = try SimulatedCard(try await p1.registerCard("IC-S1", kind: .ic))
        _ = try await p1.loadCard("IC-S1", loadID: "L1", promotion: "LOAD1000GET200")
        let spend = try await p2.spendCard(
            "IC-S1", requestID: "R1", amountMinor: 10_000, proof: card.proof(.hold, amountMinor: 10_000, park: "P002", requestID: "R1"))
        #expect(spend.principalMinor == 8_000 && spend.bonusMinor == 2_000)
        _ = try await federation.hub.refundCard(
            "IC-S1", requestID: "R1",
            CardRefundRequest(refundID: "F1", amountMinor: 5_000, cardProof: card.proof(.refund, amountMinor: 5_000, park: "P002", requestID: "F1")),
            peer: AuthenticatedPeer(principal: .park(p2.park), serial: "t", notAfter: .distantFuture))
        for agent in agents { try await agent.deliverOutbox() }
        return agents
    }

    @Test func aHandComputedDayOfThreeParksNetsToTheFen() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Settle", settlementFeeBasisPoints: 100, settlementTime: nil)) { federation in
            let agents = try await Self.playDay(federation)
            let hub = federation.hub
            let today = hub.passes.calendar.day(of: Date())
            // The day is not over yet.
            await #expect(throws: Refusal.self) { try await hub.runSettlement(day: today) }
            let after = hub.endOfDay(today).addingTimeInterval(60)
            let record = try await hub.runSettlement(day: today, now: after)
            let export = try await hub.settlementExport(record)
            let batch = export.batch
            // Obligations (from → to, amount, 1 % fee rounded down):
            //   P001→P002 6000 (60)  pass entry      P001→P003 8000 (80)  pass entry
            //   P003→P001 10000 (100) pass entry     P001→P002 10000 (100) card spend, bonus owed by the loader
            //   P002→P001 5000 (50)  card refund
            #expect(
                export.obligations.map { "\($0.from)→\($0.to) \($0.amountMinor) \($0.feeMinor) \($0.reason)" }.sorted() == [
                    "P001→P002 10000 100 card_spend", "P001→P002 6000 60 pass_redemption", "P001→P003 8000 80 pass_redemption",
                    "P002→P001 5000 50 card_refund", "P003→P001 10000 100 pass_redemption",
                ])
            #expect(batch.obligationCount == 5 && batch.grossMinor == 39_000 && batch.feeMinor == 390)
            // P001: −6000 −8000 −10000 + (10000−100) + (5000−50) = −9150
            // P002: (6000−60) + (10000−100) − 5000 = 10840;  P003: (8000−80) − 10000 = −2080;  hub: 390
            #expect(batch.positions.map { "\($0.park) \($0.netMinor)" } == ["P001 -9150", "P002 10840", "P003 -2080", "hub 390"])
            #expect(batch.positions.reduce(0) { $0 + $1.netMinor } == 0)
            #expect(batch.netMinor == 11_230 && batch.reductionBasisPoints == 7_120)
            #expect(
                export.pairs.map { "\($0.from)→\($0.to) \($0.grossMinor)×\($0.count)" } == [
                    "P001→P002 16000×2", "P001→P003 8000×1", "P002→P001 5000×1", "P003→P001 10000×1",
                ])
            #expect(export.bilateral.map { "\($0.from)→\($0.to) \($0.netMinor)" } == ["P001→P002 11000", "P003→P001 2000"])
            // The pairs the export lists are the ones whose digest the hub signed.
            #expect(batch.pairCount == 4 && Hex.encode(SHA256.hash(data: Data(SettlementBatch.pairsListing(export.pairs).utf8))) == batch.pairsDigest)
            // Each line names the assertion it came from: the gate's pass.redeemed, the spending park's card.spent.
            #expect(export.obligations.filter { $0.reason != "card_refund" }.allSatisfy { $0.assertionIDs.count == 1 })
            #expect(batch.checkpoint.treeSize == hub.log.size)
            // Re-running the day gives the identical signed batch.
            let again = try await hub.runSettlement(day: today, now: after.addingTimeInterval(3600))
            #expect(again.body == record.body && again.signature == record.signature)
            // Every park checks its own lines against what it holds, over mutual TLS.
            for agent in agents {
                let check = try await agent.verifySettlement(record.id)
                #expect(check.problems.isEmpty, "\(agent.park): \(check.problems)")
                #expect(check.position == batch.positions.first { $0.park == agent.park.rawValue }!.netMinor)
            }
            // Draft → approved (clearing only) → paid once every party with a position has a reference.
            await #expect(throws: Refusal.self) {
                try await hub.recordSettlementPayments(record.id, [.init(park: "P001", reference: "X")], by: .clearing("C01"))
            }
            await #expect(throws: Refusal.self) { try await hub.approveSettlement(record.id, by: .park(agents[0].park)) }
            await #expect(try hub.approveSettlement(record.id, by: .clearing("C02")).state == "approved")
            let partly = try await hub.recordSettlementPayments(
                record.id, [.init(park: "P001", reference: "BANK-1"), .init(park: "P002", reference: "BANK-2")], by: .clearing("C01"))
            #expect(partly.state == "approved")
            let paid = try await hub.recordSettlementPayments(
                record.id, [.init(park: "P003", reference: "BANK-3")], by: .clearing("C01"))
            #expect(paid.state == "paid" && paid.body == record.body)
            // CSV: one row per park and one per obligation.
            let paidExport = try await hub.settlementExport(paid)
            #expect(SettlementCSV.positions(paidExport).split(separator: "\n").count == 5)
            #expect(SettlementCSV.positions(paidExport).contains("\(today),P002,10840,CNY,BANK-2"))
            #expect(SettlementCSV.obligations(paidExport).split(separator: "\n").count == 6)
        }
    }

    @Test func eachParkSeesItsRevenueNowAndItsNextPositionIsTheOneTheBatchGives() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Revenue", settlementFeeBasisPoints: 100, settlementTime: nil)) { federation in
            let agents = try await Self.playDay(federation)
            let hub = federation.hub
            // P001 over mutual TLS, before the day is closed (the hand-computed day above).
            let answer = try await federation.curl("/v1/revenue", certificate: (agents[0].directory.tlsCertificate, agents[0].directory.tlsKey))
            #expect(answer.httpStatus == 200, "\(answer.body)")
            let file = federation.directory.file("revenue.json")
            try answer.body.write(toFile: file, atomically: true, encoding: .utf8)
            let valid = try await ExternalTool.run(
                "python3", [Verifiers.path("validate_schemas.py"), Verifiers.repositoryRoot + "/schemas/park-revenue.schema.json=" + file])
            #expect(valid.succeeded, "\(valid.stdout)")
            let p1 = try StrictJSON.decode(ParkRevenue.self, from: Data(answer.body.utf8))
            // Sold: two JIANGNAN-3P passes (one refunded later in full).
            #expect(p1.salesToday.passes == 2 && p1.salesToday.amountMinor == 59_800)
            #expect(p1.owedByUs.map { "\($0.reason) \($0.count) \($0.amountMinor)" } == ["card_spend 1 10000", "pass_redemption 2 14000"])
            #expect(
                p1.owedToUs.map { "\($0.reason) \($0.count) \($0.amountMinor) \($0.feeMinor)" } == ["card_refund 1 5000 50", "pass_redemption 1 10000 100"])
            #expect(p1.nextPositionMinor == -9_150)
            // Every park's "next position" is exactly what the batch then gives it; afterwards nothing is open.
            var before: [String: Int64] = [:]
            for agent in agents { before[agent.park.rawValue] = try await agent.revenue().nextPositionMinor }
            let today = hub.passes.calendar.day(of: Date())
            let batch = try await StrictJSON.decode(
                SettlementBatch.self, from: Data(try hub.runSettlement(day: today, now: hub.endOfDay(today).addingTimeInterval(1)).body.utf8))
            for position in batch.positions where position.park != "hub" { #expect(before[position.park] == position.netMinor, "\(position.park)") }
            let after = try await agents[0].revenue()
            #expect(after.nextPositionMinor == 0 && after.owedByUs.isEmpty && after.settledThrough == today.description)
            // Regulators and clearing staff do not get a park's revenue view.
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "r")
            #expect(try await federation.curl("/v1/revenue", certificate: regulator).httpStatus == 403)
        }
    }

    @Test func aLateObligationGoesIntoTheNextOpenDayNeverIntoAClosedBatch() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Late", settlementTime: nil)) { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let hub = federation.hub
            let holder = HolderInput(name: "王五", idType: "resident_id", idNumber: "430102199003071234")
            let first = try await agents[0].sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder))
            #expect(try await agents[1].scan(GateScanRequest(code: first.code, gate: "G1")).decision == .allow)
            let today = hub.passes.calendar.day(of: Date())
            let closed = try await hub.runSettlement(day: today, now: hub.endOfDay(today).addingTimeInterval(1))
            // An entry accepted now (still "today" on the hub's clock) arrives after its day was closed.
            let late = try await agents[0].sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder))
            #expect(try await agents[1].scan(GateScanRequest(code: late.code, gate: "G1")).decision == .allow)
            await #expect(try hub.runSettlement(day: today, now: hub.endOfDay(today).addingTimeInterval(7200)).body == closed.body)
            await #expect(try hub.settlementExport(closed).obligations.count == 1)
            let tomorrow = today.adding(days: 1)
            let next = try await hub.settlementExport(try hub.runSettlement(day: tomorrow, now: hub.endOfDay(tomorrow).addingTimeInterval(1)))
            #expect(next.obligations.count == 1 && next.obligations[0].period == tomorrow.description && next.batch.after == today.description)
            #expect(next.batch.positions.map { "\($0.park) \($0.netMinor)" } == ["P001 -6000", "P002 6000"])
            // A day before the last closed one cannot be run: its obligations are in a later batch already.
            await #expect(throws: Refusal.self) { try await hub.runSettlement(day: today.adding(days: -1), now: Date().addingTimeInterval(3 * 86_400)) }
        }
    }

    @Test func aCloseInterruptedHalfwayLeavesNoBatchAndARerunMakesAWholeOne() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Crash", settlementTime: nil)) { federation in
            _ = try await Self.playDay(federation)
            let hub = federation.hub
            let today = hub.passes.calendar.day(of: Date())
            // A failure in the middle of the closing transaction (after the batch row is written, while the parties'
            // positions are), made by an outside tool on the real database (sqlite3, or psql on a PostgreSQL store).
            let trigger = try await federation.sqlTool(
                federation.usesPostgres
                    ? """
                    CREATE FUNCTION fail_close() RETURNS trigger AS $$ BEGIN IF NEW.party = 'P002' THEN RAISE EXCEPTION 'disk gone'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
                    CREATE TRIGGER fail_close BEFORE INSERT ON settlement_positions FOR EACH ROW EXECUTE FUNCTION fail_close();
                    """ : "CREATE TRIGGER fail_close BEFORE INSERT ON settlement_positions WHEN NEW.party = 'P002' BEGIN SELECT RAISE(ABORT, 'disk gone'); END;"
            )
            #expect(trigger.succeeded, "\(trigger.stderr)")
            await #expect(throws: (any Error).self) { try await hub.runSettlement(day: today, now: hub.endOfDay(today).addingTimeInterval(1)) }
            await #expect(try hub.store.batch(day: today) == nil)
            await #expect(try hub.store.unsettledObligations().count == 5)
            _ = try await federation.sqlTool(federation.usesPostgres ? "DROP TRIGGER fail_close ON settlement_positions;" : "DROP TRIGGER fail_close;")
            let record = try await hub.runSettlement(day: today, now: hub.endOfDay(today).addingTimeInterval(1))
            await #expect(try hub.settlementExport(record).obligations.count == 5)
            await #expect(try hub.store.unsettledObligations().isEmpty)
            let rows = try await federation.sqlTool("SELECT COUNT(*) FROM settlement_positions;")
            #expect(rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
        }
    }

    @Test func theRunningHubClosesThePreviousDayByItselfAfterTheConfiguredLocalTime() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Nightly", settlementTime: "02:00")) { federation in
            _ = try await Self.playDay(federation)
            let hub = federation.hub
            let today = hub.passes.calendar.day(of: Date())
            await hub.settleIfDue(now: hub.endOfDay(today).addingTimeInterval(3600))  // 01:00 the next day: not yet
            await #expect(try hub.store.batch(day: today) == nil)
            await hub.settleIfDue(now: hub.endOfDay(today).addingTimeInterval(2 * 3600 + 60))  // 02:01
            let batch = try await #require(try hub.store.batch(day: today))
            await #expect(try hub.settlementExport(batch).obligations.count == 5)
            await hub.settleIfDue(now: hub.endOfDay(today).addingTimeInterval(3 * 3600))  // nothing more to do
            await #expect(try hub.store.batches().count == 1)
        }
    }

    @Test func clearingStaffRunTheDayOverMutualTLSAndParksReadOnlyTheirLines() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Wire", settlementTime: nil)) { federation in
            _ = try await Self.playDay(federation)
            let clearing = try await federation.issueCertificate(for: .clearing("C01"), name: "clearing")
            let yesterday = federation.hub.passes.calendar.day(of: Date()).adding(days: -1)
            let run = try await federation.curl("/v1/settlement/batches", certificate: clearing, method: "POST", body: #"{"day":"\#(yesterday)"}"#)
            #expect(run.httpStatus == 201, "\(run.body)")
            let export = try StrictJSON.decode(SettlementExport.self, from: Data(run.body.utf8))
            #expect(export.batch.day == yesterday.description && export.obligations.isEmpty && export.state == "draft")
            let today = federation.hub.passes.calendar.day(of: Date())
            let notOver = try await federation.curl("/v1/settlement/batches", certificate: clearing, method: "POST", body: #"{"day":"\#(today)"}"#)
            #expect(notOver.httpStatus == 409 && notOver.body.contains("day_not_over"))
            _ = try await federation.hub.runSettlement(day: today, now: federation.hub.endOfDay(today).addingTimeInterval(1))
            let park = (federation.directory.file("node-P003") + "/node-cert.pem", federation.directory.file("node-P003") + "/node-key.pem")
            #expect(try await federation.curl("/v1/settlement/batches", certificate: park, method: "POST", body: #"{"day":"\#(today)"}"#).httpStatus == 403)
            let lines = try await federation.curl("/v1/settlement/batches/S-\(today)", certificate: park)
            let parkView = try StrictJSON.decode(SettlementExport.self, from: Data(lines.body.utf8))
            #expect(parkView.obligations.count == 2 && parkView.obligations.allSatisfy { $0.from == "P003" || $0.to == "P003" })
            let csv = try await federation.curl("/v1/settlement/batches/S-\(today)?format=positions.csv", certificate: clearing)
            #expect(csv.body.hasPrefix("day,park,net_minor,currency,payment_reference") && csv.body.contains("P002"))
            #expect(try await federation.curl("/v1/settlement/batches/S-\(today)/approve", certificate: park, method: "POST").httpStatus == 403)
            #expect(try await federation.curl("/v1/settlement/batches/S-\(today)/approve", certificate: clearing, method: "POST").httpStatus == 200)
        }
    }
}
