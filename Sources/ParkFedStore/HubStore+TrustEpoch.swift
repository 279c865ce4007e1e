import Foundation

/// The trust epoch: a counter that every change to certificates, parks or signing keys moves forward, by database
/// triggers, so it moves whichever process or path made the change (a hub process, another one on the same
/// PostgreSQL database, `parkfed hub revoke` on the same SQLite file). A hub may keep what it derived from those
/// tables (a certificate's standing, the signing keys) for as long as the epoch it read them at is still current:
/// one single-row read per request instead of the lookups, and a revocation is still seen on the next request.
extension HubStore {
    static func registerTrustEpochMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v15-trust-epoch") { db in
            let tables = ["certificates", "parks", "signing_keys"]
            try await db.schema(
                sqlite: "CREATE TABLE trust_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL);"
                    + "INSERT INTO trust_epoch (id, epoch) VALUES (1, 1);"
                    + tables.flatMap { table in
                        ["INSERT", "UPDATE", "DELETE"].map { event in
                            "CREATE TRIGGER trust_epoch_\(table)_\(event.lowercased()) AFTER \(event) ON \(table) BEGIN UPDATE trust_epoch SET epoch = epoch + 1; END;"
                        }
                    }.joined(),
                postgres: """
                    CREATE TABLE trust_epoch (id BIGINT PRIMARY KEY CHECK (id = 1), epoch BIGINT NOT NULL);
                    INSERT INTO trust_epoch (id, epoch) VALUES (1, 1);
                    CREATE FUNCTION parkfed_bump_trust_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN UPDATE trust_epoch SET epoch = epoch + 1; RETURN NULL; END $$;
                    """
                        + tables.map {
                            "CREATE TRIGGER trust_epoch_\($0) AFTER INSERT OR UPDATE OR DELETE ON \($0) FOR EACH STATEMENT EXECUTE FUNCTION parkfed_bump_trust_epoch();"
                        }.joined(separator: "\n"))
        }
    }

    /// The current trust epoch.
    public func trustEpoch() async throws -> Int64 {
        try await database.readStatement { db in try await Int64.fetchOne(db, sql: "SELECT epoch FROM trust_epoch WHERE id = 1") ?? 0 }
    }
}
