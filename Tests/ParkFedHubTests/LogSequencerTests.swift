import Foundation
import Logging
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// PostgreSQL: pass writes decide under their own entities' locks and queue their entries; the log's sequencer gives
/// the queued entries their indexes in batches, with the whole-database lock held only for that.
@Suite struct LogSequencerTests {
    @Test(.enabled(if: TestStore.usesPostgres, "the log's sequencer runs on PostgreSQL"))
    func aPassWriteIsDecidedWhileAnotherPassIsLockedAndTheSequencerGivesEveryQueuedEntryItsIndex() async throws {
        try await InProcessHub.run(parks: ["P001"]) { rules, parks in
            let hub = rules.hub, park = parks[0]
            let other = try HubDatabase.open(try #require(hub.configuration.store), sqliteFile: "/nonexistent", logger: Logger(label: "test"))
            // Another transaction holds pass PASS-P001-0 for 1.5 s.
            let start = ContinuousClock.now
            let holder = Task {
                try await other.write(entities: ["pass:PASS-P001-0"]) { _ in try await Task.sleep(for: .milliseconds(1_500)) }
            }
            try await Task.sleep(for: .milliseconds(300))
            // The sale of another pass, and an entry whose code does not verify (kept as a conflict), are decided and
            // queued meanwhile; the sale of the held pass waits for it.
            let held = try park.sign(SampleAssertions.data(0, issuer: park.id))
            let free = try [11, 1].map { try park.sign(SampleAssertions.data($0, issuer: park.id)) }
            let freeAnswer = Task { try await hub.ingest(IngestRequest(assertions: free), from: park.peer) }
            try await waitUntil("the free pass's writes are queued") { try await hub.store.queuedEntryCount() == 2 }
            #expect(ContinuousClock.now - start < .milliseconds(1_200), "the free pass's writes waited for the held pass")
            let heldAnswer = Task { try await hub.ingest(IngestRequest(assertions: [held]), from: park.peer) }
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await hub.store.queuedEntryCount() == 2, "the held pass's sale was not waiting for its lock")
            #expect(hub.log.size == 0, "the sequencer ran beside a pass write")
            try await holder.value
            let answers = try await freeAnswer.value.results + heldAnswer.value.results
            #expect(answers.map(\.status) == [.accepted, .accepted, .accepted], "\(answers)")
            #expect(Set(answers.compactMap(\.index)) == [0, 1, 2])
            #expect(try await hub.store.queuedEntryCount() == 0)
            // The entry's effect got its index when the sequencer integrated it.
            let entryIndexes = try await other.read { db in
                try await Int64.fetchAll(
                    db, sql: "SELECT COALESCE(e.log_index, -1) FROM pass_entries e JOIN log_entries l ON l.id = e.entry_id WHERE e.log_index = l.idx")
            }
            #expect(entryIndexes == [Int64(answers[1].index!)])
            let report = try await LogVerifier(hub: hub).verify()
            #expect(report.ok && report.entries == 3, "\(report.problems)")
            await other.close()
        }
    }

    @Test(.enabled(if: TestStore.usesPostgres, "the log's sequencer runs on PostgreSQL"))
    func anEntryQueuedByAHubThatStoppedBeforeTheSequencerIsIntegratedByTheNextAppend() async throws {
        try await InProcessHub.run(parks: ["P001"]) { rules, parks in
            let hub = rules.hub, park = parks[0]
            // Staged, and the process "stops" before its sequencer runs: queued, not in the log, not answered.
            let (payload, jws) = try Assertions.sign(SampleAssertions.data(8, issuer: park.id), park: park.id, key: park.signingKey)
            let candidate = LogCandidate(
                id: payload.id, park: park.id.rawValue, type: payload.type.rawValue, kid: park.signingKey.kid, issuedAt: payload.issuedAt,
                jws: jws.compact, leafHash: MerkleHash.leaf(Data(jws.compact.utf8)))
            let staged = try await hub.store.stage([candidate], now: Date())
            #expect(staged?.outcomes == [.queued])
            #expect(try await hub.store.queuedEntryCount() == 1)
            #expect(try await hub.store.logSize() == 0)
            // Any later append integrates it first.
            let later = try await hub.ingest(IngestRequest(assertions: [try park.sign(SampleAssertions.data(19, issuer: park.id))]), from: park.peer)
            #expect(later.results[0].index == 1 && later.treeSize == 2)
            #expect(try await hub.store.queuedEntryCount() == 0)
            #expect(try await hub.store.logEntry(index: 0)?.id == payload.id)
            // The park's retry of the unanswered assertion is answered with the index it got.
            let retry = try await hub.ingest(IngestRequest(assertions: [jws.compact]), from: park.peer)
            #expect(retry.results[0].status == .duplicate && retry.results[0].index == 0)
            let report = try await LogVerifier(hub: hub).verify()
            #expect(report.ok && report.entries == 2, "\(report.problems)")
        }
    }

    /// A hostile park sends one id for two different sales at once: the two passes' writes run side by side, and
    /// exactly one is logged; the other is a conflict and its pass is not created.
    @Test(.enabled(if: TestStore.usesPostgres, "the log's sequencer runs on PostgreSQL"))
    func oneIdSentForTwoPassesAtOnceIsLoggedOnceAndTheOtherPassIsNotSold() async throws {
        try await InProcessHub.run(parks: ["P001"]) { rules, parks in
            let hub = rules.hub, park = parks[0]
            for round in 0..<5 {
                let id = try Assertions.sign(SampleAssertions.data(8, issuer: park.id), park: park.id, key: park.signingKey).0.id
                let sales = try [22 * round + 11, 22 * round + 22].map { i in
                    try Assertions.sign(SampleAssertions.data(i, issuer: park.id), park: park.id, key: park.signingKey, id: id).1.compact
                }
                let results = try await withThrowingTaskGroup(of: IngestResult.self) { group in
                    for sale in sales { group.addTask { try await hub.ingest(IngestRequest(assertions: [sale]), from: park.peer).results[0] } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(results.filter { $0.status == .accepted }.count == 1, "\(results)")
                #expect(results.filter { $0.reason == "id_conflict" }.count == 1, "\(results)")
                let sold = try await [22 * round + 11, 22 * round + 22].asyncMap { try await hub.store.pass("PASS-P001-\($0)") != nil }
                #expect(sold.filter { $0 }.count == 1, "\(sold)")
            }
            #expect(try await hub.store.queuedEntryCount() == 0)
            let report = try await LogVerifier(hub: hub).verify()
            #expect(report.ok && report.entries == 5, "\(report.problems)")
        }
    }

    /// The staged effects are committed before the sequencer runs, so a sequencer run that fails is run again: the
    /// request is answered with its index, not refused after its effect was kept.
    @Test(.enabled(if: TestStore.usesPostgres, "the log's sequencer runs on PostgreSQL"))
    func aSequencerRunThatFailsAfterAStagingIsRunAgainAndTheRequestGetsItsIndex() async throws {
        try await InProcessHub.run(parks: ["P001"]) { rules, parks in
            let hub = rules.hub, park = parks[0]
            let other = try HubDatabase.open(try #require(hub.configuration.store), sqliteFile: "/nonexistent", logger: Logger(label: "test"))
            // The next checkpoint insert fails once (a sequence's value is not rolled back with the failed transaction).
            try await other.write { db in
                try await db.execute(
                    sql: """
                        CREATE SEQUENCE checkpoint_failures;
                        CREATE FUNCTION fail_first_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN IF nextval('checkpoint_failures') = 1 THEN RAISE EXCEPTION 'injected: the database failed'; END IF; RETURN NEW; END $$;
                        CREATE TRIGGER fail_first_checkpoint BEFORE INSERT ON checkpoints FOR EACH ROW EXECUTE FUNCTION fail_first_checkpoint();
                        """)
            }
            let sale = try park.sign(SampleAssertions.data(11, issuer: park.id))
            let answer = try await hub.ingest(IngestRequest(assertions: [sale]), from: park.peer)
            #expect(answer.results.map(\.status) == [.accepted] && answer.results[0].index == 0, "\(answer)")
            let checkpointInserts = try await other.read { db in try await Int64.fetchOne(db, sql: "SELECT last_value FROM checkpoint_failures") }
            #expect(checkpointInserts == 2, "the first sequencer run failed, the second stored the checkpoint")
            #expect(try await hub.store.queuedEntryCount() == 0)
            let report = try await LogVerifier(hub: hub).verify()
            #expect(report.ok && report.entries == 1, "\(report.problems)")
            await other.close()
        }
    }
}
