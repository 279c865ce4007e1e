import Foundation
import Logging
import ParkFedHub
import ParkFedStore
import ParkFedTesting
import Testing

/// PostgreSQL runs statements with arguments as named prepared statements (parsed and planned once per connection):
/// the answers are the same as unnamed statements give, counts of changed rows included, and a text whose NULLs
/// move between arguments is prepared once per shape of types.
@Suite struct PreparedStatementTests {
    @Test(.enabled(if: TestStore.usesPostgres, "a PostgreSQL server for the store"))
    func preparedStatementsAnswerAsUnnamedOnesAndCountTheRowsTheyChange() async throws {
        let url = try #require(try await TestStore.newDatabase())
        let database = try HubDatabase.open(url, sqliteFile: "/nonexistent", logger: Logger(label: "test"))
        try await database.write { db in
            try await db.execute(sql: "CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT, note TEXT, blob BYTEA, x DOUBLE PRECISION)")
        }
        let insert = "INSERT INTO things (id, n, note, blob, x) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING"
        // Many runs on the pool's connections, with NULLs in different places: every one as written.
        for round in 0..<3 {
            let changed = try await database.write { db in
                var changed = 0
                for i in 0..<20 {
                    let id = "t\(round)-\(i)"
                    let n: Int64? = i % 3 == 0 ? nil : Int64(i)
                    let note: String? = i % 4 == 0 ? nil : "note \(i)"
                    changed += try await db.execute(sql: insert, arguments: [id, n, note, Data([UInt8(i), 0, 255]), Double(i) / 4])
                }
                // The same ids again: the conflict clause inserts nothing, and the count says so.
                changed += try await db.execute(sql: insert, arguments: ["t\(round)-0", 1, "again", Data(), 0.0])
                return changed
            }
            #expect(changed == 20)
        }
        try await database.read { db in
            let rows = try await SQLRow.fetchAll(db, sql: "SELECT * FROM things WHERE id LIKE ? ORDER BY id", arguments: ["t1-%"])
            #expect(rows.count == 20)
            let eight = try #require(rows.first { ($0["id"] as String) == "t1-8" })
            #expect((eight["n"] as Int64?) == 8 && (eight["note"] as String?) == nil && (eight["blob"] as Data) == Data([8, 0, 255]))
            #expect((eight["x"] as Double) == 2.0)
            let three = try #require(rows.first { ($0["id"] as String) == "t1-3" })
            #expect((three["n"] as Int64?) == nil && (three["note"] as String?) == "note 3")
        }
        // Updates and deletes count what they changed; a statement that matches nothing counts 0.
        let (updated, deleted, none) = try await database.write { db in
            (
                try await db.execute(sql: "UPDATE things SET note = ? WHERE n > ?", arguments: ["big", 15]),
                try await db.execute(sql: "DELETE FROM things WHERE id LIKE ?", arguments: ["t2-%"]),
                try await db.execute(sql: "UPDATE things SET note = ? WHERE id = ?", arguments: ["x", "nobody"])
            )
        }
        #expect(updated == 3 * 3 && deleted == 20 && none == 0)  // n = 16, 17 and 19 in each of three rounds
        // A statement the server refuses is an error, and the connection serves the next one.
        await #expect(throws: StoreError.self) {
            try await database.write { db in try await db.execute(sql: "INSERT INTO things (id, n) VALUES (?, ?)", arguments: ["t0-1", 1]) }
        }
        let count = try await database.read { db in try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM things WHERE n >= ?", arguments: [0]) ?? -1 }
        #expect(count == 2 * 13)  // rounds 0 and 1: the ids whose n is not NULL (i % 3 != 0)
        await database.close()
    }
}
