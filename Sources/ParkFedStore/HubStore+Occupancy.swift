import Foundation
import ParkFedDomain

/// Exits the parks' gates counted (`gate.exits`), beside the counted entries, for people inside now; and each park's
/// instantaneous capacity.
extension HubStore {
    static func registerOccupancyMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v19-occupancy") { db in
            let ddl = """
                CREATE TABLE park_exits (
                    entry_id TEXT PRIMARY KEY,
                    park TEXT NOT NULL,
                    day TEXT NOT NULL,
                    counted_at BIGINT NOT NULL,
                    count BIGINT NOT NULL
                );
                CREATE INDEX park_exits_by_day ON park_exits(day, park);
                ALTER TABLE park_capacity ADD COLUMN instantaneous BIGINT;
                """
            try await db.schema(sqlite: ddl.replacingOccurrences(of: "BIGINT", with: "INTEGER"), postgres: ddl)
        }
    }

    static func insertExits(_ entryID: String, park: ParkID, day: CivilDay, at: Date, count: Int, _ db: any SQLConnection) async throws {
        try await db.execute(
            sql: "INSERT INTO park_exits (entry_id, park, day, counted_at, count) VALUES (?, ?, ?, ?, ?) ON CONFLICT(entry_id) DO NOTHING",
            arguments: [entryID, park.rawValue, day.description, StoredTime.millis(at), count])
    }

    /// Exits counted on `day`: park, time and count of each.
    public func exits(day: CivilDay) async throws -> [(park: String, at: Date, count: Int)] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT park, counted_at, count FROM park_exits WHERE day = ?", arguments: [day.description]).map {
                ($0["park"], StoredTime.date($0["counted_at"] as Int64), Int($0["count"] as Int64))
            }
        }
    }

    /// The parks' instantaneous capacities (people inside at once), where set.
    public func instantaneousCapacities() async throws -> [String: Int] {
        try await database.read { db in
            var result: [String: Int] = [:]
            for row in try await SQLRow.fetchAll(db, sql: "SELECT park, instantaneous FROM park_capacity WHERE instantaneous IS NOT NULL") {
                result[row["park"]] = Int(row["instantaneous"] as Int64)
            }
            return result
        }
    }

    public func setInstantaneousCapacity(park: String, _ capacity: Int?) async throws {
        try await database.write { db in
            try await db.execute(sql: "UPDATE park_capacity SET instantaneous = ? WHERE park = ?", arguments: [capacity.map { Int64($0) }, park])
        }
    }
}
