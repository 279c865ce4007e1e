import Foundation
import ParkFedDomain

/// A visitor's link to the page of one pass: stored by the SHA-256 of its token only (the token is shown once,
/// to the park that asked for it), with the generation and the code it shows.
public struct VisitorLinkRecord: Sendable, Hashable {
    public var passID: String
    public var generation: Int
    public var code: String
    public var createdAt: Date
}

extension HubStore {
    static func registerVisitorLinkMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v17-visitor-links") { db in
            let ddl = """
                CREATE TABLE visitor_links (
                    token_hash TEXT PRIMARY KEY,
                    pass_id TEXT NOT NULL,
                    generation BIGINT NOT NULL,
                    code TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                );
                CREATE INDEX visitor_links_by_pass ON visitor_links(pass_id);
                """
            try await db.schema(sqlite: ddl.replacingOccurrences(of: "BIGINT", with: "INTEGER"), postgres: ddl)
        }
    }

    public func addVisitorLink(tokenHash: String, passID: String, generation: Int, code: String, now: Date) async throws {
        try await database.write { db in
            try await db.execute(
                sql: "INSERT INTO visitor_links (token_hash, pass_id, generation, code, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [tokenHash, passID, generation, code, StoredTime.millis(now)])
        }
    }

    public func visitorLink(tokenHash: String) async throws -> VisitorLinkRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT * FROM visitor_links WHERE token_hash = ?", arguments: [tokenHash]).map { row in
                VisitorLinkRecord(passID: row["pass_id"], generation: row["generation"], code: row["code"], createdAt: StoredTime.date(row["created_at"]))
            }
        }
    }
}
