import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// People inside a park now: entries wait at the instantaneous capacity (瞬时承载量) and are admitted again after
/// exits; the exits reach the hub, whose regulator report recomputes the figures from the entries and exits.
@Suite struct OccupancyTests {
    static let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")

    @Test func entriesWaitAtTheInstantaneousCapacityAndAreAdmittedAgainAfterExits() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            try p2.setCapacity(daily: 100, hourly: 100, instantaneous: 2)
            var codes: [String] = []
            for _ in 0..<3 { codes.append(try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: Self.holder)).code) }
            try await p1.deliverOutbox()
            #expect(try await p2.scan(GateScanRequest(code: codes[0], gate: "G1")).decision == .allow)
            #expect(try await p2.scan(GateScanRequest(code: codes[1], gate: "G2")).decision == .allow)
            // Full now: the third waits, told how many are inside, and nothing is counted for it.
            let waiting = try await p2.scan(GateScanRequest(code: codes[2], gate: "G1"))
            #expect(waiting.decision == .deny && waiting.reason == "capacity_full_now" && waiting.occupancy == 2 && waiting.capacityNow == 2, "\(waiting)")
            #expect(waiting.localized(.zh).message.contains("瞬时承载量"))
            // One leaves through the exit gate (a counting gate posts its count): a place is free.
            let after = try await p2.recordExits(GateExitRequest(gate: "EXIT-1", count: 1))
            #expect(after.inside == 1 && after.entries == 2 && after.exits == 1)
            #expect(try await p2.scan(GateScanRequest(code: codes[2], gate: "G1")).decision == .allow)
            #expect(try await p2.occupancy().inside == 2)
            await #expect(throws: (any Error).self) { _ = try await p2.recordExits(GateExitRequest(gate: "EXIT-1", count: 0)) }
            try await p2.deliverOutbox()

            // The regulator's view at the hub, recomputed from the counted entries and exits: 3 in, 1 out, peak 2.
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "regulator")
            let answer = try await federation.curl("/v1/regulator/occupancy", certificate: regulator)
            #expect(answer.httpStatus == 200, "\(answer.body)")
            let report = try StrictJSON.decode(RegulatorOccupancyReport.self, from: Data(answer.body.utf8))
            let park = try #require(report.parks.first { $0.park == "P002" })
            #expect(park.entries == 3 && park.exits == 1 && park.inside == 2 && park.peak == 2 && park.capacityNow == 10_000, "\(park)")
            #expect(report.parks.first { $0.park == "P001" }?.inside == 0)
            // The entered heads come from the running count the triggers keep: it is the sum of the counted entries.
            #expect(try await federation.hub.store.capacityCounterMismatches().isEmpty)
            // A park cannot read it; the query is in the audit like every regulator query.
            let parkCertificate = (p1.directory.tlsCertificate, p1.directory.tlsKey)
            #expect(try await federation.curl("/v1/regulator/occupancy", certificate: parkCertificate).httpStatus == 403)
        }
    }

    @Test func theHubWarnsAtEightyPercentOfPeopleInsideAndLogsEachLevelChange() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let hub = federation.hub
            let today = hub.passes.calendar.day(of: Date())
            try await hub.store.setInstantaneousCapacity(park: "P002", 5)
            var codes: [String] = []
            for _ in 0..<4 { codes.append(try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: Self.holder)).code) }
            func level() async throws -> CapacityLevel? {
                try await hub.store.capacityLevels(from: today, park: "P002").first { $0.measure == .instantaneous }?.level
            }
            for code in codes.prefix(3) { #expect(try await p2.scan(GateScanRequest(code: code, gate: "G1")).decision == .allow) }
            #expect(try await level() == nil, "3 of 5 inside: nothing yet")
            #expect(try await p2.scan(GateScanRequest(code: codes[3], gate: "G1")).decision == .allow)
            #expect(try await level() == .warning, "4 of 5 inside: 80 %")
            // Two leave (their count reaches the hub through the outbox): back to normal.
            _ = try await p2.recordExits(GateExitRequest(gate: "EXIT-1", count: 2))
            try await p2.deliverOutbox()
            #expect(try await level() == .normal)
            let levels = try await hub.store.capacityLevels(from: today, park: "P002")
            #expect(levels.first { $0.measure == .instantaneous }?.used == 2)
        }
    }

    @Test func thePeakIsTheHighestInsideOverTheDaysEventsInOrder() {
        #expect(Occupancy.peak([1, 1, -1, 1, 1, -3, 1]) == 3)
        #expect(Occupancy.peak([-2, 1]) == 1, "exits of people who came in before midnight never take it below zero")
        #expect(Occupancy(entries: 5, exits: 7).inside == 0)
        #expect(Occupancy(entries: 3, exits: 1).admits(heads: 2, capacity: 4) && !Occupancy(entries: 3, exits: 1).admits(heads: 3, capacity: 4))
        // The most inside per hour: entries at 9 and 10, one leaves at 10, nothing after; held until the hour asked.
        #expect(Occupancy.hourlyPeaks([(9, 2), (10, 1), (10, -2)], untilHour: 12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 1, 1] + Array(repeating: 0, count: 11))
    }
}
