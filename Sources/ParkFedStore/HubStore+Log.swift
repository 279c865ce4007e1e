import Foundation
import ParkFedDomain

/// An assertion that passed every stateless check and is ready to be appended.
public struct LogCandidate: Sendable {
    public var id: String
    public var park: String
    public var type: String
    public var kid: String
    public var issuedAt: Date
    public var jws: String
    public var leafHash: Data
    /// What the assertion does to pass state, applied in the transaction that appends it.
    public var effect: AssertionEffect?

    public init(id: String, park: String, type: String, kid: String, issuedAt: Date, jws: String, leafHash: Data, effect: AssertionEffect? = nil) {
        self.effect = effect
        self.id = id
        self.park = park
        self.type = type
        self.kid = kid
        self.issuedAt = issuedAt
        self.jws = jws
        self.leafHash = leafHash
    }
}

/// What the log made of a candidate.
public enum LogOutcome: Sendable, Hashable {
    case appended(index: UInt64)
    /// Same id, same bytes: the first answer again.
    case duplicate(index: UInt64)
    /// Same id, different bytes.
    case conflict(index: UInt64)
    /// Its effect was refused by the pass rules: not appended, nothing changed.
    case refused(PassChangeRefusal)
}

/// A stored checkpoint.
public struct CheckpointRecord: Sendable, Hashable {
    public var treeSize: UInt64
    public var rootHash: Data
    public var createdAt: Date
    public var note: String

    public init(treeSize: UInt64, rootHash: Data, createdAt: Date, note: String) {
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.createdAt = createdAt
        self.note = note
    }
}

/// A stored log entry.
public struct LogEntryRecord: Sendable, Hashable {
    public var index: UInt64
    public var id: String
    public var park: String
    public var jws: String
    public var leafHash: Data
    /// The retention statement that redacted the stored assertion (then `jws` is empty and the leaf hash stays).
    public var redactedBy: String? = nil
}

extension HubStore {
    /// Every leaf hash in index order (`verify-log`, and a log stored before its tiles were).
    public func leafHashes() async throws -> [Data] {
        try await database.read { db in
            try await Data.fetchAll(db, sql: "SELECT leaf_hash FROM log_entries ORDER BY idx")
        }
    }

    /// Leaf hashes from index `start` on, in order (a hub process catching up with appends made by another).
    public func leafHashes(from start: UInt64) async throws -> [Data] {
        try await database.read { db in
            try await Data.fetchAll(db, sql: "SELECT leaf_hash FROM log_entries WHERE idx >= ? ORDER BY idx", arguments: [Int64(start)])
        }
    }

    /// The number of entries in the log (its next index).
    public func logSize() async throws -> UInt64 {
        try await database.read { db in try await Self.logSize(db) }
    }

    static func logSize(_ db: any SQLConnection) async throws -> UInt64 {
        UInt64(try await Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries") ?? 0)
    }

    /// Appends candidates in one write transaction at the end of the log as the database has it: the database
    /// defines the order, so several hub processes can append to one log. `knownSize` is the caller's tree size;
    /// entries appended since by others are read back (`missed`) in the same transaction, so the caller's tree
    /// takes them first. Duplicates (same id and bytes) answer with the first index; same id with other bytes is a
    /// conflict. `checkpoint` gets the missed and the appended leaf hashes and returns the signed checkpoint for the
    /// new size with the tiles of the tree that the entries completed, stored in the same transaction, so that the
    /// entries, their tiles and the checkpoint that covers them become durable together before anyone is answered.
    /// On PostgreSQL this is the log's sequencer (``stage(_:now:)``): the entries queued by any process are
    /// appended first, then `candidates` (which are not staged: hub statements); the outcomes are `candidates'`.
    public func append(
        _ candidates: [LogCandidate],
        knownSize: UInt64,
        now: Date,
        checkpoint: @Sendable (_ missed: [Data], _ appended: [Data]) throws -> (CheckpointRecord, [LogTileRecord])
    ) async throws -> (
        outcomes: [LogOutcome], checkpoint: CheckpointRecord?, effects: [String: AssertionEffectResult], missed: [Data],
        integrated: [String: (index: UInt64, jws: String)]
    ) {
        let day = businessDay(now), fees = feeBasisPoints
        return try await database.write { db in
            let startIndex = try await Self.logSize(db)
            guard startIndex >= knownSize else {
                throw StoreError(.corrupt, "the log in the database has \(startIndex) entries, fewer than the \(knownSize) this hub has seen")
            }
            let missed =
                startIndex > knownSize
                ? try await Data.fetchAll(db, sql: "SELECT leaf_hash FROM log_entries WHERE idx >= ? ORDER BY idx", arguments: [Int64(knownSize)]) : []
            var effects: [String: AssertionEffectResult] = [:]
            var outcomes: [LogOutcome] = []
            var appended: [Data] = []
            var inBatch: [String: (index: UInt64, jws: String)] = [:]
            var rows: [SQLValue] = []
            // The sequencer (PostgreSQL): entries staged by any hub process since the last append come first, in
            // queue order (their effects are applied already).
            let queue = sequencesLog ? try await Self.queuedEntries(db) : (lastSeq: 0, entries: [])
            for (entry, acceptedAt) in queue.entries {
                let index = startIndex + UInt64(appended.count)
                rows += Self.entryRow(entry, index: index, acceptedAt: acceptedAt)
                appended.append(entry.leafHash)
                inBatch[entry.id] = (index, entry.jws)
            }
            let integrated = inBatch
            // Round trips, not rows, cost on a database server: the ids already in the log come in one query per
            // 500 ids, and the new entries go in as multi-row inserts after the loop (same transaction).
            let logged = try await Self.loggedEntries(ids: candidates.map(\.id), db)
            let acceptedAt = StoredTime.millis(now)
            for candidate in candidates {
                if let earlier = inBatch[candidate.id] ?? logged[candidate.id] {
                    outcomes.append(earlier.jws == candidate.jws ? .duplicate(index: earlier.index) : .conflict(index: earlier.index))
                    continue
                }
                let index = startIndex + UInt64(appended.count)
                // The effect is decided before anything is written: a refused one leaves the log and the state as they were.
                if let effect = candidate.effect {
                    let result = try await Self.apply(effect, entryID: candidate.id, logIndex: index, now: now, day: day, feeBasisPoints: fees, db)
                    if case .refused(let refusal) = result {
                        outcomes.append(.refused(refusal))
                        continue
                    }
                    effects[candidate.id] = result
                }
                rows += Self.entryRow(candidate, index: index, acceptedAt: acceptedAt)
                appended.append(candidate.leafHash)
                inBatch[candidate.id] = (index, candidate.jws)
                outcomes.append(.appended(index: index))
            }
            try await Self.insertLogEntries(rows, db)
            if !queue.entries.isEmpty { try await Self.finishIntegration(lastSeq: queue.lastSeq, db) }
            guard !appended.isEmpty else { return (outcomes, nil, effects, missed, integrated) }
            let (record, tiles) = try checkpoint(missed, appended)
            try await Self.insertLogTiles(tiles, db)
            try await db.execute(
                sql: "INSERT INTO checkpoints (tree_size, root_hash, created_at, note) VALUES (?, ?, ?, ?)",
                arguments: [Int64(record.treeSize), record.rootHash, StoredTime.millis(record.createdAt), record.note])
            return (outcomes, record, effects, missed, integrated)
        }
    }

    /// The log index and bytes of those of `ids` already in the log.
    static func loggedEntries(ids: [String], _ db: any SQLConnection) async throws -> [String: (index: UInt64, jws: String)] {
        var found: [String: (index: UInt64, jws: String)] = [:]
        try await db.forEachChunk(of: Array(Set(ids))) { chunk, marks in
            for row in try await SQLRow.fetchAll(db, sql: "SELECT idx, id, jws FROM log_entries WHERE id IN (\(marks))", arguments: SQLArguments(chunk)) {
                found[row["id"]] = (UInt64(row["idx"] as Int64), row["jws"])
            }
        }
        return found
    }

    /// A log entry's nine values, in ``insertLogEntries(_:_:)``'s column order.
    static func entryRow(_ entry: LogCandidate, index: UInt64, acceptedAt: Int64) -> [SQLValue] {
        [.integer(Int64(index))] + entryValues(entry, acceptedAt: acceptedAt)
    }

    /// An entry's values but its index, in the order of the log's columns after `idx` (a queued entry's row).
    static func entryValues(_ entry: LogCandidate, acceptedAt: Int64) -> [SQLValue] {
        ([entry.id, entry.park, entry.type, entry.kid, StoredTime.millis(entry.issuedAt), acceptedAt, entry.jws, entry.leafHash] as SQLArguments).values
    }

    /// Inserts log entries (nine values each, in column order) 100 rows a statement.
    static func insertLogEntries(_ values: [SQLValue], _ db: any SQLConnection) async throws {
        try await db.insertRows(
            into: "log_entries", columns: ["idx", "id", "park_id", "type", "kid", "issued_at", "accepted_at", "jws", "leaf_hash"], values: values)
    }

    public func latestCheckpoint() async throws -> CheckpointRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT * FROM checkpoints ORDER BY tree_size DESC LIMIT 1").map(Self.checkpoint)
        }
    }

    public func checkpoints() async throws -> [CheckpointRecord] {
        try await database.read { db in try await SQLRow.fetchAll(db, sql: "SELECT * FROM checkpoints ORDER BY tree_size").map(Self.checkpoint) }
    }

    static func checkpoint(_ row: SQLRow) -> CheckpointRecord {
        CheckpointRecord(
            treeSize: UInt64(row["tree_size"] as Int64), rootHash: row["root_hash"],
            createdAt: StoredTime.date(row["created_at"] as Int64), note: row["note"])
    }

    public func logEntry(index: UInt64) async throws -> LogEntryRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT idx, id, park_id, jws, leaf_hash, redacted_by FROM log_entries WHERE idx = ?", arguments: [Int64(index)])
                .map(
                    Self.entry)
        }
    }

    /// The entry of an assertion (or hub statement) id.
    public func logEntry(id: String) async throws -> LogEntryRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT idx, id, park_id, jws, leaf_hash, redacted_by FROM log_entries WHERE id = ?", arguments: [id]).map(
                Self.entry)
        }
    }

    public func logIndex(leafHash: Data) async throws -> UInt64? {
        try await database.read { db in
            try await Int64.fetchOne(db, sql: "SELECT idx FROM log_entries WHERE leaf_hash = ? ORDER BY idx LIMIT 1", arguments: [leafHash]).map(UInt64.init)
        }
    }

    /// Visits every entry in index order (for `verify-log`), without loading the whole log at once.
    public func forEachLogEntry(type: String? = nil, _ body: (LogEntryRecord) throws -> Void) async throws {
        try await database.read { db in
            let columns = "SELECT idx, id, park_id, jws, leaf_hash, redacted_by FROM log_entries"
            if let type {
                try await db.forEach(sql: columns + " WHERE type = ? ORDER BY idx", arguments: [type]) { row in try body(Self.entry(row)) }
            } else {
                try await db.forEach(sql: columns + " ORDER BY idx", arguments: []) { row in try body(Self.entry(row)) }
            }
        }
    }

    static func entry(_ row: SQLRow) -> LogEntryRecord {
        LogEntryRecord(
            index: UInt64(row["idx"] as Int64), id: row["id"], park: row["park_id"], jws: row["jws"], leafHash: row["leaf_hash"],
            redactedBy: row["redacted_by"])
    }
}
