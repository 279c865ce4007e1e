import Foundation
import Logging
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Online backups and checked restores, for the hub and the node agent.
@Suite struct BackupTests {
    /// The hub's online backup copies its SQLite file; a PostgreSQL store is backed up by PostgreSQL's own tools
    /// (pg_dump, base backups), so on that store `parkfed hub backup` refuses with that advice (tested below).
    @Test(.disabled(if: TestStore.usesPostgres, "a PostgreSQL store is backed up with pg_dump"))
    func aBackupTakenWhileServingRestoresIntoAFreshHubWithEveryAcknowledgedFact() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
            // Acknowledged before the backup: sales delivered, entries admitted online, a card loaded and spent.
            var passes: [String] = []
            for _ in 0..<5 {
                let sale = try await agents[0].sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder))
                #expect(try await agents[1].scan(GateScanRequest(code: sale.code, gate: "G1")).decision == .allow)
                passes.append(sale.passID)
            }
            let card = try SimulatedCard(try await agents[0].registerCard("IC-B1", kind: .ic))
            let spender = agents[1].park.rawValue
            _ = try await agents[0].loadCard("IC-B1", loadID: "L1", promotion: "LOAD1000GET200")
            _ = try await agents[1].spendCard(
                "IC-B1", requestID: "R1", amountMinor: 10_000, proof: card.proof(.hold, amountMinor: 10_000, park: spender, requestID: "R1"))
            try await agents[0].deliverOutbox()
            try await agents[1].deliverOutbox()
            let acknowledged = try await federation.hub.store.logSize()

            // The backup runs while another park keeps writing.
            let busy = Task {
                for i in 0..<20 {
                    _ = try? await agents[1].spendCard(
                        "IC-B1", requestID: "BUSY-\(i)", amountMinor: 100,
                        proof: card.proof(.hold, amountMinor: 100, park: spender, requestID: "BUSY-\(i)"))
                }
            }
            let backup = federation.directory.file("backup")
            try await federation.hub.backup(to: backup)
            await busy.value
            #expect(
                FileManager.default.fileExists(atPath: backup + "/hub-signing-key.pem") && FileManager.default.fileExists(atPath: backup + "/field-keys.json"))

            // Restored into a fresh directory: integrity and the whole log checked first.
            let restoredPath = federation.directory.file("restored")
            let report = try await Hub.restore(from: backup, to: restoredPath)
            #expect(report.ok && report.entries >= acknowledged)
            let restored = try await Hub(directory: HubDirectory(restoredPath), logger: Logger(label: "restored"))
            for id in passes { await #expect(try restored.store.pass(id)?.entries[agents[1].park] == 1) }
            await #expect(try restored.store.authorisations(card: "IC-B1").contains { $0.requestID == "R1" && $0.state == .captured })
            let ledger = try await restored.store.ledgerTotals()
            #expect(ledger.debits == ledger.credits)
            // Real-name data still opens with the copied keys.
            await #expect(try restored.passes(heldBy: .residentID, number: "11010519491231002X").count == 5)
            // A backup without the real-name keys is refused (a restored hub would otherwise make new ones that open nothing).
            let keyless = federation.directory.file("keyless")
            try FileManager.default.copyItem(atPath: backup, toPath: keyless)
            try FileManager.default.removeItem(atPath: keyless + "/field-keys.json")
            await #expect(throws: StoreError.self) { try await Hub.restore(from: keyless, to: federation.directory.file("restored-keyless")) }
            #expect(!FileManager.default.fileExists(atPath: federation.directory.file("restored-keyless")))
            // A backup is never written over an existing directory, nor restored over one.
            await #expect(throws: StoreError.self) { try await federation.hub.backup(to: backup) }
            await #expect(throws: StoreError.self) { try await Hub.restore(from: backup, to: restoredPath) }
        }
    }

    @Test(.enabled(if: TestStore.usesPostgres, "only a PostgreSQL store"))
    func aPostgresStoreIsNotCopiedAsAFileButPointsToPgDump() async throws {
        try await TestFederation.run { federation in
            let target = federation.directory.file("backup")
            await #expect(throws: StoreError.self) { _ = try await federation.hub.backup(to: target) }
            do { _ = try await federation.hub.backup(to: target) } catch { #expect("\(error)".contains("pg_dump")) }
        }
    }

    @Test(.disabled(if: TestStore.usesPostgres, "a PostgreSQL store is backed up with pg_dump"))
    func aTamperedBackupIsRefusedAndNothingIsInstalled() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            for i in 0..<10 { _ = try await agent.record(SampleAssertions.data(i, issuer: agent.park)) }
            try await agent.deliverOutbox()
            let backup = federation.directory.file("backup")
            let parkfed = try BackgroundProcess.parkfedExecutable()
            let made = try await ExternalTool.run(parkfed, ["hub", "backup", "--data", federation.hub.directory.path, "--out", backup])
            #expect(made.succeeded, "\(made.stderr)")
            // One byte of one logged assertion changed in the copy.
            let edit = try await ExternalTool.run("sqlite3", [backup + "/hub.sqlite", "UPDATE log_entries SET jws = jws || 'x' WHERE idx = 3"])
            #expect(edit.succeeded, "\(edit.stderr)")
            let target = federation.directory.file("restored")
            let refused = try await ExternalTool.run(parkfed, ["hub", "restore", "--from", backup, "--data", target])
            #expect(!refused.succeeded && refused.stderr.contains("does not verify"), "\(refused.stdout)\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: target) && !FileManager.default.fileExists(atPath: target + ".restoring"))
            // A damaged file fails SQLite's integrity check before anything else.
            let garbage = federation.directory.file("garbage")
            try FileManager.default.createDirectory(atPath: garbage, withIntermediateDirectories: true)
            try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: garbage + "/hub.sqlite"))
            #expect(!(try await ExternalTool.run(parkfed, ["hub", "restore", "--from", garbage, "--data", target])).succeeded)
            #expect(!FileManager.default.fileExists(atPath: target))
        }
    }

    @Test func aNodeBackupKeepsItsOutboxAndRestoresAsTheSamePark() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            await federation.stopHub()
            for i in 0..<7 { _ = try await agent.record(SampleAssertions.data(i, issuer: agent.park)) }
            let backup = federation.directory.file("node-backup")
            try await agent.backup(to: backup)
            let restoredPath = federation.directory.file("node-restored")
            let counts = try await NodeAgent.restore(from: backup, to: restoredPath)
            #expect(counts["pending"] == 7)
            let restored = try await NodeAgent(directory: NodeDirectory(restoredPath), logger: Logger(label: "restored"))
            let restoredPending = await restored.status().outbox.pending
            #expect(restored.park == agent.park && restoredPending == 7)
            await restored.shutdown()
        }
    }
}
