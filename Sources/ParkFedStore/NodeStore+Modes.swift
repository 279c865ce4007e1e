import Foundation
import GRDB

/// A park's emergency modes, as switched and logged at its node: who switched to what, when and why. The current
/// mode is the last change (normal when there is none), so it survives restarts.
extension NodeStore {
    /// One recorded mode change.
    public struct ModeChange: Sendable, Hashable, Codable {
        public var seq: Int64
        public var mode: String
        public var by: String
        public var reason: String
        public var at: Date
    }

    static func registerModeMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-modes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE mode_changes (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        mode TEXT NOT NULL,
                        by TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        at INTEGER NOT NULL
                    );
                    """)
        }
    }

    public func recordModeChange(mode: String, by: String, reason: String, now: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO mode_changes (mode, by, reason, at) VALUES (?, ?, ?, ?)",
                arguments: [mode, by, reason, StoredTime.millis(now)])
        }
    }

    /// The latest changes, newest first.
    public func modeChanges(limit: Int = 20) async throws -> [ModeChange] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM mode_changes ORDER BY seq DESC LIMIT ?", arguments: [limit]).map {
                ModeChange(seq: $0["seq"], mode: $0["mode"], by: $0["by"], reason: $0["reason"], at: StoredTime.date($0["at"] as Int64))
            }
        }
    }
}
