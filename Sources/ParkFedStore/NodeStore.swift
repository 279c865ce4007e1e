import Foundation
import GRDB

/// A node agent's durable state in one SQLite file (WAL): the cached trust list and agent settings.
/// Later issues add the outbox and gate state here.
public final class NodeStore: Sendable {
    public let path: String
    let pool: DatabasePool

    public init(path: String) throws {
        self.path = path
        pool = try SQLiteFile.openPool(path: path)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-fabric") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE trust_list_cache (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    sequence INTEGER NOT NULL,
                    issued_at INTEGER NOT NULL,
                    fetched_at INTEGER NOT NULL,
                    etag TEXT,
                    jws TEXT NOT NULL
                );
                """)
        }
        return migrator
    }

    /// The cached trust list, as last accepted.
    public struct CachedTrustList: Sendable, Hashable {
        public var sequence: Int64
        public var issuedAt: Date
        public var fetchedAt: Date
        public var etag: String?
        public var jws: String

        public init(sequence: Int64, issuedAt: Date, fetchedAt: Date, etag: String?, jws: String) {
            self.sequence = sequence
            self.issuedAt = issuedAt
            self.fetchedAt = fetchedAt
            self.etag = etag
            self.jws = jws
        }
    }

    public func cachedTrustList() throws -> CachedTrustList? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM trust_list_cache WHERE id = 1").map { row in
                CachedTrustList(sequence: row["sequence"], issuedAt: StoredTime.date(row["issued_at"] as Int64),
                                fetchedAt: StoredTime.date(row["fetched_at"] as Int64), etag: row["etag"], jws: row["jws"])
            }
        }
    }

    public func storeTrustList(_ list: CachedTrustList) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO trust_list_cache (id, sequence, issued_at, fetched_at, etag, jws) VALUES (1, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET sequence = excluded.sequence, issued_at = excluded.issued_at,
                        fetched_at = excluded.fetched_at, etag = excluded.etag, jws = excluded.jws
                    """,
                arguments: [list.sequence, StoredTime.millis(list.issuedAt), StoredTime.millis(list.fetchedAt), list.etag, list.jws])
        }
    }

    /// Notes that the hub answered "not modified": the cached list is current as of `now`.
    public func touchTrustList(now: Date) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE trust_list_cache SET fetched_at = ? WHERE id = 1", arguments: [StoredTime.millis(now)])
        }
    }

    public func ping() throws {
        _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}
