import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Ticket categories, groups and time slots through real node agents and the real hub over mutual TLS: exact prices
/// and allocations, head counts against capacity, the proof the gate must check, slot capacity and windows.
@Suite struct CategoryTests {
    static let holder = HolderInput(name: "王五", idType: "resident_id", idNumber: "430102199003071234")

    static func sell(
        _ agent: NodeAgent, _ product: String = "JIANGNAN-3P", category: String? = nil, heads: Int? = nil,
        slot: String? = nil
    ) async throws -> PassSaleResponse {
        try await agent.sellPass(PassSaleRequest(product: product, channel: "window", holder: holder, category: category, heads: heads, slot: slot))
    }

    static func problemCode(_ body: () async throws -> Void) async -> String? {
        do { try await body(); return nil } catch let problem as Refusal { return problem.code } catch { return "\(error)" }
    }

    @Test func concessionsAndGroupsHaveTheirPricesAllocationsProofAndHeadCounts() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            try p2.setCapacity(daily: nil, hourly: 15)

            let group = try await Self.sell(p1, category: "group", heads: 12)
            #expect(group.priceMinor == 286_800 && group.heads == 12 && group.category == "group")
            let groupEntry = try await PassTests.scan(p2, group.code)
            #expect(groupEntry.decision == .allow && groupEntry.mode == .online && groupEntry.heads == 12 && groupEntry.message.contains("Group of 12"))

            let child = try await Self.sell(p1, category: "child")
            #expect(child.priceMinor == 14_900 && child.category == "child")
            let childEntry = try await PassTests.scan(p2, child.code)
            #expect(childEntry.decision == .allow && childEntry.checkProof == "child's ID document (age 6-18)")
            #expect(childEntry.message.contains("Check the visitor's child's ID document"))
            #expect(childEntry.localized(.zh).message.contains("请查验游客的child's ID document"))

            // Capacity counts heads: 13 of 15 inside, a group of 10 does not fit, one more child does.
            let second = try await Self.sell(p1, category: "group", heads: 10)
            #expect(try await PassTests.scan(p2, second.code).reason == "capacity_full")
            #expect(try await PassTests.scan(p2, try await Self.sell(p1, category: "child").code).decision == .allow)

            // Each entry at P002 owes P002 its category's allocation times the heads.
            await #expect(try PassTests.obligations(federation.hub) == ["P001→P002 3000", "P001→P002 3000", "P001→P002 60000"])
            // A partly used group gets back the unused allocations of every head: 286,800 − 12 × 5,000.
            #expect(try await p1.refundPass(group.passID, reason: "bus broke down").refundedMinor == 226_800)
            // The regulator's traffic counts heads.
            let today = federation.hub.passes.calendar.day(of: Date()).description
            let regulator = AuthenticatedPeer(principal: .regulator("R01"), serial: "r", notAfter: .distantFuture)
            let traffic = try await federation.hub.regulatorTraffic(from: today, to: today, peer: regulator)
            #expect(traffic.days.first { $0.park == "P002" }?.entries == 14)

            // A transfer keeps the category and is capped at its price; a re-issue keeps the category and heads.
            try await p1.deliverOutbox()
            let over = PassTransferOrder(newHolder: HolderInput(name: "李四", idType: "passport", idNumber: "E12345678"), resalePriceMinor: 15_000)
            #expect(await Self.problemCode { _ = try await p1.transferPass(child.passID, over) } == "resale_above_cap")
            let moved = try await p1.transferPass(child.passID, PassTransferOrder(newHolder: over.newHolder, resalePriceMinor: 14_900))
            #expect(try moved.category == "child" && PassCode(parsing: moved.code).payload.category == "child")
            let reissued = try await p1.reissuePass(second.passID, holder: Self.holder)
            #expect(reissued.category == "group" && reissued.heads == 10 && reissued.generation == 1)

            // Bad categories and head counts are refused with a clear reason, and nothing is sold.
            #expect(await Self.problemCode { _ = try await Self.sell(p1, category: "group", heads: 9) } == "invalid_category")
            #expect(await Self.problemCode { _ = try await Self.sell(p1, category: "child", heads: 2) } == "invalid_category")
            #expect(await Self.problemCode { _ = try await Self.sell(p1, category: "pensioner") } == "invalid_category")
            #expect(await Self.problemCode { _ = try await Self.sell(p1, slot: "AM") } == "invalid_slot")
        }
    }

    /// A catalogue with one timed product whose windows are around now and far from now (so the hub's clock, which
    /// checks every assertion's time, agrees with the test's).
    static func timedCatalogue(_ directory: TemporaryDirectory, calendar: BusinessCalendar) throws -> String {
        let minute = calendar.minuteOfDay(Date())
        let now = (max(0, minute - 30), min(1440, minute + 30))
        let other = minute >= 720 ? (0, 60) : (1380, 1440)
        let json = """
            {"products": [{"id": "TIMED-T", "name": "Timed test", "currency": "CNY", "price_minor": 6000,
              "validity": {"kind": "fixed", "from": "2026-01-01", "until": "2099-12-31"},
              "members": [{"park": "P002", "allocation_minor": 6000}],
              "time_slots": [{"id": "NOW", "start": "\(TimeSlot.clock(now.0))", "end": "\(TimeSlot.clock(now.1))", "capacity": 3},
                             {"id": "OTHER", "start": "\(TimeSlot.clock(other.0))", "end": "\(TimeSlot.clock(other.1))", "capacity": 5}]}]}
            """
        let path = directory.file("timed.json")
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func timedPassesAreSoldUpToTheSlotCapacityAndAdmittedOnlyInTheirWindow() async throws {
        try await TestFederation.run { federation in
            _ = try await federation.hub.importProducts(file: try Self.timedCatalogue(federation.directory, calendar: federation.hub.passes.calendar))
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])

            // Three places in the slot, sold by two parks: the fourth sale is refused by the hub, nothing is logged.
            let first = try await Self.sell(p1, "TIMED-T", slot: "NOW")
            #expect(first.slot == "NOW" && first.validFrom == first.validUntil)
            _ = try await Self.sell(p2, "TIMED-T", slot: "NOW")
            _ = try await Self.sell(p1, "TIMED-T", slot: "NOW")
            let logSize = federation.hub.log.size
            #expect(await Self.problemCode { _ = try await Self.sell(p2, "TIMED-T", slot: "NOW") } == "slot_full")
            #expect(federation.hub.log.size == logSize)
            // A refund gives the place back.
            #expect(try await p1.refundPass(first.passID, reason: "ill").refundedMinor == 6_000)
            let again = try await Self.sell(p2, "TIMED-T", slot: "NOW")

            // In its window the pass enters; a pass for another window is refused for that reason.
            #expect(try await PassTests.scan(p2, again.code).decision == .allow)
            let later = try await Self.sell(p1, "TIMED-T", slot: "OTHER")
            let refused = try await PassTests.scan(p2, later.code)
            #expect(refused.decision == .deny && refused.reason == "outside_time_slot" && refused.message == "This pass is for another entry time.")
            #expect(refused.localized(.zh).message == "此票不在本入园时段内。")
            #expect(await Self.problemCode { _ = try await Self.sell(p1, "TIMED-T") } == "invalid_slot")
            #expect(await Self.problemCode { _ = try await Self.sell(p1, "TIMED-T", slot: "NOON") } == "invalid_slot")

            // A timed sale needs the hub, which counts the slot: without it the window is told so.
            await federation.stopHub()
            #expect(await Self.problemCode { _ = try await Self.sell(p1, "TIMED-T", slot: "OTHER") } == "hub_unreachable")
        }
    }
}
