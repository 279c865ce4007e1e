import Foundation
import ParkFedDomain
import GRDB

/// Heads admitted per local day and hour, kept beside the entries by triggers, so that a gate's capacity check
/// reads at most 24 small rows instead of summing every entry of the day (which grew with the day: on a busy
/// holiday morning each decision summed tens of thousands of rows).
extension NodeStore {
    static func registerGateCountMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-gate-counts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE gate_heads (day TEXT NOT NULL, hour INTEGER NOT NULL, heads INTEGER NOT NULL, PRIMARY KEY (day, hour));
                    INSERT INTO gate_heads (day, hour, heads) SELECT day, hour, SUM(heads) FROM gate_entries GROUP BY day, hour;
                    CREATE TRIGGER gate_heads_insert AFTER INSERT ON gate_entries BEGIN
                        INSERT INTO gate_heads (day, hour, heads) VALUES (NEW.day, NEW.hour, NEW.heads)
                        ON CONFLICT (day, hour) DO UPDATE SET heads = heads + NEW.heads;
                    END;
                    CREATE TRIGGER gate_heads_delete AFTER DELETE ON gate_entries BEGIN
                        UPDATE gate_heads SET heads = heads - OLD.heads WHERE day = OLD.day AND hour = OLD.hour;
                    END;
                    CREATE TRIGGER gate_heads_update AFTER UPDATE OF day, hour, heads ON gate_entries BEGIN
                        UPDATE gate_heads SET heads = heads - OLD.heads WHERE day = OLD.day AND hour = OLD.hour;
                        INSERT INTO gate_heads (day, hour, heads) VALUES (NEW.day, NEW.hour, NEW.heads)
                        ON CONFLICT (day, hour) DO UPDATE SET heads = heads + NEW.heads;
                    END;
                    """)
        }
    }

    /// Heads admitted (or reserved) on `day`, and in its `hour`.
    static func heads(day: String, hour: Int, _ db: Database) throws -> (today: Int, thisHour: Int) {
        var today = 0, thisHour = 0
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT hour, heads FROM gate_heads WHERE day = ?"), arguments: [day]) {
            let heads: Int = row["heads"]
            today += heads
            if (row["hour"] as Int) == hour { thisHour = heads }
        }
        return (today, thisHour)
    }

    static func registerGateExitMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-gate-exits") { db in
            try db.execute(
                sql: """
                    CREATE TABLE gate_exits (id TEXT PRIMARY KEY, gate TEXT NOT NULL, day TEXT NOT NULL, counted_at INTEGER NOT NULL, count INTEGER NOT NULL);
                    CREATE INDEX gate_exits_by_day ON gate_exits(day);
                    """)
        }
    }

    /// People counted leaving on `day`.
    static func exits(day: String, _ db: Database) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(SUM(count), 0) FROM gate_exits WHERE day = ?"), arguments: [day]) ?? 0
    }

    /// Records an exit count and its signed `gate.exits` in the outbox, in one transaction; answers the occupancy.
    public func recordExits(id: String, gate: String, day: CivilDay, at: Date, count: Int, type: String, jws: String) async throws -> Occupancy {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO gate_exits (id, gate, day, counted_at, count) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, gate, day.description, StoredTime.millis(at), count])
            try Self.enqueue(id: id, type: type, jws: jws, state: "pending", logIndex: nil, now: at, db)
            return Occupancy(entries: try Self.heads(day: day.description, hour: -1, db).today, exits: try Self.exits(day: day.description, db))
        }
    }

    /// Heads admitted (or reserved) and counted leaving on `day`.
    public func occupancy(day: CivilDay) async throws -> Occupancy {
        try await pool.read { db in
            Occupancy(entries: try Self.heads(day: day.description, hour: -1, db).today, exits: try Self.exits(day: day.description, db))
        }
    }
}
