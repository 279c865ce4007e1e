import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Store-and-forward: assertions survive the hub being down and the node agent restarting, and reach the log once.
@Suite struct OutboxTests {
    @Test func assertionsMadeWhileTheHubIsDownReachTheLogExactlyOnceAfterANodeRestart() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            try await agent.refreshTrustList()
            await federation.stopHub()

            var ids: [String] = []
            for i in 0..<30 { await ids.append(try agent.record(SampleAssertions.data(i)).id) }
            await #expect(throws: NodeError.self) { try await agent.deliverOutbox() }
            await #expect(agent.status().outbox.pending == 30)
            await #expect(agent.status().hub.reachable == false)
            await agent.shutdown()

            // The node agent restarts (a new process on the same files), then the hub comes back.
            let restarted = try await NodeAgent(directory: agent.directory)
            federation.adopt(restarted)
            await #expect(restarted.status().outbox.pending == 30)
            try await federation.startHub()
            #expect(try await restarted.deliverOutbox(batchSize: 7) == 30)
            // A retry of everything (as after a lost answer) changes nothing in the log.
            var compacts: [String] = []
            for id in ids { compacts.append(try await restarted.store.outboxItem(id: id)!.jws) }
            let again = try await restarted.hub.json(.POST, "/v1/assertions", body: IngestRequest(assertions: compacts), as: IngestResponse.self)
            #expect(again.results.allSatisfy { $0.status == .duplicate })
            await #expect(try federation.hub.store.logSize() == 30)
            for id in ids {
                let item = try await #require(try restarted.store.outboxItem(id: id))
                #expect(item.state == "accepted")
                let entry = try await #require(try federation.hub.store.logEntry(index: item.logIndex!))
                #expect(entry.id == id)
                #expect(entry.jws == item.jws)
            }
            // The node checks the signed log: every one of its assertions is included.
            let audit = try await restarted.auditLog()
            #expect(audit.checkpointSize == 30)
            #expect(audit.verifiedInclusions == 30)
            await #expect(restarted.status().outbox.verified == 30)
            await #expect(restarted.status().alarmCount == 0)
        }
    }

    @Test func theRunningAgentDeliversByItselfWhenTheHubReturns() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            await federation.stopHub()
            let server = try await federation.serve(agent)
            federation.adopt(server)
            for i in 0..<5 { try await agent.record(SampleAssertions.data(i)) }
            // The running agent tries, fails against the stopped hub, and keeps every assertion.
            try await waitUntil("a delivery attempt against the stopped hub") { await agent.status().hub.lastError != nil }
            await #expect(agent.status().outbox.pending == 5)
            try await federation.startHub()
            // Backoff retries at most a few seconds apart; wait until the outbox drains and is verified.
            try await waitUntil("the outbox drained and verified") { await agent.status().outbox.verified == 5 }
            let status = await agent.status()
            #expect(status.outbox.pending == 0)
            #expect(status.outbox.accepted == 5)
            #expect(status.outbox.verified == 5)
            await #expect(try federation.hub.store.logSize() == 5)
        }
    }

    @Test func aRejectedAssertionRaisesAnAlarmAndIsKept() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let payload = try await agent.record(SampleAssertions.data(1), now: Date().addingTimeInterval(3600))  // a clock an hour fast
            try await agent.deliverOutbox()
            let item = try await #require(try agent.store.outboxItem(id: payload.id))
            #expect(item.state == "rejected")
            #expect(item.reason == "clock_skew")
            let status = await agent.status()
            #expect(status.alarmCount == 1)
            #expect(status.alarms.first?.kind == "assertion_rejected")
        }
    }

    @Test func aLogThatDoesNotExtendWhatTheNodeSawRaisesAnAlarm() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            for i in 0..<3 { try await agent.record(SampleAssertions.data(i)) }
            try await agent.deliverOutbox()
            try await agent.auditLog()
            // Pretend the node had seen a different size-3 log (a fork shown to another party).
            try await agent.store.setMeta("log_checkpoint_root", Data(repeating: 9, count: 32).base64EncodedString())
            for i in 3..<6 { try await agent.record(SampleAssertions.data(i)) }
            try await agent.deliverOutbox()
            await #expect(throws: NodeError.self) { try await agent.auditLog() }
            await #expect(agent.status().alarms.first?.kind == "log_inconsistent")
        }
    }
}
