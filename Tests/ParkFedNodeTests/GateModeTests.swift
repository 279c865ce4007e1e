import Foundation
import ParkFedDomain
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Emergency gate modes: fast-check at peak hours, evacuation, each switch logged with who and why.
@Suite struct GateModeTests {
    @Test func fastCheckAdmitsOnSignatureAndDatesAndTheHubReconcilesLater() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P003"])
            let (seller, gate) = (agents[0], agents[1])
            let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
            let pass = try await seller.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder))
            try await gate.setMode(.fastCheck, by: "test", reason: "holiday peak at the north gate")
            // Signature and dates only: the same pass twice is admitted (P003 allows one entry), nothing waits for the hub.
            let first = try await gate.scan(GateScanRequest(code: pass.code, gate: "G1"))
            let second = try await gate.scan(GateScanRequest(code: pass.code, gate: "G2"))
            #expect(first.decision == .allow && first.mode == .fastCheck && second.decision == .allow && second.mode == .fastCheck)
            // A forged code is still refused.
            let forged = try await gate.scan(GateScanRequest(code: String(pass.code.dropLast(4)) + "AAAA", gate: "G1"))
            #expect(forged.decision == .deny && forged.reason == "forged")
            // Reconciled later: both entries reach the hub; the one it would have refused is a conflict, counted once.
            try await seller.deliverOutbox()
            try await gate.deliverOutbox()
            await #expect(try federation.hub.store.pass(pass.passID)?.entries[gate.park] == 1)
            await #expect(try federation.hub.store.passConflicts(park: gate.park, limit: 10).map(\.reason) == ["already_used"])
            // Logged, in the status and the metrics.
            let status = await gate.status()
            #expect(status.mode == .fastCheck && status.modeChanges.first?.reason == "holiday peak at the north gate" && status.modeChanges.first?.by == "test")
        }
    }

    @Test func evacuationOpensEveryGateAndCountsNothingAndOperatorsSwitchItOverTheLocalAPI() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let server = try await federation.serve(agent)
            federation.adopt(server)
            let operatorToken = try await agent.addDevice(name: "duty-manager", role: .operator).token
            let gateToken = try await agent.addDevice(name: "gate-1", role: .gate).token
            let base = server.baseURL
            func put(_ body: String, token: String) async throws -> ExternalTool.Result {
                try await ExternalTool.run(
                    "curl",
                    server.curlTrust + [
                        "-sS", "-X", "PUT", base + "/v1/mode", "-H", "authorization: Bearer \(token)", "-H", "content-type: application/json",
                        "-d", body, "-w", "\n%{http_code}",
                    ])
            }
            // A gate device cannot switch modes; an operator device can, with a reason.
            #expect(try await put(#"{"mode":"evacuation","reason":"fire alarm"}"#, token: gateToken).stdout.hasSuffix("403"))
            #expect(try await put(#"{"mode":"evacuation"}"#, token: operatorToken).stdout.hasSuffix("400"))
            let switched = try await put(#"{"mode":"evacuation","reason":"fire alarm, hall B"}"#, token: operatorToken)
            #expect(switched.stdout.hasSuffix("200") && switched.stdout.contains(#""mode":"evacuation""#), "\(switched.stdout)")
            // Anything at the gate opens it, and nothing is recorded.
            let scan = try await ExternalTool.run(
                "curl",
                server.curlTrust + [
                    "-sS", base + "/v1/gate/scans", "-H", "authorization: Bearer \(gateToken)",
                    "-H", "content-type: application/json", "-d", #"{"code":"not-even-a-pass","gate":"G1"}"#,
                ])
            #expect(scan.stdout.contains(#""decision":"allow""#) && scan.stdout.contains(#""mode":"evacuation""#), "\(scan.stdout)")
            await #expect(agent.status().outbox.pending == 0)
            let metrics = try await ExternalTool.run("curl", server.curlTrust + ["-sS", "-H", "authorization: Bearer \(operatorToken)", base + "/metrics"])
                .stdout
            #expect(metrics.contains(#"parkfed_node_gate_mode{park="P001",mode="evacuation"} 1"#))
            // The operator's command switches back (a running agent sees it within a second); both changes are logged.
            let cli = try await ExternalTool.run(
                try BackgroundProcess.parkfedExecutable(),
                [
                    "node", "mode", "--data", agent.directory.path, "--set", "normal",
                    "--reason", "all clear", "--by", "duty-manager",
                ])
            #expect(cli.succeeded && cli.stdout.contains("mode: normal") && cli.stdout.contains("fire alarm, hall B"), "\(cli.stdout)\(cli.stderr)")
            // Polled, not slept: the gate refuses again as soon as the agent has seen the change.
            var refused = ""
            try await waitUntil("the agent to see the mode change") {
                refused = try await ExternalTool.run(
                    "curl",
                    server.curlTrust + [
                        "-sS", base + "/v1/gate/scans", "-H", "authorization: Bearer \(gateToken)",
                        "-H", "content-type: application/json", "-d", #"{"code":"not-even-a-pass","gate":"G1"}"#,
                    ]
                ).stdout
                return refused.contains(#""decision":"deny""#)
            }
            #expect(refused.contains(#""decision":"deny""#), "\(refused)")
            await #expect(agent.status().modeChanges.map(\.mode) == ["normal", "evacuation"])
        }
    }
}

/// Lost tickets: re-issued to the verified real-name holder; the old code stops at once, the new one keeps the
/// remaining entries.
@Suite struct ReissueTests {
    @Test func aLostTicketIsReissuedToItsHolderAndTheOldCodeIsRefused() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
            // LAKE-AND-MUSEUM-2026 does not allow transfers; a re-issue is not a transfer.
            let pass = try await agents[0].sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder))
            #expect(try await agents[1].scan(GateScanRequest(code: pass.code, gate: "G1")).decision == .allow)  // 1 of 2 at P002 used
            let lake = try await agents[0].sellPass(PassSaleRequest(product: "LAKE-AND-MUSEUM-2026", channel: "window", holder: holder))
            // Someone else's document is refused, and nothing changes.
            await #expect(throws: Refusal.self) {
                try await agents[0].reissuePass(pass.passID, holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "430102199003071234"))
            }
            let reissued = try await agents[0].reissuePass(pass.passID, holder: holder)
            #expect(reissued.generation == 1 && reissued.code != pass.code && reissued.priceMinor == 0)
            _ = try await agents[0].reissuePass(lake.passID, holder: holder)
            // The old code is refused at once by the hub, and by gates once they fetch the revocation list.
            let old = try await agents[1].scan(GateScanRequest(code: pass.code, gate: "G2"))
            #expect(old.decision == .deny && old.reason == "revoked")
            try await agents[2].refreshRevocations()
            #expect(try await agents[2].scan(GateScanRequest(code: pass.code, gate: "G1")).reason == "revoked")
            // The new code carries what was left: one more entry at P002, one at P003.
            let second = try await agents[1].scan(GateScanRequest(code: reissued.code, gate: "G1"))
            #expect(second.decision == .allow && second.entriesLeft == 0)
            #expect(try await agents[2].scan(GateScanRequest(code: reissued.code, gate: "G1")).decision == .allow)
            #expect(try await agents[1].scan(GateScanRequest(code: reissued.code, gate: "G3")).reason == "already_used")
            // No money moved for the re-issue, and the holder is the same document at the hub.
            await #expect(
                try federation.hub.passes(heldBy: .residentID, number: "11010519491231002X").filter { $0.passID == pass.passID }.map(\.generation) == [0, 1])
        }
    }
}
