import Foundation
import ParkFedDomain

/// Running head counts for the capacity rules, kept by database triggers on the rows they count, so that a sale,
/// an entry or the capacity watch after every append reads one row instead of summing all of a day's passes and
/// entries (which grew with the day: the busiest hour paid the most). Whatever writes the rows (any hub process,
/// any path), the counts follow in the same transaction.
///
/// - `park_day_heads(park, day)`: heads of counted entries (`pass_entries.counted = 1`).
/// - `day_product_heads(day, product)`: heads of passes sold for a day (`valid_from`) of a product, not refunded
///   (`price_minor IS NOT NULL AND refunded_minor IS NULL`).
/// - `park_day_exits(park, day)`: people the park's gates counted leaving (`park_exits.count`).
extension HubStore {
    static func registerCapacityCounterMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v27-capacity-counters") { db in
            let tables = """
                CREATE TABLE park_day_heads (park TEXT NOT NULL, day TEXT NOT NULL, heads BIGINT NOT NULL, PRIMARY KEY (park, day));
                INSERT INTO park_day_heads (park, day, heads)
                    SELECT park, day, SUM(heads) FROM pass_entries WHERE counted = 1 GROUP BY park, day;
                CREATE TABLE day_product_heads (day TEXT NOT NULL, product TEXT NOT NULL, heads BIGINT NOT NULL, PRIMARY KEY (day, product));
                INSERT INTO day_product_heads (day, product, heads)
                    SELECT valid_from, product, SUM(heads) FROM passes WHERE price_minor IS NOT NULL AND refunded_minor IS NULL
                    GROUP BY valid_from, product;
                CREATE TABLE park_day_exits (park TEXT NOT NULL, day TEXT NOT NULL, exits BIGINT NOT NULL, PRIMARY KEY (park, day));
                INSERT INTO park_day_exits (park, day, exits) SELECT park, day, SUM(count) FROM park_exits GROUP BY park, day;
                """
            let sold = { (row: String) in "\(row).price_minor IS NOT NULL AND \(row).refunded_minor IS NULL" }
            let addEntry = """
                INSERT INTO park_day_heads (park, day, heads) VALUES (NEW.park, NEW.day, NEW.heads)
                    ON CONFLICT (park, day) DO UPDATE SET heads = park_day_heads.heads + excluded.heads;
                """
            let addSale = """
                INSERT INTO day_product_heads (day, product, heads) VALUES (NEW.valid_from, NEW.product, NEW.heads)
                    ON CONFLICT (day, product) DO UPDATE SET heads = day_product_heads.heads + excluded.heads;
                """
            let addExits = """
                INSERT INTO park_day_exits (park, day, exits) VALUES (NEW.park, NEW.day, NEW.count)
                    ON CONFLICT (park, day) DO UPDATE SET exits = park_day_exits.exits + excluded.exits;
                """
            let removeExits = "UPDATE park_day_exits SET exits = exits - OLD.count WHERE park = OLD.park AND day = OLD.day;"
            let removeEntry = "UPDATE park_day_heads SET heads = heads - OLD.heads WHERE park = OLD.park AND day = OLD.day;"
            let removeSale = "UPDATE day_product_heads SET heads = heads - OLD.heads WHERE day = OLD.valid_from AND product = OLD.product;"
            try await db.schema(
                sqlite: tables.replacingOccurrences(of: "BIGINT", with: "INTEGER") + """
                    CREATE TRIGGER park_day_heads_insert AFTER INSERT ON pass_entries WHEN NEW.counted = 1 BEGIN \(addEntry) END;
                    CREATE TRIGGER park_day_heads_delete AFTER DELETE ON pass_entries WHEN OLD.counted = 1 BEGIN \(removeEntry) END;
                    CREATE TRIGGER park_day_heads_update_old AFTER UPDATE OF counted, heads, park, day ON pass_entries WHEN OLD.counted = 1
                        BEGIN \(removeEntry) END;
                    CREATE TRIGGER park_day_heads_update_new AFTER UPDATE OF counted, heads, park, day ON pass_entries WHEN NEW.counted = 1
                        BEGIN \(addEntry) END;
                    CREATE TRIGGER day_product_heads_insert AFTER INSERT ON passes WHEN \(sold("NEW")) BEGIN \(addSale) END;
                    CREATE TRIGGER day_product_heads_delete AFTER DELETE ON passes WHEN \(sold("OLD")) BEGIN \(removeSale) END;
                    CREATE TRIGGER day_product_heads_update_old AFTER UPDATE OF price_minor, refunded_minor, heads, valid_from, product ON passes
                        WHEN \(sold("OLD")) BEGIN \(removeSale) END;
                    CREATE TRIGGER day_product_heads_update_new AFTER UPDATE OF price_minor, refunded_minor, heads, valid_from, product ON passes
                        WHEN \(sold("NEW")) BEGIN \(addSale) END;
                    CREATE TRIGGER park_day_exits_insert AFTER INSERT ON park_exits BEGIN \(addExits) END;
                    CREATE TRIGGER park_day_exits_delete AFTER DELETE ON park_exits BEGIN \(removeExits) END;
                    CREATE TRIGGER park_day_exits_update_old AFTER UPDATE OF count, park, day ON park_exits BEGIN \(removeExits) END;
                    CREATE TRIGGER park_day_exits_update_new AFTER UPDATE OF count, park, day ON park_exits BEGIN \(addExits) END;
                    """,
                postgres: tables + """
                    CREATE FUNCTION parkfed_park_day_heads() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF TG_OP IN ('UPDATE', 'DELETE') THEN
                            IF OLD.counted = 1 THEN \(removeEntry) END IF;
                        END IF;
                        IF TG_OP IN ('UPDATE', 'INSERT') THEN
                            IF NEW.counted = 1 THEN \(addEntry) END IF;
                        END IF;
                        RETURN NULL;
                    END $$;
                    CREATE TRIGGER park_day_heads AFTER INSERT OR UPDATE OR DELETE ON pass_entries
                        FOR EACH ROW EXECUTE FUNCTION parkfed_park_day_heads();
                    CREATE FUNCTION parkfed_day_product_heads() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF TG_OP IN ('UPDATE', 'DELETE') THEN
                            IF \(sold("OLD")) THEN \(removeSale) END IF;
                        END IF;
                        IF TG_OP IN ('UPDATE', 'INSERT') THEN
                            IF \(sold("NEW")) THEN \(addSale) END IF;
                        END IF;
                        RETURN NULL;
                    END $$;
                    CREATE TRIGGER day_product_heads AFTER INSERT OR UPDATE OR DELETE ON passes
                        FOR EACH ROW EXECUTE FUNCTION parkfed_day_product_heads();
                    CREATE FUNCTION parkfed_park_day_exits() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF TG_OP IN ('UPDATE', 'DELETE') THEN \(removeExits) END IF;
                        IF TG_OP IN ('UPDATE', 'INSERT') THEN \(addExits) END IF;
                        RETURN NULL;
                    END $$;
                    CREATE TRIGGER park_day_exits AFTER INSERT OR UPDATE OR DELETE ON park_exits
                        FOR EACH ROW EXECUTE FUNCTION parkfed_park_day_exits();
                    """)
        }
    }

    /// Heads that entered `park` on `day` (counted entries).
    static func enteredHeads(park: String, day: CivilDay, _ db: any SQLConnection) async throws -> Int {
        try await Int.fetchOne(db, sql: "SELECT heads FROM park_day_heads WHERE park = ? AND day = ?", arguments: [park, day.description]) ?? 0
    }

    /// People counted leaving `park` on `day`.
    static func exitedPeople(park: String, day: CivilDay, _ db: any SQLConnection) async throws -> Int {
        try await Int.fetchOne(db, sql: "SELECT exits FROM park_day_exits WHERE park = ? AND day = ?", arguments: [park, day.description]) ?? 0
    }

    /// Heads of passes of `products` sold for `day` and not refunded, `excludingPass` aside.
    static func soldHeads(products: [String], day: CivilDay, excludingPass: String?, _ db: any SQLConnection) async throws -> Int {
        let marks = Array(repeating: "?", count: products.count).joined(separator: ", ")
        let values = [day.description.sqlValue] + products.map(\.sqlValue)
        let sold =
            try await Int.fetchOne(
                db, sql: "SELECT COALESCE(SUM(heads), 0) FROM day_product_heads WHERE day = ? AND product IN (\(marks))",
                arguments: SQLArguments(values: values))
            ?? 0
        guard let excludingPass else { return sold }
        let excluded =
            try await Int.fetchOne(
                db,
                sql: """
                    SELECT heads FROM passes WHERE id = ? AND valid_from = ? AND product IN (\(marks))
                        AND price_minor IS NOT NULL AND refunded_minor IS NULL
                    """, arguments: SQLArguments(values: [excludingPass.sqlValue] + values)) ?? 0
        return sold - excluded
    }
}

extension HubStore {
    /// The counters against the rows they count, recomputed: each (park, day) or (day, product) whose count differs,
    /// as `kind key: counter ≠ recomputed` (empty when they agree). For the simulator's invariants and tests.
    public func capacityCounterMismatches() async throws -> [String] {
        try await database.read { db in
            func compare(_ kind: String, counters: String, recomputed: String) async throws -> [String] {
                var counted: [String: Int64] = [:], actual: [String: Int64] = [:]
                for row in try await SQLRow.fetchAll(db, sql: counters) { counted[row["k"]] = row["n"] }
                for row in try await SQLRow.fetchAll(db, sql: recomputed) { actual[row["k"]] = row["n"] }
                return Set(counted.keys).union(actual.keys).sorted().compactMap { key in
                    let (c, a) = (counted[key] ?? 0, actual[key] ?? 0)
                    return c == a ? nil : "\(kind) \(key): \(c) ≠ \(a)"
                }
            }
            return try await compare(
                "entered", counters: "SELECT park || ' ' || day AS k, heads AS n FROM park_day_heads",
                recomputed: "SELECT park || ' ' || day AS k, SUM(heads) AS n FROM pass_entries WHERE counted = 1 GROUP BY park, day")
                + compare(
                    "sold", counters: "SELECT day || ' ' || product AS k, heads AS n FROM day_product_heads",
                    recomputed: """
                        SELECT valid_from || ' ' || product AS k, SUM(heads) AS n FROM passes
                        WHERE price_minor IS NOT NULL AND refunded_minor IS NULL GROUP BY valid_from, product
                        """)
                + compare(
                    "exited", counters: "SELECT park || ' ' || day AS k, exits AS n FROM park_day_exits",
                    recomputed: "SELECT park || ' ' || day AS k, SUM(count) AS n FROM park_exits GROUP BY park, day")
        }
    }
}
