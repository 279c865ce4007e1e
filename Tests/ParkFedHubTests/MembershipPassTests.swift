import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Annual, season and month passes: valid at several parks, each entry a usage record, and the price split among
/// the parks by entries at the settlement after the pass has ended (once no entry of it can still arrive).
@Suite struct MembershipPassTests {
    @Test func aMonthPassPriceIsSplitByEntriesAtTheFirstSettlementAfterItCanNoLongerChange() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Members", settlementTime: nil)) { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let (p1, p2, p3) = (agents[0], agents[1], agents[2])
            let hub = federation.hub
            let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
            // REGION-MONTH: 99.00, 30 days from first entry, split by entries, nothing retained by the issuer.
            let month = try await p1.sellPass(PassSaleRequest(product: "REGION-MONTH", channel: "window", holder: holder))
            #expect(try await p1.scan(GateScanRequest(code: month.code, gate: "G1")).decision == .allow)
            #expect(try await p2.scan(GateScanRequest(code: month.code, gate: "G1")).decision == .allow)
            #expect(try await p2.scan(GateScanRequest(code: month.code, gate: "G2")).decision == .allow)
            #expect(try await p3.scan(GateScanRequest(code: month.code, gate: "G1")).decision == .allow)
            // An unused month pass is refunded in full; a used one is not refunded at all (its price is shared later).
            let unused = try await p1.sellPass(PassSaleRequest(product: "REGION-MONTH", channel: "ota", holder: holder))
            #expect(try await p1.refundPass(unused.passID, reason: "unused").refundedMinor == 9_900)
            await #expect(try hub.passView(month.passID, peer: .init(principal: .park(p1.park), serial: "t", notAfter: .distantFuture)).refundDueMinor == 0)
            for agent in agents { try await agent.deliverOutbox() }

            // Entries of the pass earn nothing when they happen.
            let today = hub.passes.calendar.day(of: Date())
            let first = try await hub.runSettlement(day: today, now: hub.endOfDay(today).addingTimeInterval(60))
            await #expect(try hub.settlementExport(first).obligations.isEmpty)
            // The pass is usable through today + 29; entries may arrive up to 7 days late (assertion_max_delay), so the
            // split waits until the batch of today + 36, and not a day less.
            let lastDay = today.adding(days: 29 + 7)
            let before = try await hub.runSettlement(day: lastDay.adding(days: -1), now: hub.endOfDay(lastDay).addingTimeInterval(60))
            await #expect(try hub.settlementExport(before).obligations.isEmpty)
            let record = try await hub.runSettlement(day: lastDay, now: hub.endOfDay(lastDay).addingTimeInterval(60))
            let export = try await hub.settlementExport(record)
            // 9900 by entries 1 : 2 : 1 → P001 2475 (the issuer keeps it), P002 4950, P003 2475.
            #expect(
                export.obligations.map { "\($0.from)→\($0.to) \($0.amountMinor) \($0.reason) \($0.reference)" } == [
                    "P001→P002 4950 member_pass_allocation \(month.passID)", "P001→P003 2475 member_pass_allocation \(month.passID)",
                ])
            #expect(export.batch.positions.map { "\($0.park) \($0.netMinor)" } == ["P001 -7425", "P002 4950", "P003 2475"])
            // Each line lists the usage records it came from: the receiving park's entries of the pass.
            #expect(export.obligations.map(\.assertionIDs.count) == [2, 1])
            // Re-running gives the same batch; the pass is never allocated twice.
            await #expect(try hub.runSettlement(day: lastDay, now: hub.endOfDay(lastDay).addingTimeInterval(7200)).body == record.body)
            await #expect(try hub.store.allocationPeriod(pass: month.passID) == lastDay)
            await #expect(try hub.store.allocationPeriod(pass: unused.passID) == nil)
            // Every park checks its lines against what it holds.
            for agent in agents {
                let check = try await agent.verifySettlement(record.id)
                #expect(check.problems.isEmpty, "\(agent.park): \(check.problems)")
            }
        }
    }
}
