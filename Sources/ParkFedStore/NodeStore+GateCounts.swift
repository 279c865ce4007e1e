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
        for row in try Row.fetchAll(db, sql: "SELECT hour, heads FROM gate_heads WHERE day = ?", arguments: [day]) {
            let heads: Int = row["heads"]
            today += heads
            if (row["hour"] as Int) == hour { thisHour = heads }
        }
        return (today, thisHour)
    }
}
