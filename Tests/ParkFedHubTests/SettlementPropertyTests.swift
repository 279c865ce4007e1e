import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Properties over random federations and days, on a real hub database: every batch's positions sum to zero, its
/// running totals equal the obligation rows, re-running any day gives the identical signed batch, and every
/// obligation lands in exactly one batch.
@Suite struct SettlementPropertyTests {
    @Test(arguments: 0..<12) func randomDaysSumToZeroAreIdempotentAndTakeEveryObligationOnce(seed: Int) async throws {
        var random = SeededRandom(seed: UInt64(seed))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fees = Int(random.next() % 3 == 0 ? random.next() % 150 : 0)
        let hubDirectory = try await HubDirectory.initialize(
            at: directory.file("hub"),
            configuration: HubConfiguration(
                federation: "Prop \(seed)", settlementFeeBasisPoints: fees, settlementTime: nil))
        let hub = try await Hub(directory: hubDirectory)
        let parks = try (0..<Int(random.next() % 6 + 2)).map { try ParkID(String(format: "P%03d", $0)) }
        let first = try CivilDay("2026-11-01")
        var total = 0, gross: Int64 = 0
        var batches: [SettlementBatchRecord] = []
        for offset in 0..<Int(random.next() % 5 + 1) {
            let day = first.adding(days: offset)
            var rows: [(Obligation, CivilDay)] = []
            for i in 0..<Int(random.next() % 200) {
                let from = Int(random.next() % UInt64(parks.count))
                let to = (from + 1 + Int(random.next() % UInt64(parks.count - 1))) % parks.count
                let amount = Int64(random.next() % 100_000 + 1)
                // Some obligations are filed under an earlier (already closed) day: they must go into this one.
                let filed = offset > 0 && random.next() % 10 == 0 ? first.adding(days: offset - 1) : day
                rows.append((Obligation(from: parks[from], to: parks[to], amountMinor: amount, reason: "test", reference: "\(offset)-\(i)"), filed))
                gross += amount
            }
            try await hub.store.loadObligations(rows, at: hub.endOfDay(day).addingTimeInterval(-1))
            total += rows.count
            let record = try await hub.runSettlement(day: day, now: hub.endOfDay(day).addingTimeInterval(1))
            let export = try await hub.settlementExport(record)
            #expect(export.batch.positions.reduce(0) { $0 + $1.netMinor } == 0, "seed \(seed)")
            #expect(export.obligations.count == rows.count, "seed \(seed): every obligation of the day, late ones included")
            #expect(export.batch.grossMinor == export.obligations.reduce(0) { $0 + $1.amountMinor })
            #expect(export.batch.feeMinor == export.obligations.reduce(0) { $0 + $1.feeMinor })
            var recomputed = Netting(feeBasisPoints: Int64(fees))
            for line in export.obligations { try recomputed.add(from: line.from, to: line.to, amountMinor: line.amountMinor) }
            #expect(recomputed.result().positions.map { SettlementBatch.Position(park: $0.party, netMinor: $0.netMinor) } == export.batch.positions)
            let again = try await hub.runSettlement(day: day, now: Date().addingTimeInterval(86_400 * 60))
            #expect(again.body == record.body && again.signature == record.signature)
            batches.append(record)
        }
        var all: [SettlementExport] = []
        for batch in batches { all.append(try await hub.settlementExport(batch)) }
        #expect(all.reduce(0) { $0 + $1.obligations.count } == total)
        #expect(Set(all.flatMap { $0.obligations.map(\.seq) }).count == total)
        #expect(all.reduce(Int64(0)) { $0 + $1.batch.grossMinor } == gross)
    }
}
