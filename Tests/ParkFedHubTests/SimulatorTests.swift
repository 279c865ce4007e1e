import Foundation
import ParkFedTesting
import Testing

/// The seeded federation simulator (below the sockets): random days of sales, entries, cards, partitions, restarts
/// and clock drift, with every invariant checked after every step. `PARKFED_SIM_SEEDS` sets how many seeds (30 here,
/// beside the other tests; CI also runs `parkfed simulate --seeds 200` on its own).
@Suite struct SimulatorTests {
    @Test func seededFederationDaysKeepEveryInvariant() async throws {
        let seeds = UInt64(ProcessInfo.processInfo.environment["PARKFED_SIM_SEEDS"].flatMap(Int.init) ?? 30)
        let template = try await FederationSimulator.Template.make()
        defer { template.directory.remove() }
        var offline = 0, online = 0, conflicts = 0, batches = 0
        for seed in 1...seeds {
            do {
                let summary = try await FederationSimulator.run(seed: seed, steps: 30, template: template)
                offline += summary.offlineEntries
                online += summary.onlineEntries
                conflicts += summary.conflicts
                batches += summary.batches
            } catch {
                Issue.record("\(error)")
                return
            }
        }
        // The runs must have exercised what they claim to.
        #expect(offline > 0 && online > 0 && batches > 0, "offline \(offline), online \(online), conflicts \(conflicts), batches \(batches)")
    }

    @Test func theSameSeedMakesTheSameDecisions() async throws {
        let template = try await FederationSimulator.Template.make()
        defer { template.directory.remove() }
        let first = try await FederationSimulator.run(seed: 7, steps: 60, template: template)
        let second = try await FederationSimulator.run(seed: 7, steps: 60, template: template)
        #expect(first.description == second.description)
    }
}
