import Foundation
import Logging
import NIOConcurrencyHelpers
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// SIGKILL in the middle of traffic: a hub process killed while parks send assertions, card authorisations and gate
/// entries, and a node agent process killed with entries in its outbox. Every acknowledged request must be there
/// after the restart, exactly once; the log must verify and the card ledger balance.
@Suite struct CrashSafetyTests {
    /// A hub as a separate process on a fixed port, so that it can be killed and started again on the same files.
    struct HubProcess {
        let directory: TemporaryDirectory
        let data: String
        let port: Int
        var url: String { "https://127.0.0.1:\(port)" }
        var caFile: String { data + "/ca.pem" }

        static func make() async throws -> HubProcess {
            let directory = try TemporaryDirectory()
            let data = directory.file("hub")
            let parkfed = try BackgroundProcess.parkfedExecutable()
            for arguments in [
                ["hub", "init", "--data", data, "--federation", "Crash"],
                ["hub", "import-partners", "--data", data, "--partners", TestFederation.partnersDirectory],
            ] {
                let result = try await ExternalTool.run(parkfed, arguments)
                guard result.succeeded else { throw TestSupportError("\(arguments): \(result.stderr)") }
            }
            return HubProcess(directory: directory, data: data, port: try BackgroundProcess.freePort())
        }

        func start(_ name: String) async throws -> BackgroundProcess {
            let process = try BackgroundProcess(
                try BackgroundProcess.parkfedExecutable(),
                ["hub", "serve", "--data", data, "--listen", "127.0.0.1:\(port)", "--log-level", "warning"],
                logPath: directory.file("\(name).log"))
            try await waitUntil("the hub") {
                try await ExternalTool.run("curl", ["-s", "-o", "/dev/null", "--cacert", caFile, url + "/v1/whoami"]).succeeded
            }
            return process
        }

        func enroll(_ park: String) async throws -> NodeAgent {
            let token = try await ExternalTool.run(
                try BackgroundProcess.parkfedExecutable(),
                ["hub", "enroll-token", "--data", data, "--park", park, "--name", park]
            ).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let nodeDirectory = NodeDirectory(directory.file(park))
            _ = try await NodeEnrollment.enroll(directory: nodeDirectory, hubURL: url, park: try ParkID(park), token: token, caFile: caFile)
            var logger = Logger(label: "crash")
            logger.logLevel = .critical
            let agent = try await NodeAgent(directory: nodeDirectory, logger: logger)
            try await agent.refreshTrustList()
            try await agent.refreshProducts()
            return agent
        }
    }

    @Test func aHubKilledMidTrafficKeepsEveryAcknowledgedRequestExactlyOnce() async throws {
        let hub = try await HubProcess.make()
        defer { hub.directory.remove() }
        var running = try await hub.start("hub-1")
        let (p1, p2) = (try await hub.enroll("P001"), try await hub.enroll("P002"))
        try await TestScope.run { scope in
            scope.onExit {
                await p1.shutdown(); await p2.shutdown()
            }
            let card = try SimulatedCard(try await p1.registerCard("IC-CRASH", kind: .ic))
            _ = try await p1.loadCard("IC-CRASH", loadID: "L1", amountMinor: 1_000_000)
            let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
            var sold: [PassSaleResponse] = []
            for _ in 0..<120 { sold.append(try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "ota", holder: holder))) }
            let passes = sold

            // Three kinds of traffic at once; each records what the hub acknowledged.
            let spends = NIOLockedValueBox<[String]>([]), entries = NIOLockedValueBox<[String]>([])
            let deadline = ContinuousClock.now + .seconds(20)
            let traffic = Task {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {  // assertions: recorded, then delivered in batches
                        var i = 0
                        while ContinuousClock.now < deadline, !Task.isCancelled {
                            for _ in 0..<20 { _ = try? await p1.record(SampleAssertions.data(i, issuer: p1.park)); i += 1 }
                            _ = try? await p1.deliverOutbox()
                        }
                    }
                    group.addTask {  // card authorisations, each captured at once
                        var i = 0
                        while ContinuousClock.now < deadline, !Task.isCancelled {
                            if let spend = try? await p2.spendCard(
                                "IC-CRASH", requestID: "R\(i)", amountMinor: 100,
                                proof: card.proof(.hold, amountMinor: 100, park: "P002", requestID: "R\(i)")), spend.state == "captured"
                            {
                                spends.withLockedValue { $0.append(spend.requestID) }
                            }
                            i += 1
                        }
                    }
                    group.addTask {  // gate entries through the hub
                        for pass in passes where ContinuousClock.now < deadline && !Task.isCancelled {
                            if let decision = try? await p2.scan(GateScanRequest(code: pass.code, gate: "G1")), decision.decision == .allow,
                                decision.mode == .online
                            {
                                entries.withLockedValue { $0.append(pass.passID) }
                            }
                        }
                    }
                }
            }
            // Kill once each kind of traffic has been acknowledged at least once (a loaded machine may need longer).
            try await waitUntil("traffic of every kind") {
                await (try p1.store.outboxIDs(state: "accepted").count) > 0 && !spends.withLockedValue { $0.isEmpty } && !entries.withLockedValue { $0.isEmpty }
            }
            await running.kill()
            traffic.cancel()
            await traffic.value
            let acknowledgedAssertions = try await p1.store.outboxIDs(state: "accepted")
            let (ackedSpends, ackedEntries) = (spends.withLockedValue { $0 }, entries.withLockedValue { $0 })
            #expect(
                acknowledgedAssertions.count > 0 && ackedSpends.count > 0 && ackedEntries.count > 0,
                "traffic before the kill: \(acknowledgedAssertions.count) assertions, \(ackedSpends.count) spends, \(ackedEntries.count) entries")

            // Restart on the same files; the parks deliver what is still pending (offline entries, unsent assertions).
            running = try await hub.start("hub-2")
            _ = try await p1.deliverOutbox()
            _ = try await p2.deliverOutbox()
            await running.stop()

            let reopened = try await Hub(directory: HubDirectory(hub.data), logger: Logger(label: "check"))
            var logged: [String: Int] = [:]
            try await reopened.store.forEachLogEntry { logged[$0.id, default: 0] += 1 }
            for id in acknowledgedAssertions { #expect(logged[id] == 1, "acknowledged assertion \(id) is in the log \(logged[id] ?? 0) times") }
            let (pending1, pending2) = (await p1.status().outbox.pending, await p2.status().outbox.pending)
            #expect(pending1 == 0 && pending2 == 0)
            await #expect(try LogVerifier(hub: reopened).verify().ok)
            let captured = await Set(try reopened.store.authorisations(card: "IC-CRASH").filter { $0.state == .captured }.map(\.requestID))
            for id in ackedSpends { #expect(captured.contains(id), "acknowledged capture \(id) lost") }
            let ledger = try await reopened.store.ledgerTotals()
            #expect(ledger.debits == ledger.credits)
            for id in ackedEntries {
                await #expect(try reopened.store.pass(id)?.entries[p2.park] == 1, "acknowledged entry of \(id) is not counted exactly once")
            }
        }
    }

    @Test func aNodeAgentKilledWithEntriesInItsOutboxDeliversEachExactlyOnceAfterRestart() async throws {
        let hub = try await HubProcess.make()
        defer { hub.directory.remove() }
        var running = try await hub.start("hub-1")
        let p1 = try await hub.enroll("P001")
        try await TestScope.run { scope in
            scope.onExit { await p1.shutdown() }
            // P002's node agent runs as its own process with a gate device.
            let parkfed = try BackgroundProcess.parkfedExecutable()
            let token = try await ExternalTool.run(parkfed, ["hub", "enroll-token", "--data", hub.data, "--park", "P002", "--name", "P002"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let nodeData = hub.directory.file("P002")
            #expect(
                try await ExternalTool.run(
                    parkfed, ["node", "enroll", "--data", nodeData, "--hub", hub.url, "--park", "P002", "--token", token, "--ca", hub.caFile]
                ).succeeded)
            let gate =
                try await ExternalTool.run(parkfed, ["node", "device", "add", "--data", nodeData, "--name", "gate-1", "--role", "gate"]).stdout
                .split(separator: "\n").last.map(String.init) ?? ""
            let monitor =
                try await ExternalTool.run(parkfed, ["node", "device", "add", "--data", nodeData, "--name", "mon-1", "--role", "monitor"]).stdout
                .split(separator: "\n").last.map(String.init) ?? ""
            let nodePort = try BackgroundProcess.freePort()
            let lanCA = NodeDirectory(nodeData).lanCA
            func startNode(_ name: String) async throws -> BackgroundProcess {
                let process = try BackgroundProcess(
                    parkfed, ["node", "serve", "--data", nodeData, "--listen", "127.0.0.1:\(nodePort)", "--log-level", "warning"],
                    logPath: hub.directory.file("\(name).log"))
                try await waitUntil("the node agent") {
                    try await ExternalTool.run("curl", ["-sf", "-o", "/dev/null", "--cacert", lanCA, "https://127.0.0.1:\(nodePort)/readyz"]).succeeded
                }
                return process
            }
            var node = try await startNode("node-1")
            let holder = HolderInput(name: "李四", idType: "resident_id", idNumber: "430102199003071234")
            var passes: [PassSaleResponse] = []
            for _ in 0..<12 { passes.append(try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "ota", holder: holder))) }
            _ = try await p1.deliverOutbox()

            // The hub goes away: the gates keep deciding, and their entries wait in the node's outbox.
            await running.stop()
            var admitted: [String] = []
            for pass in passes {
                let answer = try await ExternalTool.run(
                    "curl",
                    [
                        "-sS", "--max-time", "10", "--cacert", lanCA, "https://127.0.0.1:\(nodePort)/v1/gate/scans",
                        "-H", "authorization: Bearer \(gate)", "-H", "content-type: application/json",
                        "-d", #"{"code":"\#(pass.code)","gate":"G1"}"#,
                    ])
                if answer.stdout.contains(#""decision":"allow""#) { admitted.append(pass.passID) }
            }
            #expect(admitted.count == passes.count)
            // Killed with everything still in the outbox; the hub returns; the node is started again on its files.
            await node.kill()
            running = try await hub.start("hub-2")
            node = try await startNode("node-2")
            try await waitUntil("the outbox to drain") {
                let status = try await ExternalTool.run(
                    "curl", ["-sS", "--cacert", lanCA, "-H", "authorization: Bearer \(monitor)", "https://127.0.0.1:\(nodePort)/v1/status"]
                ).stdout
                return status.contains(#""pending":0"#)
            }
            await node.stop()
            await running.stop()
            let reopened = try await Hub(directory: HubDirectory(hub.data), logger: Logger(label: "check"))
            for id in admitted {
                await #expect(
                    try reopened.store.pass(id)?.entries[try ParkID("P002")] == 1, "the entry of \(id) admitted before the kill is not counted exactly once")
            }
            await #expect(try LogVerifier(hub: reopened).verify().ok)
        }
    }
}
