import Foundation
import ParkFedDomain

/// One step of a retention run, applied with its statement: the passes reduced to masked form, and the log entries
/// whose stored assertion is emptied (its leaf hash stays, vouched for by the statement).
public struct RetentionChange: Sendable, Hashable {
    public struct Redaction: Sendable, Hashable {
        public var index: UInt64
        public var leafHash: Data
        public init(index: UInt64, leafHash: Data) {
            self.index = index
            self.leafHash = leafHash
        }
    }

    public var passIDs: [String]
    public var redactions: [Redaction]
    /// A member erased at their request: identity, links, code uses deleted; cards unregistered from them.
    public var member: String?

    public init(passIDs: [String], redactions: [Redaction], member: String? = nil) {
        self.passIDs = passIDs
        self.redactions = redactions
        self.member = member
    }
}

extension HubStore {
    static func registerMemberErasureMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v22-member-requests") { db in
            let ddl = """
                CREATE TABLE member_requests (
                    member_id TEXT NOT NULL,
                    park TEXT NOT NULL,
                    action TEXT NOT NULL CHECK (action IN ('export', 'erasure')),
                    at BIGINT NOT NULL,
                    log_index BIGINT
                );
                CREATE INDEX member_requests_by_member ON member_requests(member_id, at);
                """
            try await db.schema(sqlite: ddl.replacingOccurrences(of: "BIGINT", with: "INTEGER"), postgres: ddl)
        }
    }

    static func registerRetentionMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v21-retention") { db in
            let ddl = """
                ALTER TABLE log_entries ADD COLUMN redacted_by TEXT;
                ALTER TABLE passes ADD COLUMN holder_purged_at BIGINT;
                CREATE INDEX passes_by_valid_until ON passes(valid_until) WHERE holder_purged_at IS NULL;
                """
            try await db.schema(sqlite: ddl.replacingOccurrences(of: "BIGINT", with: "INTEGER"), postgres: ddl)
        }
    }

    /// Passes whose validity ended before `day` and whose real-name data has not been reduced yet (oldest first).
    public func passesDueForRetention(endedBefore day: CivilDay, limit: Int) async throws -> [String] {
        try await database.read { db in
            try await String.fetchAll(
                db, sql: "SELECT id FROM passes WHERE valid_until < ? AND holder_purged_at IS NULL ORDER BY valid_until, id LIMIT \(limit)",
                arguments: [day.description])
        }
    }

    /// Visits the logged assertions of `types` (issued before `before`, when given) whose stored bytes are still
    /// whole: the ones a retention run or an erasure may redact.
    public func forEachWholeEntry(
        types: [String], issuedBefore before: Date? = nil, _ body: (_ index: UInt64, _ jws: String, _ leafHash: Data) throws -> Void
    ) async throws {
        try await database.read { db in
            let marks = Array(repeating: "?", count: types.count).joined(separator: ", ")
            try await db.forEach(
                sql: """
                    SELECT idx, jws, leaf_hash FROM log_entries
                    WHERE type IN (\(marks)) AND redacted_by IS NULL AND issued_at < ? ORDER BY idx
                    """, arguments: SQLArguments(values: types.map(\.sqlValue) + [StoredTime.millis(before ?? .distantFuture).sqlValue])
            ) { row in try body(UInt64(row["idx"] as Int64), row["jws"], row["leaf_hash"]) }
        }
    }

    /// The holder records of a pass (every generation).
    public func holders(ofPass passID: String) async throws -> [ProtectedHolder] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT * FROM pass_holders WHERE pass_id = ? ORDER BY generation", arguments: [passID]).map { row in
                ProtectedHolder(
                    idType: row["id_type"], idIndex: row["id_index"], idSealed: row["id_sealed"], nameSealed: row["name_sealed"],
                    idMasked: row["id_masked"], nameMasked: row["name_masked"])
            }
        }
    }

    /// A member's links (park, local number, when) and the cards registered to them, for an export.
    public func memberData(_ id: String) async throws -> (links: [(park: String, local: String, at: Date)], cards: [String]) {
        try await database.read { db in
            let links = try await SQLRow.fetchAll(
                db, sql: "SELECT park, local_number, linked_at FROM member_links WHERE member_id = ? ORDER BY park, local_number", arguments: [id]
            ).map { ($0["park"] as String, $0["local_number"] as String, StoredTime.date($0["linked_at"] as Int64)) }
            let cards = try await String.fetchAll(db, sql: "SELECT id FROM cards WHERE member_id = ? ORDER BY id", arguments: [id])
            return (links, cards)
        }
    }

    /// Records a member's request (export or erasure) with the statement's log index, if any.
    public func recordMemberRequest(_ id: String, park: String, action: String, logIndex: UInt64?, now: Date) async throws {
        try await database.write { db in
            try await db.execute(
                sql: "INSERT INTO member_requests (member_id, park, action, at, log_index) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, park, action, StoredTime.millis(now), logIndex.map { Int64($0) }])
        }
    }

    /// The requests a member made, oldest first.
    public func memberRequests(_ id: String) async throws -> [(park: String, action: String, at: Date)] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT park, action, at FROM member_requests WHERE member_id = ? ORDER BY at", arguments: [id]).map {
                ($0["park"], $0["action"], StoredTime.date($0["at"] as Int64))
            }
        }
    }

    /// How many holder records the hub keeps (sealed names and documents with their blind index).
    public func holderRecordCount() async throws -> Int {
        try await database.read { db in try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pass_holders") ?? 0 }
    }

    /// Applies a retention step (inside the log's append transaction): holder records deleted, passes marked reduced,
    /// the named entries' assertions emptied (only where the stored leaf hash is the one the statement names),
    /// resellers' booking contacts of those passes dropped.
    static func apply(_ change: RetentionChange, entryID: String, now: Date, _ db: any SQLConnection) async throws -> AssertionEffectResult {
        for passID in change.passIDs {
            try await db.execute(sql: "DELETE FROM pass_holders WHERE pass_id = ?", arguments: [passID])
            try await db.execute(
                sql: "UPDATE passes SET holder_purged_at = ? WHERE id = ? AND holder_purged_at IS NULL", arguments: [StoredTime.millis(now), passID])
            try await db.execute(
                sql: "UPDATE octo_bookings SET contact = NULL WHERE uuid IN (SELECT booking_uuid FROM octo_units WHERE pass_id = ?)", arguments: [passID])
        }
        if let member = change.member {
            try await db.execute(sql: "DELETE FROM member_links WHERE member_id = ?", arguments: [member])
            try await db.execute(sql: "DELETE FROM member_code_uses WHERE member_id = ?", arguments: [member])
            try await db.execute(sql: "UPDATE cards SET member_id = NULL WHERE member_id = ?", arguments: [member])
            guard try await db.execute(sql: "DELETE FROM members WHERE id = ?", arguments: [member]) == 1 else {
                return .refused(PassChangeRefusal("unknown_member", "member \(member) is not (or no longer) known"))
            }
        }
        for redaction in change.redactions {
            let changed = try await db.execute(
                sql: "UPDATE log_entries SET jws = '', redacted_by = ? WHERE idx = ? AND leaf_hash = ? AND redacted_by IS NULL",
                arguments: [entryID, Int64(redaction.index), redaction.leafHash])
            guard changed == 1 else {
                return .refused(PassChangeRefusal("entry_moved", "log entry \(redaction.index) is not the one the statement names"))
            }
        }
        return .applied
    }
}
