import Foundation
import GRDB

/// A node agent's durable state in one SQLite file (WAL): the cached trust list and agent settings.
/// Later issues add the outbox and gate state here.
public final class NodeStore: Sendable {
    public let path: String
    /// GRDB's pool and its own async writes, for everything but the gate's hot writes. (Measured before: the
    /// hub's group-committing ``SQLiteDatabase``, with its async statement API, made the node's gate decisions
    /// slower; the gate's writes now use ``GroupWriter``, which runs GRDB's synchronous statements on the pool's own
    /// writer queue.)
    let pool: DatabasePool
    /// Group commit for the gate's writes (reservations, admissions, releases): many gates at once share one
    /// transaction and one fsync.
    let gateWriter: GroupWriter
    /// WAL checkpoints beside the writer, not in it.
    let checkpointer: SQLiteCheckpointer

    public init(path: String) throws {
        self.path = path
        (pool, checkpointer) = try SQLiteFile.openPool(path: path)
        try Self.migrator.migrate(pool)
        gateWriter = GroupWriter(pool: pool)
    }

    /// Transactions the gate's group writer has committed so far (fewer than its writes when they were grouped).
    public var gateCommits: Int { gateWriter.commits }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-fabric") { db in
            try db.execute(
                sql: """
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
        migrator.registerMigration("v2-outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        type TEXT NOT NULL,
                        jws TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
                        log_index INTEGER,
                        reason TEXT,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        proof_verified INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX outbox_pending ON outbox(state, seq);
                    CREATE TABLE alarms (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        detail TEXT NOT NULL
                    );
                    """)
        }
        registerPassMigrations(&migrator)
        registerModeMigrations(&migrator)
        registerStockMigrations(&migrator)
        registerGateCountMigrations(&migrator)
        registerGateExitMigration(&migrator)
        migrator.registerMigration("v8-gate-entries-without-assertion") { db in
            // An entry's signed assertion is kept once, in the outbox (which every admitted entry's reaches, and
            // which keeps it), not also in the entry's row: it was never read there, and writing it twice was half
            // of the bytes each gate decision wrote.
            try db.execute(sql: "ALTER TABLE gate_entries DROP COLUMN jws")
        }
        migrator.registerMigration("v9-reservations-found") { db in
            // Online reservations that outlive their request (the node stopped while the hub was asked) are found
            // without reading every entry ever made: only reserved rows are in this index.
            try db.execute(sql: "CREATE INDEX gate_entries_reserved ON gate_entries(entered_at) WHERE state = 'reserved'")
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

    public func cachedTrustList() async throws -> CachedTrustList? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM trust_list_cache WHERE id = 1").map { row in
                CachedTrustList(
                    sequence: row["sequence"], issuedAt: StoredTime.date(row["issued_at"] as Int64),
                    fetchedAt: StoredTime.date(row["fetched_at"] as Int64), etag: row["etag"], jws: row["jws"])
            }
        }
    }

    public func storeTrustList(_ list: CachedTrustList) async throws {
        try await pool.write { db in
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
    public func touchTrustList(now: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE trust_list_cache SET fetched_at = ? WHERE id = 1", arguments: [StoredTime.millis(now)])
        }
    }

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Outbox

    /// An assertion waiting in, or delivered from, the outbox.
    public struct OutboxItem: Sendable, Hashable {
        public var seq: Int64
        public var id: String
        public var type: String
        public var jws: String
        public var state: String
        public var logIndex: UInt64?
        public var reason: String?
        public var proofVerified: Bool
        public var createdAt: Date
        /// Deliveries tried so far (a pending entry whose attempts grow is one the hub could not be reached for).
        public var attempts: Int
    }

    /// Writes an assertion to the outbox (durably) before anything tries to send it.
    public func enqueue(id: String, type: String, jws: String, now: Date) async throws {
        try await pool.write { db in try Self.enqueue(id: id, type: type, jws: jws, state: "pending", logIndex: nil, now: now, db) }
    }

    /// An outbox row: `pending` to be sent, or `accepted` at `logIndex` when the hub already logged it (a decision
    /// it took online), kept so that the audit checks its inclusion like any other.
    static func enqueue(id: String, type: String, jws: String, state: String, logIndex: UInt64?, now: Date, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO outbox (id, type, jws, created_at, state, log_index) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO NOTHING
                """
        ).execute(arguments: [id, type, jws, StoredTime.millis(now), state, logIndex.map { Int64($0) }])
    }

    public func pending(limit: Int) async throws -> [OutboxItem] {
        try await pool.read { db in
            // Not an entry's assertion while the entry is reserved: the hub is being asked (or was, before a stop).
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox o WHERE o.state = 'pending'
                        AND NOT EXISTS (SELECT 1 FROM gate_entries g WHERE g.entry_id = o.id AND g.state = 'reserved')
                    ORDER BY o.seq LIMIT ?
                    """, arguments: [limit]
            ).map(Self.item)
        }
    }

    /// What the hub answered for one delivered assertion.
    public enum Delivery: Sendable {
        case accepted(index: UInt64)
        case rejected(reason: String)
    }

    /// Records the hub's answers for a delivered batch in one transaction.
    public func recordDeliveries(_ deliveries: [(id: String, delivery: Delivery)]) async throws {
        try await pool.write { db in
            let accepted = try db.cachedStatement(sql: "UPDATE outbox SET state = 'accepted', log_index = ?, attempts = attempts + 1 WHERE id = ?")
            let rejected = try db.cachedStatement(sql: "UPDATE outbox SET state = 'rejected', reason = ?, attempts = attempts + 1 WHERE id = ?")
            for (id, delivery) in deliveries {
                switch delivery {
                case .accepted(let index): try accepted.execute(arguments: [Int64(index), id])
                case .rejected(let reason): try rejected.execute(arguments: [reason, id])
                }
            }
        }
    }

    /// Accepted entries whose inclusion in the log has not been verified yet, below `treeSize`.
    public func unverified(below treeSize: UInt64, limit: Int) async throws -> [OutboxItem] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox WHERE state = 'accepted' AND proof_verified = 0 AND log_index < ? ORDER BY log_index LIMIT ?
                    """, arguments: [Int64(treeSize), limit]
            ).map(Self.item)
        }
    }

    public func markVerified(ids: [String]) async throws {
        try await pool.write { db in
            let statement = try db.cachedStatement(sql: "UPDATE outbox SET proof_verified = 1 WHERE id = ?")
            for id in ids { try statement.execute(arguments: [id]) }
        }
    }

    /// The ids of the outbox entries in a state (`accepted`: the hub acknowledged them), in order.
    public func outboxIDs(state: String) async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "SELECT id FROM outbox WHERE state = ? ORDER BY seq", arguments: [state]) }
    }

    /// The latest `limit` outbox entries in a state, newest first (what the duty manager looks at).
    public func latestOutbox(state: String, limit: Int) async throws -> [OutboxItem] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE state = ? ORDER BY seq DESC LIMIT ?", arguments: [state, limit]).map(Self.item)
        }
    }

    public func outboxItem(id: String) async throws -> OutboxItem? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE id = ?", arguments: [id]).map(Self.item) }
    }

    /// Counts by state, and how many accepted entries have a verified inclusion proof.
    public func outboxCounts() async throws -> [String: Int] {
        try await pool.read { db in
            var counts: [String: Int] = ["pending": 0, "accepted": 0, "rejected": 0]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM outbox GROUP BY state") {
                counts[row["state"] as String] = row["n"]
            }
            counts["verified"] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE proof_verified = 1") ?? 0
            return counts
        }
    }

    static func item(_ row: Row) -> OutboxItem {
        OutboxItem(
            seq: row["seq"], id: row["id"], type: row["type"], jws: row["jws"], state: row["state"],
            logIndex: (row["log_index"] as Int64?).map(UInt64.init), reason: row["reason"], proofVerified: (row["proof_verified"] as Int64) != 0,
            createdAt: StoredTime.date(row["created_at"] as Int64), attempts: row["attempts"])
    }

    // MARK: Alarms and settings

    public struct Alarm: Sendable, Hashable, Codable {
        public var at: Date
        public var kind: String
        public var detail: String
    }

    public func raiseAlarm(kind: String, detail: String, now: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO alarms (at, kind, detail) VALUES (?, ?, ?)", arguments: [StoredTime.millis(now), kind, detail])
        }
    }

    public func alarms(limit: Int = 20) async throws -> [Alarm] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alarms ORDER BY seq DESC LIMIT ?", arguments: [limit]).map { row in
                Alarm(at: StoredTime.date(row["at"] as Int64), kind: row["kind"], detail: row["detail"])
            }
        }
    }

    public func alarmCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM alarms") ?? 0 }
    }

    public func setMeta(_ key: String, _ value: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", arguments: [key, value])
        }
    }

    public func meta(_ key: String) async throws -> String? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }
}
