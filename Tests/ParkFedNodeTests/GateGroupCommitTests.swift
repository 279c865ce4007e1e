import Foundation
import GRDB
import ParkFedDomain
import ParkFedTesting
import Testing

@testable import ParkFedStore

/// The node's gate writes go through group commit: gates that write at once share a transaction and its fsync, a
/// refused write rolls back only its own statements, and a pass is still reserved exactly once however the
/// reservations were grouped.
@Suite struct GateGroupCommitTests {
    struct Refused: Error {}

    @Test func writesThatQueueShareCommitsAndAFailedOneRollsBackOnlyItsOwnStatements() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try NodeStore(path: directory.file("node.sqlite"))
        try await store.pool.write { db in try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL)") }
        let writer = GroupWriter(pool: store.pool)
        let count = 300
        // Every tenth write inserts its row and then fails: its row must be gone, and nobody else's with it.
        let answered = await ConcurrentWrites.run(count: count) { id in
            try await writer.write { db in
                try db.execute(sql: "INSERT INTO t (id, note) VALUES (?, ?)", arguments: [id, "write \(id)"])
                if ConcurrentWrites.fails(id) { throw ConcurrentWrites.Refused() }
            }
        }
        let stored = try await store.pool.read { db in try Int.fetchAll(db, sql: "SELECT id FROM t ORDER BY id") }
        #expect(stored == ConcurrentWrites.succeeding(count))
        #expect(answered == stored)
        #expect(writer.commits > 0 && writer.commits < count - count / 10, "\(writer.commits) commits for \(count) writes: they were not grouped")
        // A later write of the pool itself (outside the group writer) still works and sees every grouped row.
        try await store.pool.write { db in try db.execute(sql: "INSERT INTO t (id, note) VALUES (?, ?)", arguments: [count, "plain"]) }
        #expect(try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } == stored.count + 1)
    }

    @Test func concurrentReservationsOfOnePassAtManyGatesReserveItExactlyOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("node.sqlite")
        let store = try NodeStore(path: path)
        let day = try CivilDay("2026-12-07")
        let passes = (0..<20).map { "pass-\($0)" }
        // Ten gates scan each pass at once; a pass allows one entry here.
        let reserved = try await withThrowingTaskGroup(of: String?.self) { group in
            for pass in passes {
                for gate in 0..<10 {
                    group.addTask {
                        let result = try await store.reserveEntry(passID: pass, day: day, hour: 10, type: "pass.redeemed", offline: true) { facts in
                            guard facts.entriesHere == 0 else { return .failure(Refused()) }
                            return .success(
                                GateEntryRecord(
                                    entryID: UUID().uuidString.lowercased(), passID: pass, gate: "G\(gate)", day: day, hour: 10, enteredAt: Date(),
                                    jws: "jws-\(pass)-\(gate)"))
                        }
                        if case .success = result { return pass }
                        return nil
                    }
                }
            }
            return try await group.reduce(into: [String]()) { if let pass = $1 { $0.append(pass) } }
        }
        #expect(reserved.sorted() == passes.sorted())
        #expect(store.gateCommits < passes.count * 10, "\(store.gateCommits) commits for \(passes.count * 10) reservations")
        // Durable: a store opened afresh on the file has every admitted entry and its outbox row.
        let reopened = try NodeStore(path: path)
        let (entries, outbox) = try await reopened.pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM gate_entries") ?? -1,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") ?? -1
            )
        }
        #expect(entries == passes.count && outbox == passes.count)
    }

    @Test func aNodeDatabaseFromBeforeV8KeepsItsEntriesAndTheirAssertionsInTheOutbox() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("node.sqlite")
        do {
            let pool = try DatabasePool(path: path)
            try NodeStore.migrator.migrate(pool, upTo: "v7-gate-exits")
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO gate_entries (entry_id, pass_id, gate, day, hour, entered_at, state, mode, jws, heads)
                        VALUES ('e1', 'pass-1', 'G1', '2026-12-07', 10, 0, 'admitted', 'offline', 'jws-e1', 3)
                        """)
                try db.execute(sql: "INSERT INTO outbox (id, type, jws, created_at, state) VALUES ('e1', 'pass.redeemed', 'jws-e1', 0, 'pending')")
            }
            try pool.close()
        }
        let store = try NodeStore(path: path)
        let (columns, facts, jws) = try await store.pool.read { db in
            (
                try db.columns(in: "gate_entries").map(\.name),
                try NodeStore.gateFacts(passID: "pass-1", day: "2026-12-07", hour: 10, db),
                try String.fetchOne(db, sql: "SELECT jws FROM outbox WHERE id = 'e1'")
            )
        }
        #expect(!columns.contains("jws") && columns.contains("heads"))
        #expect(facts.entriesHere == 1 && facts.today == 3 && facts.thisHour == 3 && facts.exitsToday == 0)
        #expect(jws == "jws-e1")
    }
}
