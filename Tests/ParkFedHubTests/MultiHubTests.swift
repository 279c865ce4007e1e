import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Two hub processes on one PostgreSQL database serve one federation: one in this test process, one a real
/// `parkfed hub serve` on the same data directory. Gates and card readers talk to either; the last entry of a pass
/// is admitted once, a card is never overdrawn, and the log they append together verifies and proves from either.
@Suite struct MultiHubTests {
    @Test(.enabled(if: TestStore.usesPostgres, "two hub processes share a PostgreSQL store"))
    func twoHubProcessesOnOneDatabaseAdmitTheLastEntryOnceAndNeverOverdrawACard() async throws {
        try await TestFederation.run { federation in
            let viaA = try await federation.enrollParks(["P001", "P002", "P003"])

            // Hub B: a second process on the same data directory (keys, hub.json naming the same database).
            let portB = try BackgroundProcess.freePort()
            let hubB = try BackgroundProcess(
                try BackgroundProcess.parkfedExecutable(),
                ["hub", "serve", "--data", federation.hub.directory.path, "--listen", "127.0.0.1:\(portB)", "--log-level", "warning"],
                logPath: federation.directory.file("hub-b.log"))
            federation.adopt(hubB)
            let urlB = "https://127.0.0.1:\(portB)"
            try await waitUntil("hub B answers") {
                try await ExternalTool.run("curl", ["-s", "-o", "/dev/null", "--cacert", federation.caFile, urlB + "/healthz"]).succeeded
            }
            // The same parks' node agents, talking to hub B.
            var others: [NodeAgent] = []
            for agent in viaA {
                let other = try await NodeAgent(directory: agent.directory, hubURL: urlB, refreshInterval: .seconds(3600), logger: federation.logger)
                other.gateHubTimeout.withLockedValue { $0 = .seconds(20) }
                try await other.refreshTrustList()
                try await other.refreshProducts()
                others.append(other)
            }
            let viaB = others
            for agent in viaB { federation.adopt(agent) }

            // Pooled passes (any two entries at the three parks): after the first entry, three gates of three parks,
            // two through hub B and one through hub A, race for the last one. Exactly one wins, every time.
            let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
            var passes: [PassSaleResponse] = []
            for _ in 0..<8 { passes.append(try await viaA[0].sellPass(PassSaleRequest(product: "ANY2-OF-3", channel: "window", holder: holder))) }
            try await viaA[0].deliverOutbox()
            for pass in passes {
                #expect(try await viaB[1].scan(GateScanRequest(code: pass.code, gate: "G0")).decision == .allow)
                let racers = [viaB[0], viaA[2], viaB[2]]
                let decisions = try await withThrowingTaskGroup(of: GateDecision.self) { group in
                    for (index, agent) in racers.enumerated() {
                        group.addTask { try await agent.scan(GateScanRequest(code: pass.code, gate: "G\(index + 1)")) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(decisions.filter { $0.decision == .allow }.count == 1, "\(decisions.map { "\($0.decision) \($0.mode) \($0.reason ?? "")" })")
                #expect(decisions.allSatisfy { $0.mode == .online }, "\(decisions.map(\.mode))")
                await #expect(try federation.hub.store.pass(pass.passID)?.entries.values.reduce(0, +) == 2)
            }

            // A card loaded through hub A, spent from both hubs at once: 1,000.00 in 20 spends of 100.00 admits exactly 10.
            let card = try SimulatedCard(try await viaA[0].registerCard("IC-TWO-HUBS", kind: .ic))
            _ = try await viaA[0].loadCard("IC-TWO-HUBS", loadID: "L1", amountMinor: 100_000)
            let spent = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    let agent = index.isMultiple(of: 2) ? viaA[1 + index % 2] : viaB[1 + index % 2]
                    group.addTask {
                        do {
                            _ = try await agent.spendCard(
                                "IC-TWO-HUBS", requestID: "S\(index)", amountMinor: 10_000,
                                proof: card.proof(.hold, amountMinor: 10_000, park: agent.park.rawValue, requestID: "S\(index)"));
                            return true
                        } catch { return false }
                    }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(spent == 10)
            #expect(try await viaB[0].card("IC-TWO-HUBS").principalMinor == 0)

            // One log, appended by both: it verifies, and hub B proves an entry that hub A appended (and the reverse).
            for agent in viaA + viaB { _ = try await agent.deliverOutbox() }
            let report = try await LogVerifier(hub: federation.hub).verify()
            #expect(report.ok, "\(report.problems)")
            let size = try await federation.hub.store.logSize()
            let checkpointB = try await ExternalTool.run(
                "curl",
                [
                    "-sS", "--cacert", federation.caFile, "--cert", viaA[0].directory.tlsCertificate,
                    "--key", viaA[0].directory.tlsKey, urlB + "/v1/log/checkpoint",
                ])
            #expect(checkpointB.stdout.contains("\n\(size)\n"), "\(checkpointB.stdout)")
            let proofB = try await ExternalTool.run(
                "curl",
                [
                    "-sS", "--cacert", federation.caFile, "--cert", viaA[0].directory.tlsCertificate,
                    "--key", viaA[0].directory.tlsKey, urlB + "/v1/log/proofs/inclusion?index=\(size - 1)&tree_size=\(size)",
                ])
            #expect(proofB.stdout.contains("\"leaf_index\":\(size - 1)"), "\(proofB.stdout)")
            #expect(hubB.isRunning, "\(hubB.log)")
        }
    }

    @Test(.enabled(if: TestStore.usesPostgres, "a PostgreSQL server for the store"))
    func theOperatorPutsAHubOnPostgreSQLFromTheCommandLine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = try #require(try await TestStore.newDatabase())
        do {
            try await Self.runPostgresHub(url: url, directory: directory)
            await TestStore.dropDatabase(url)
        } catch {
            await TestStore.dropDatabase(url)
            throw error
        }
    }

    static func runPostgresHub(url: String, directory: TemporaryDirectory) async throws {
        let parkfed = try BackgroundProcess.parkfedExecutable()
        let data = directory.file("hub")
        let bad = try await ExternalTool.run(parkfed, ["hub", "init", "--data", data, "--store", "mysql://x"])
        #expect(!bad.succeeded && bad.stderr.contains("--store is a postgres:// URL"))
        let initialised = try await ExternalTool.run(parkfed, ["hub", "init", "--data", data, "--federation", "PG Federation", "--store", url])
        #expect(initialised.succeeded, "\(initialised.stderr)")
        #expect(try String(contentsOfFile: data + "/hub.json", encoding: .utf8).contains("\"store\""))
        let token = try await ExternalTool.run(parkfed, ["hub", "enroll-token", "--data", data, "--park", "P001", "--name", "West Lake"])
        #expect(token.succeeded && token.stdout.hasPrefix("pfe_"), "\(token.stderr)")
        // The token is in the database, not in the data directory's SQLite file.
        let stored = try await ExternalTool.run("psql", ["-X", "-t", "-A", url, "-c", "SELECT park_id FROM enrollment_tokens"])
        #expect(stored.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "P001", "\(stored.stderr)")
        let verified = try await ExternalTool.run(parkfed, ["hub", "verify-log", "--data", data])
        #expect(verified.succeeded, "\(verified.stdout)\(verified.stderr)")
    }
}
