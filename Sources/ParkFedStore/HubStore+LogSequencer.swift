import Foundation
import ParkFedDomain

/// What staging made of one candidate (``HubStore/stage(_:now:)``).
public enum StagedOutcome: Sendable, Hashable {
    /// Its effect applied and its entry queued: the sequencer gives it the next index free when it integrates.
    case queued
    /// Its id is in the log or the queue already (or earlier in the same batch): a duplicate or a conflict,
    /// told apart by its bytes once the entry has its index.
    case known
    /// Its effect's rule refused it: not queued, nothing changed.
    case refused(PassChangeRefusal)
}

/// The log's sequencer on PostgreSQL, as Trillian and Tessera order a log: a write of pass state no longer waits for
/// the whole-database lock. It decides under the locks of the entities its effect touches (the pass; a slot or a
/// park's day whose capacity a sale checks) with the whole-database lock held shared, applies the effect, and queues
/// its entry (`log_queue`) without an index. The sequencer, the only writer of `log_entries`, takes the
/// whole-database lock exclusively for a short transaction, takes every queued entry in queue order, gives each the
/// next index, stores the entries with their tiles and the signed checkpoint, fills in the indexes the queued
/// effects left open (`pass_entries.log_index`) and empties the queue. Every append of every hub process runs the
/// sequencer after staging, so entries staged meanwhile by any process are integrated in one batch, and a request is
/// answered only after the sequencer that integrated its entry has committed (with the entry's index).
///
/// Hub statements (clearing steps, capacity levels, regulator queries, retention, exits, obligation links) decide
/// on state that is not one entity's: they are appended by the sequencer itself, after the queue, in its
/// transaction. SQLite has one writer anyway; there an append stays one transaction and nothing is staged.
///
/// Why the sequencer holds the whole-database lock exclusively: a stager checks that its id is in neither the log
/// nor the queue and then queues it; with no stager running while the sequencer moves entries from the queue to the
/// log, no id can slip between the two.
extension HubStore {
    static func registerLogQueueMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v29-log-queue") { db in
            try await db.schema(
                sqlite: """
                    CREATE TABLE log_queue (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        park_id TEXT NOT NULL,
                        type TEXT NOT NULL,
                        kid TEXT NOT NULL,
                        issued_at INTEGER NOT NULL,
                        accepted_at INTEGER NOT NULL,
                        jws TEXT NOT NULL,
                        leaf_hash BLOB NOT NULL
                    );
                    """,
                postgres: """
                    CREATE TABLE log_queue (
                        seq BIGSERIAL PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        park_id TEXT NOT NULL,
                        type TEXT NOT NULL,
                        kid TEXT NOT NULL,
                        issued_at BIGINT NOT NULL,
                        accepted_at BIGINT NOT NULL,
                        jws TEXT NOT NULL,
                        leaf_hash BYTEA NOT NULL
                    );
                    ALTER TABLE pass_entries ALTER COLUMN log_index DROP NOT NULL;
                    CREATE INDEX pass_entries_unsequenced ON pass_entries(entry_id) WHERE log_index IS NULL;
                    """)
        }
    }

    /// Whether appends stage pass writes and let the sequencer order the log (PostgreSQL), or run as one
    /// transaction each (SQLite).
    public var sequencesLog: Bool { database.dialect == .postgres }

    /// The entity locks under which a candidate's effect is decided when it is staged: exclusive ones for what it
    /// decides on and changes, shared ones for what it only adds to. Nil when the sequencer appends it itself.
    static func stagingLocks(_ effect: AssertionEffect?) -> (exclusive: [String], shared: [String])? {
        switch effect {
        case nil:
            return ([], [])
        case .issued(let facts, let product, _, _, _, let dailyLimits):
            // A sale decides on its pass, its slot's heads and the day's places of each park whose capacity it checks.
            var exclusive = [passEntity(facts.passID)]
            if let slot = facts.slot { exclusive.append("slot:\(product.id):\(facts.validFrom):\(slot)") }
            exclusive += dailyLimits.map { dayEntity(park: $0.park.rawValue, day: facts.validFrom) }
            return (exclusive, [])
        case .entry(let park, _, let day, _, let facts, _, _, _):
            // An entry decides on its pass and adds a head to its park's day, which sales of that day check.
            return ([passEntity(facts?.passID ?? "unknown")], [dayEntity(park: park.rawValue, day: day)])
        case .refund(let passID, _, _, _, _), .transfer(let passID, _, _, _, _, _, _, _):
            return ([passEntity(passID)], [])
        case .linkObligation, .regulatorQuery, .clearing, .exits, .capacityLevel, .retention:
            return nil
        }
    }

    /// The locks a batch of candidates is staged under, or nil when the sequencer appends the batch whole (in its
    /// order, under the whole-database lock): on SQLite; when one candidate's effect is not one entity's (a hub
    /// statement); or when the batch names more than ``stagingLockLimit`` entities (a large delivery of offline
    /// entries: PostgreSQL keeps advisory locks in a shared table of fixed size, `max_locks_per_transaction`).
    public func stagingPlan(_ candidates: [LogCandidate]) -> (exclusive: [String], shared: [String])? {
        guard sequencesLog, !candidates.isEmpty else { return nil }
        var exclusive = Set<String>(), shared = Set<String>()
        for candidate in candidates {
            guard let locks = Self.stagingLocks(candidate.effect) else { return nil }
            exclusive.formUnion(locks.exclusive)
            shared.formUnion(locks.shared)
            if exclusive.count + shared.count > Self.stagingLockLimit { return nil }
        }
        return (exclusive.sorted(), shared.subtracting(exclusive).sorted())
    }

    /// The most entity locks one staging transaction takes (PostgreSQL's default lock table holds 64 a connection).
    static let stagingLockLimit = 32

    static func passEntity(_ id: String) -> String { "pass:" + id }
    static func dayEntity(park: String, day: CivilDay) -> String { "day:\(park):\(day)" }

    /// Stages `candidates`: decides and applies their effects under their entities' locks and queues their entries,
    /// in one transaction. Their indexes come from the next ``append(_:knownSize:now:checkpoint:)``, which
    /// integrates the queue first. Nil, with nothing done, for a batch the sequencer appends whole
    /// (``stagingPlan(_:)``).
    public func stage(_ candidates: [LogCandidate], now: Date) async throws -> (outcomes: [StagedOutcome], effects: [String: AssertionEffectResult])? {
        guard let (exclusive, shared) = stagingPlan(candidates) else { return nil }
        var attempt = 1
        while true {
            do {
                return try await stageOnce(candidates, exclusive: exclusive, shared: shared, now: now)
            } catch let error as StoreError where error.code == .uniqueViolation && attempt < 3 {
                // Another hub process queued one of these ids meanwhile (for another pass: same id, other bytes).
                // Nothing of this transaction was written; run again, and it finds the id queued.
                attempt += 1
            }
        }
    }

    private func stageOnce(_ candidates: [LogCandidate], exclusive: [String], shared: [String], now: Date) async throws -> (
        outcomes: [StagedOutcome], effects: [String: AssertionEffectResult]
    ) {
        let day = businessDay(now), fees = feeBasisPoints
        return try await database.write(entities: exclusive, sharing: shared) { db in
            // The ids in the log or the queue, in one statement (one snapshot: an entry leaves the queue for the log
            // in one transaction of the sequencer, which no stager runs beside).
            var known = Set<String>()
            try await db.forEachChunk(of: Array(Set(candidates.map(\.id)))) { chunk, marks in
                known.formUnion(
                    try await String.fetchAll(
                        db, sql: "SELECT id FROM log_entries WHERE id IN (\(marks)) UNION ALL SELECT id FROM log_queue WHERE id IN (\(marks))",
                        arguments: SQLArguments(chunk + chunk)))
            }
            var outcomes: [StagedOutcome] = []
            var effects: [String: AssertionEffectResult] = [:]
            var rows: [SQLValue] = []
            let acceptedAt = StoredTime.millis(now)
            for candidate in candidates {
                guard !known.contains(candidate.id) else {
                    outcomes.append(.known)
                    continue
                }
                if let effect = candidate.effect {
                    let result = try await Self.apply(effect, entryID: candidate.id, logIndex: nil, now: now, day: day, feeBasisPoints: fees, db)
                    if case .refused(let refusal) = result {
                        outcomes.append(.refused(refusal))
                        continue
                    }
                    effects[candidate.id] = result
                }
                rows += Self.entryValues(candidate, acceptedAt: acceptedAt)
                known.insert(candidate.id)
                outcomes.append(.queued)
            }
            // The same id staged at once by another hub process for another pass (same id, other bytes: a conflict)
            // waits here for that transaction and fails on the unique id (``stage(_:now:)`` runs it again).
            try await db.insertRows(into: "log_queue", columns: Self.queueColumns, values: rows)
            return (outcomes, effects)
        }
    }

    /// The queue's columns, in ``entryValues(_:acceptedAt:)``'s order.
    static let queueColumns = ["id", "park_id", "type", "kid", "issued_at", "accepted_at", "jws", "leaf_hash"]

    /// The queued entries with the time each was accepted, in queue order, as the sequencer integrates them (inside
    /// its transaction).
    static func queuedEntries(_ db: any SQLConnection) async throws -> (lastSeq: Int64, entries: [(LogCandidate, acceptedAt: Int64)]) {
        var lastSeq: Int64 = 0
        var entries: [(LogCandidate, acceptedAt: Int64)] = []
        try await db.forEach(sql: "SELECT seq, \(queueColumns.joined(separator: ", ")) FROM log_queue ORDER BY seq", arguments: []) { row in
            lastSeq = row["seq"]
            let entry = LogCandidate(
                id: row["id"], park: row["park_id"], type: row["type"], kid: row["kid"], issuedAt: StoredTime.date(row["issued_at"] as Int64),
                jws: row["jws"], leafHash: row["leaf_hash"])
            entries.append((entry, row["accepted_at"]))
        }
        return (lastSeq, entries)
    }

    /// After the queued entries are stored with their indexes: the effects that waited for them get them, and the
    /// queue is emptied up to `lastSeq` (inside the sequencer's transaction).
    static func finishIntegration(lastSeq: Int64, _ db: any SQLConnection) async throws {
        try await db.execute(
            sql: """
                UPDATE pass_entries SET log_index = l.idx FROM log_entries l WHERE pass_entries.log_index IS NULL AND l.id = pass_entries.entry_id
                """)
        try await db.execute(sql: "DELETE FROM log_queue WHERE seq <= ?", arguments: [lastSeq])
    }

    /// The log index and bytes of those of `ids` in the log (a staged candidate's answer after the sequencer ran).
    public func loggedEntries(ids: [String]) async throws -> [String: (index: UInt64, jws: String)] {
        // One statement per 500 ids, outside a transaction (an entry in the log never changes its index).
        try await database.readStatement { db in try await Self.loggedEntries(ids: ids, db) }
    }

    /// Entries waiting in the queue (left by a hub process that stopped between staging and the sequencer; the next
    /// append of any process integrates them).
    public func queuedEntryCount() async throws -> Int {
        try await database.read { db in try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM log_queue") ?? 0 }
    }
}
