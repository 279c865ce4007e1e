import Foundation
import ParkFedStore
import ParkFedTesting
import Testing

/// WAL checkpoints run beside the writer (its own thread and connection), not in the committing writer: committed
/// pages still reach the database file, and the WAL stays bounded under steady writes.
@Suite struct CheckpointTests {
    @Test func committedRowsReachTheDatabaseFileWithoutTheWriterCheckpointing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("store.sqlite")
        let database = try SQLiteDatabase(path: path)
        try await database.write { db in try await db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL)") }
        // A few hundred pages of WAL: far below the writer's own checkpoint, so only the checkpointer copies them.
        for id in 0..<200 {
            try await database.write { db in try await db.execute(sql: "INSERT INTO t (id, note) VALUES (?, ?)", arguments: [Int64(id), "row \(id)"]) }
        }
        // The database file alone (copied without its WAL) holds every row within moments.
        var rows = -1
        for attempt in 0..<100 {
            let copy = directory.file("copy-\(attempt).sqlite")
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            let alone = try SQLiteDatabase(path: copy)
            rows = (try? await alone.read { db in try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") }) ?? nil ?? -1
            await alone.close()
            if rows == 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(rows == 200, "the database file alone holds \(rows) of 200 committed rows: nothing checkpointed them")
        await database.close()
    }

    @Test func theWALStaysBoundedUnderSteadyWrites() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("store.sqlite")
        let database = try SQLiteDatabase(path: path)
        try await database.write { db in try await db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)") }
        // 15,000 transactions of a page each: about 30,000 frames of WAL if it never started over.
        let body = Data(repeating: 7, count: 3_000)
        for id in 0..<15_000 {
            try await database.write { db in try await db.execute(sql: "INSERT INTO t (id, body) VALUES (?, ?)", arguments: [Int64(id), body]) }
        }
        let wal = (try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        let frame = 4_096 + 24
        #expect(wal <= 14_000 * frame, "the WAL holds \(wal / frame) frames")
        await database.close()
    }
}
