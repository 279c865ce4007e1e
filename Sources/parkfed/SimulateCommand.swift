import ArgumentParser
import Foundation
import ParkFedLab

/// `parkfed simulate`: the seeded federation simulator, for longer runs than CI's.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract:
            "Run the seeded federation simulator: random days of sales, entries, cards, partitions, restarts and clock drift, every invariant checked after every step.",
        discussion:
            "A failure prints its seed and step; `--seed S` replays exactly that run. CI runs 200 seeds of 30 steps with this command, and 30 more in SimulatorTests."
    )
    @Option(help: "How many seeds to run, starting at --first.") var seeds = 1_000
    @Option(help: "The first seed.") var first: UInt64 = 1
    @Option(help: "Replay this one seed only.") var seed: UInt64?
    @Option(help: "Steps per run (each 1-45 simulated minutes).") var steps = 200

    func validate() throws {
        guard seeds > 0, (1...100_000).contains(steps) else { throw ValidationError("--seeds must be positive and --steps 1-100000") }
    }

    func run() async throws {
        let template = try await FederationSimulator.Template.make()
        defer { template.directory.remove() }
        let range: [UInt64] = seed.map { [$0] } ?? Array(first..<(first + UInt64(seeds)))
        let started = ContinuousClock.now
        for (done, seed) in range.enumerated() {
            do {
                let summary = try await FederationSimulator.run(seed: seed, steps: steps, template: template)
                if range.count == 1 || (done + 1) % 50 == 0 || done + 1 == range.count {
                    print("[\(done + 1)/\(range.count)] seed \(seed): \(summary)")
                }
            } catch {
                print("FAILED \(error)")
                throw ExitCode(1)
            }
        }
        print(String(format: "%d seed(s) × %d steps: every invariant held (%.1f s)", range.count, steps, (ContinuousClock.now - started).seconds))
    }
}
