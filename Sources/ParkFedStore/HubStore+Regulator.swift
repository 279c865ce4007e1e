import Foundation
import ParkFedDomain

/// One recorded regulator query: who asked what, when, and how many records the answer held.
public struct RegulatorQueryRecord: Sendable, Hashable {
    public var seq: Int64
    public var principal: String
    public var query: String
    public var records: Int
    public var at: Date
    /// The hub statement in the log that records this query (nil for queries answered before v10).
    public var entryID: String?
    public var logIndex: UInt64?
}

/// Reads for the regulator's view, and the audit of every query.
extension HubStore {
    static func registerRegulatorMigrations(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v8-regulator") { db in
            try await db.schema(
                sqlite: """
                    CREATE TABLE regulator_queries (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        principal TEXT NOT NULL,
                        query TEXT NOT NULL,
                        records INTEGER NOT NULL,
                        at INTEGER NOT NULL
                    );
                    CREATE INDEX pass_entries_by_time ON pass_entries(entered_at);
                    CREATE TABLE park_capacity (park TEXT PRIMARY KEY, daily INTEGER NOT NULL, hourly INTEGER NOT NULL);
                    """,
                postgres: """
                    CREATE TABLE regulator_queries (
                        seq BIGSERIAL PRIMARY KEY,
                        principal TEXT NOT NULL,
                        query TEXT NOT NULL,
                        records BIGINT NOT NULL,
                        at BIGINT NOT NULL
                    );
                    CREATE INDEX pass_entries_by_time ON pass_entries(entered_at);
                    CREATE TABLE park_capacity (park TEXT PRIMARY KEY, daily BIGINT NOT NULL, hourly BIGINT NOT NULL);
                    """)
        }
    }

    /// Each query is also a hub-signed statement in the Merkle log; the row names it.
    static func registerRegulatorLogMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v10-regulator-log") { db in
            try await db.schema(
                sqlite: """
                    ALTER TABLE regulator_queries ADD COLUMN entry_id TEXT;
                    ALTER TABLE regulator_queries ADD COLUMN log_index INTEGER;
                    """,
                postgres: """
                    ALTER TABLE regulator_queries ADD COLUMN entry_id TEXT;
                    ALTER TABLE regulator_queries ADD COLUMN log_index BIGINT;
                    """)
        }
    }

    /// Entries of these passes between two moments: park, time, whether counted (a conflict is not).
    public func entries(ofPasses ids: [String], from: Date, until: Date) async throws -> [(passID: String, park: String, at: Date, counted: Bool)] {
        guard !ids.isEmpty else { return [] }
        return try await database.read { db in
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            var arguments = SQLArguments(ids)
            arguments.append(contentsOf: [StoredTime.millis(from), StoredTime.millis(until)])
            return try await SQLRow.fetchAll(
                db,
                sql: """
                    SELECT pass_id, park, entered_at, counted FROM pass_entries WHERE pass_id IN (\(marks)) AND entered_at >= ? AND entered_at < ?
                    ORDER BY entered_at
                    """, arguments: arguments
            ).map { ($0["pass_id"], $0["park"], StoredTime.date($0["entered_at"] as Int64), ($0["counted"] as Int64) == 1) }
        }
    }

    public func setCapacity(park: String, daily: Int, hourly: Int) async throws {
        try await database.write { db in
            try await db.execute(
                sql: """
                    INSERT INTO park_capacity (park, daily, hourly) VALUES (?, ?, ?)
                    ON CONFLICT(park) DO UPDATE SET daily = excluded.daily, hourly = excluded.hourly
                    """, arguments: [park, daily, hourly])
        }
    }

    public func capacities() async throws -> [String: (daily: Int, hourly: Int)] {
        try await database.read { db in
            var result: [String: (daily: Int, hourly: Int)] = [:]
            for row in try await SQLRow.fetchAll(db, sql: "SELECT * FROM park_capacity") { result[row["park"]] = (row["daily"], row["hourly"]) }
            return result
        }
    }

    /// Counted entries between two moments: park, entry time and heads of each (the caller buckets them by local day/hour).
    public func countedEntries(from: Date, until: Date) async throws -> [(park: String, at: Date, heads: Int)] {
        try await database.read { db in
            try await SQLRow.fetchAll(
                db, sql: "SELECT park, entered_at, heads FROM pass_entries WHERE counted = 1 AND entered_at >= ? AND entered_at < ?",
                arguments: [StoredTime.millis(from), StoredTime.millis(until)]
            ).map {
                ($0["park"], StoredTime.date($0["entered_at"] as Int64), $0["heads"])
            }
        }
    }

    /// Passes sold (as the hub learned of them) between two moments: issuing park, time, price.
    public func sales(from: Date, until: Date) async throws -> [(park: String, at: Date, priceMinor: Int64)] {
        try await database.read { db in
            try await SQLRow.fetchAll(
                db,
                sql: """
                    SELECT issuer, created_at, price_minor FROM passes WHERE price_minor IS NOT NULL AND created_at >= ? AND created_at < ?
                    """, arguments: [StoredTime.millis(from), StoredTime.millis(until)]
            ).map { ($0["issuer"], StoredTime.date($0["created_at"] as Int64), $0["price_minor"]) }
        }
    }

    public func regulatorQueries(limit: Int = 1000) async throws -> [RegulatorQueryRecord] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT * FROM regulator_queries ORDER BY seq DESC LIMIT ?", arguments: [limit]).map {
                RegulatorQueryRecord(
                    seq: $0["seq"], principal: $0["principal"], query: $0["query"], records: $0["records"], at: StoredTime.date($0["at"] as Int64),
                    entryID: $0["entry_id"], logIndex: ($0["log_index"] as Int64?).map(UInt64.init))
            }
        }
    }
}
