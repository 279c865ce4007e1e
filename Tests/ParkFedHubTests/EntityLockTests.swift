import Foundation
import Logging
import ParkFedHub
import ParkFedStore
import ParkFedTesting
import Synchronization
import Testing

/// PostgreSQL: writes of one card exclude each other, writes of two cards run at once, and a whole-database write
/// (closing a day, the log) waits for every card write and they for it.
@Suite struct EntityLockTests {
    @Test(.enabled(if: TestStore.usesPostgres, "a PostgreSQL server for the store"))
    func cardWritesOfOneCardQueueOfTwoCardsRunAtOnceAndAWholeDatabaseWriteWaitsForBoth() async throws {
        let url = try #require(try await TestStore.newDatabase())
        let database = try HubDatabase.open(url, sqliteFile: "/nonexistent", logger: Logger(label: "test"))
        try await database.write { db in try await db.execute(sql: "CREATE TABLE marks (at BIGSERIAL PRIMARY KEY, what TEXT NOT NULL)") }
        let order = Notes()
        let note = order.note

        // Card A's write holds its lock for 1.5 s.
        let holder = Task {
            try await database.write(entities: ["card:A"]) { db in
                try await Self.mark("A1", db)
                note("A1 locked")
                try await Task.sleep(for: .milliseconds(1_500))
                note("A1 done")
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        // Cards B and C do not wait for card A.
        let started = ContinuousClock.now
        try await database.write(entities: ["card:C", "card:B"]) { db in
            note("B locked")
            try await Self.mark("B", db)
        }
        #expect(ContinuousClock.now - started < .milliseconds(1_000), "card B waited for card A")
        // (A whole-database write queued behind card A would hold back later card writes too: PostgreSQL grants
        // locks in order.)
        let sameCard = Task {
            try await database.write(entities: ["card:A"]) { db in
                note("A2 locked")
                try await Self.mark("A2", db)
            }
        }
        let whole = Task {
            try await database.write { db in
                note("whole locked")
                try await Self.mark("whole", db)
            }
        }
        try await holder.value
        try await sameCard.value
        try await whole.value
        let seen = order.list.withLock { $0 }
        #expect(seen.firstIndex(of: "B locked")! < seen.firstIndex(of: "A1 done")!, "\(seen)")
        #expect(seen.firstIndex(of: "A2 locked")! > seen.firstIndex(of: "A1 done")!, "\(seen)")
        #expect(seen.firstIndex(of: "whole locked")! > seen.firstIndex(of: "A1 done")!, "\(seen)")
        let rows = try await database.read { db in try await String.fetchAll(db, sql: "SELECT what FROM marks ORDER BY at") }
        #expect(Set(rows) == ["A1", "A2", "whole", "B"])
        await database.close()
        await TestStore.dropDatabase(url)
    }

    static func mark(_ what: String, _ db: any SQLConnection) async throws {
        try await db.execute(sql: "INSERT INTO marks (what) VALUES (?)", arguments: [what])
    }

    final class Notes: Sendable {
        let list = Mutex<[String]>([])
        @Sendable func note(_ what: String) { list.withLock { $0.append(what) } }
    }
}
