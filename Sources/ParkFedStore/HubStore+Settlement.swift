import Foundation
import ParkFedDomain

/// An obligation as stored, with the business day it belongs to and the assertion it came from.
public struct ObligationRecord: Sendable, Hashable {
    public var seq: Int64
    public var from: String
    public var to: String
    public var amountMinor: Int64
    public var reason: String
    public var reference: String
    public var assertionID: String?
    public var period: CivilDay
    public var feeMinor: Int64
}

/// A stored settlement batch.
public struct SettlementBatchRecord: Sendable, Hashable {
    public var id: String
    public var day: CivilDay
    public var body: String
    public var signature: String
    public var state: String
    public var approvedBy: String?
    public var approvedAt: Date?
    public var payments: [String: String]
}

/// Settlement periods: each obligation is filed, in the transaction that records it, under the business day it was
/// accepted on, or, when that day is already closed (a late arrival), under the next open day. Running totals per
/// (period, from, to) are kept in the same transaction, so netting a day reads at most one row per pair of parks
/// instead of every obligation, and a closed day can never change.
extension HubStore {
    static func registerSettlementMigrations(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v7-settlement") { db in
            try await db.schema(
                sqlite: """
                    ALTER TABLE obligations ADD COLUMN period TEXT;
                    ALTER TABLE obligations ADD COLUMN fee_minor INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX obligations_by_period ON obligations(period, seq);
                    CREATE TABLE obligation_totals (
                        period TEXT NOT NULL,
                        from_park TEXT NOT NULL,
                        to_park TEXT NOT NULL,
                        gross_minor INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        fee_minor INTEGER NOT NULL,
                        PRIMARY KEY (period, from_park, to_park)
                    ) WITHOUT ROWID;
                    CREATE TABLE settlement_batches (
                        id TEXT PRIMARY KEY,
                        day TEXT NOT NULL UNIQUE,
                        body TEXT NOT NULL,
                        signature TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'paid')),
                        created_at INTEGER NOT NULL,
                        approved_by TEXT,
                        approved_at INTEGER
                    );
                    CREATE TABLE settlement_positions (
                        batch_id TEXT NOT NULL REFERENCES settlement_batches(id),
                        party TEXT NOT NULL,
                        net_minor INTEGER NOT NULL,
                        PRIMARY KEY (batch_id, party)
                    );
                    CREATE TABLE settlement_payments (
                        batch_id TEXT NOT NULL REFERENCES settlement_batches(id),
                        party TEXT NOT NULL,
                        reference TEXT NOT NULL,
                        paid_at INTEGER NOT NULL,
                        PRIMARY KEY (batch_id, party)
                    );
                    """,
                postgres: """
                    ALTER TABLE obligations ADD COLUMN period TEXT;
                    ALTER TABLE obligations ADD COLUMN fee_minor BIGINT NOT NULL DEFAULT 0;
                    CREATE INDEX obligations_by_period ON obligations(period, seq);
                    CREATE TABLE obligation_totals (
                        period TEXT NOT NULL,
                        from_park TEXT NOT NULL,
                        to_park TEXT NOT NULL,
                        gross_minor BIGINT NOT NULL,
                        count BIGINT NOT NULL,
                        fee_minor BIGINT NOT NULL,
                        PRIMARY KEY (period, from_park, to_park)
                    );
                    CREATE TABLE settlement_batches (
                        id TEXT PRIMARY KEY,
                        day TEXT NOT NULL UNIQUE,
                        body TEXT NOT NULL,
                        signature TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'paid')),
                        created_at BIGINT NOT NULL,
                        approved_by TEXT,
                        approved_at BIGINT
                    );
                    CREATE TABLE settlement_positions (
                        batch_id TEXT NOT NULL REFERENCES settlement_batches(id),
                        party TEXT NOT NULL,
                        net_minor BIGINT NOT NULL,
                        PRIMARY KEY (batch_id, party)
                    );
                    CREATE TABLE settlement_payments (
                        batch_id TEXT NOT NULL REFERENCES settlement_batches(id),
                        party TEXT NOT NULL,
                        reference TEXT NOT NULL,
                        paid_at BIGINT NOT NULL,
                        PRIMARY KEY (batch_id, party)
                    );
                    """)
        }
    }

    /// The last closed business day, if any.
    static func lastClosedDay(_ db: any SQLConnection) async throws -> CivilDay? {
        try await String.fetchOne(db, sql: "SELECT MAX(day) FROM settlement_batches").map { try CivilDay($0) }
    }

    /// Records an obligation under its settlement period and adds it to the period's running totals.
    static func recordObligation(_ obligation: Obligation, assertionID: String?, at: Date, day: CivilDay, feeBasisPoints: Int64, _ db: any SQLConnection)
        async throws
    {
        var period = day
        let fee = obligation.amountMinor * feeBasisPoints / 10_000
        if let closed = try await lastClosedDay(db), period <= closed { period = closed.adding(days: 1) }
        try await recordObligationRow(
            from: obligation.from.rawValue, to: obligation.to.rawValue, amountMinor: obligation.amountMinor, feeMinor: fee, reason: obligation.reason,
            reference: obligation.reference, assertionID: assertionID, at: at, period: period, db)
    }

    /// One obligation row and its period's running totals, as given (the period already chosen, the fee computed).
    static func recordObligationRow(
        from: String, to: String, amountMinor: Int64, feeMinor fee: Int64, reason: String, reference: String, assertionID: String?, at: Date,
        period: CivilDay, _ db: any SQLConnection
    ) async throws {
        try await db.cachedStatement(
            sql: """
                INSERT INTO obligations (from_park, to_park, amount_minor, reason, reference, created_at, assertion_id, period, fee_minor)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [from, to, amountMinor, reason, reference, StoredTime.millis(at), assertionID, period.description, fee])
        try await db.cachedStatement(
            sql: """
                INSERT INTO obligation_totals (period, from_park, to_park, gross_minor, count, fee_minor) VALUES (?, ?, ?, ?, 1, ?)
                ON CONFLICT(period, from_park, to_park) DO UPDATE SET gross_minor = obligation_totals.gross_minor + excluded.gross_minor, count = obligation_totals.count + 1,
                    fee_minor = obligation_totals.fee_minor + excluded.fee_minor
                """
        ).execute(arguments: [period.description, from, to, amountMinor, fee])
    }

    /// Bulk-loads obligations (benchmarks): one transaction, the same filing and totals as live traffic.
    public func loadObligations(_ obligations: [(Obligation, CivilDay)], at: Date) async throws {
        try await database.write { db in
            for (obligation, period) in obligations {
                try await Self.recordObligation(obligation, assertionID: nil, at: at, day: period, feeBasisPoints: feeBasisPoints, db)
            }
        }
    }

    // MARK: Reading what a batch covers

    /// The days after the last closed one whose obligations a batch for `day` takes.
    public struct PeriodTotals: Sendable {
        public var rows: [(from: String, to: String, grossMinor: Int64, count: Int, feeMinor: Int64)]
        public var after: CivilDay?
    }

    /// Running totals per ordered pair for every open period up to `day`.
    public func openTotals(through day: CivilDay) async throws -> PeriodTotals {
        try await database.read { db in
            let after = try await Self.lastClosedDay(db)
            return await PeriodTotals(rows: try Self.pairTotals(after: after, through: day, db), after: after)
        }
    }

    /// Running totals of the periods in (`after`, `through`]: one row per (period, pair), in key order (no sort);
    /// the same pair in several periods appears once per period and is summed by the caller.
    public func pairTotals(after: CivilDay?, through: CivilDay) async throws -> [(from: String, to: String, grossMinor: Int64, count: Int, feeMinor: Int64)] {
        try await database.read { db in try await Self.pairTotals(after: after, through: through, db) }
    }

    static func pairTotals(after: CivilDay?, through: CivilDay, _ db: any SQLConnection) async throws -> [(
        from: String, to: String, grossMinor: Int64, count: Int, feeMinor: Int64
    )] {
        var rows: [(from: String, to: String, grossMinor: Int64, count: Int, feeMinor: Int64)] = []
        try await db.forEach(
            sql: """
                SELECT from_park, to_park, gross_minor, count, fee_minor FROM obligation_totals WHERE period > ? AND period <= ?
                """, arguments: [after?.description ?? "", through.description]
        ) { row in rows.append((row[0], row[1], row[2], row[3], row[4])) }
        return rows
    }

    /// The obligations of the periods in (`after`, `through`], in order, visited without loading them all.
    public func forEachObligation(after: CivilDay?, through: CivilDay, party: String? = nil, _ body: (ObligationRecord) throws -> Void) async throws {
        try await database.read { db in
            var sql = """
                SELECT seq, from_park, to_park, amount_minor, reason, reference, assertion_id, period, fee_minor FROM obligations
                WHERE period > ? AND period <= ?
                """
            var arguments: SQLArguments = [after?.description ?? "", through.description]
            if let party {
                sql += " AND (from_park = ? OR to_park = ?)"
                arguments.append(contentsOf: [party, party])
            }
            try await db.forEach(sql: sql + " ORDER BY period, seq", arguments: arguments) { row in
                try body(
                    ObligationRecord(
                        seq: row[0], from: row[1], to: row[2], amountMinor: row[3], reason: row[4], reference: row[5],
                        assertionID: row[6], period: try CivilDay(row[7] as String), feeMinor: row[8]))
            }
        }
    }

    /// Per-pair sums computed from the obligation rows themselves (a cross-check of the running totals).
    public func scanTotals(after: CivilDay?, through: CivilDay) async throws -> [String: Int64] {
        try await database.read { db in
            var totals: [String: Int64] = [:]
            for row in try await SQLRow.fetchAll(
                db,
                sql: """
                    SELECT from_park, to_park, SUM(amount_minor) AS gross FROM obligations WHERE period > ? AND period <= ? GROUP BY from_park, to_park
                    """, arguments: [after?.description ?? "", through.description])
            {
                totals["\(row["from_park"] as String)>\(row["to_park"] as String)"] = row["gross"]
            }
            return totals
        }
    }

    /// A plain aggregate scan of the same rows (the benchmark's raw limit).
    public func plainScan(after: CivilDay?, through: CivilDay) async throws -> (count: Int, sum: Int64) {
        try await database.read { db in
            let row = try await SQLRow.fetchOne(
                db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(amount_minor), 0) AS s FROM obligations WHERE period > ? AND period <= ?",
                arguments: [after?.description ?? "", through.description])!
            return (row["n"], Int64(row["s"] as Double))
        }
    }

    /// The latest checkpoint made before `moment`.
    public func checkpoint(before moment: Date) async throws -> CheckpointRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(
                db, sql: "SELECT * FROM checkpoints WHERE created_at < ? ORDER BY tree_size DESC LIMIT 1",
                arguments: [StoredTime.millis(moment)]
            ).map(Self.checkpoint)
        }
    }

    // MARK: Batches

    /// Stores a new batch for `day`, closing it; in one transaction, and only if `day` is after the last closed day
    /// (otherwise the existing batch for `day` is returned unchanged, or the call is refused).
    ///
    /// The batch takes the obligations of the periods in (`expectedAfter`, `day`] by that range alone: no obligation
    /// row is rewritten, so closing a day of ten million obligations writes one row per party, not ten million.
    public func closeDay(
        _ day: CivilDay, expectedAfter: CivilDay?, id: String, body: String, signature: String,
        positions: [(party: String, netMinor: Int64)], now: Date
    ) async throws -> SettlementBatchRecord {
        try await database.write { db in
            if let existing = try await Self.batch(day: day, db) { return existing }
            let closed = try await Self.lastClosedDay(db)
            guard closed == expectedAfter else {
                throw StoreError(.settlementConflict, "the closed days changed while the batch for \(day) was computed; run it again")
            }
            try await db.execute(
                sql: "INSERT INTO settlement_batches (id, day, body, signature, state, created_at) VALUES (?, ?, ?, ?, 'draft', ?)",
                arguments: [id, day.description, body, signature, StoredTime.millis(now)])
            let position = try db.cachedStatement(sql: "INSERT INTO settlement_positions (batch_id, party, net_minor) VALUES (?, ?, ?)")
            for item in positions { try await position.execute(arguments: [id, item.party, item.netMinor]) }
            return try await Self.batch(day: day, db)!
        }
    }

    public func batch(day: CivilDay) async throws -> SettlementBatchRecord? {
        try await database.read { db in try await Self.batch(day: day, db) }
    }

    public func batch(id: String) async throws -> SettlementBatchRecord? {
        try await database.read { db in
            guard let day = try await String.fetchOne(db, sql: "SELECT day FROM settlement_batches WHERE id = ?", arguments: [id]) else { return nil }
            return try await Self.batch(day: try CivilDay(day), db)
        }
    }

    public func batches() async throws -> [SettlementBatchRecord] {
        try await database.read { db in
            var batches: [SettlementBatchRecord] = []
            for day in try await String.fetchAll(db, sql: "SELECT day FROM settlement_batches ORDER BY day") {
                if let batch = try await Self.batch(day: try CivilDay(day), db) { batches.append(batch) }
            }
            return batches
        }
    }

    public func lastClosedDay() async throws -> CivilDay? { try await database.read { db in try await Self.lastClosedDay(db) } }

    static func batch(day: CivilDay, _ db: any SQLConnection) async throws -> SettlementBatchRecord? {
        guard let row = try await SQLRow.fetchOne(db, sql: "SELECT * FROM settlement_batches WHERE day = ?", arguments: [day.description]) else { return nil }
        let id: String = row["id"]
        var payments: [String: String] = [:]
        for payment in try await SQLRow.fetchAll(db, sql: "SELECT party, reference FROM settlement_payments WHERE batch_id = ?", arguments: [id]) {
            payments[payment["party"]] = payment["reference"]
        }
        return SettlementBatchRecord(
            id: id, day: day, body: row["body"], signature: row["signature"], state: row["state"], approvedBy: row["approved_by"],
            approvedAt: (row["approved_at"] as Int64?).map(StoredTime.date), payments: payments)
    }

    /// draft → approved, by a clearing principal. Approving twice is a no-op; nothing else changes the batch.
    public func approveBatch(_ id: String, by principal: String, now: Date) async throws -> SettlementBatchRecord {
        try await database.write { db in
            guard let state = try await String.fetchOne(db, sql: "SELECT state FROM settlement_batches WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no batch \(id)")
            }
            if state == "draft" {
                try await db.execute(
                    sql: "UPDATE settlement_batches SET state = 'approved', approved_by = ?, approved_at = ? WHERE id = ?",
                    arguments: [principal, StoredTime.millis(now), id])
            }
            let day = try await String.fetchOne(db, sql: "SELECT day FROM settlement_batches WHERE id = ?", arguments: [id])!
            return try await Self.batch(day: try CivilDay(day), db)!
        }
    }

    /// Records payment references of an approved batch; it becomes `paid` once every party with a position has one.
    public func recordPayments(_ id: String, _ references: [String: String], parties: Set<String>, now: Date) async throws -> SettlementBatchRecord {
        try await database.write { db in
            guard let state = try await String.fetchOne(db, sql: "SELECT state FROM settlement_batches WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no batch \(id)")
            }
            guard state != "draft" else { throw StoreError(.settlementConflict, "batch \(id) must be approved before it is paid") }
            for (party, reference) in references {
                guard parties.contains(party) else { throw StoreError(.settlementConflict, "\(party) has no position in batch \(id)") }
                try await db.execute(
                    sql: """
                        INSERT INTO settlement_payments (batch_id, party, reference, paid_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT(batch_id, party) DO NOTHING
                        """, arguments: [id, party, reference, StoredTime.millis(now)])
            }
            let paid = try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM settlement_payments WHERE batch_id = ?", arguments: [id]) ?? 0
            if paid >= parties.count {
                try await db.execute(sql: "UPDATE settlement_batches SET state = 'paid' WHERE id = ?", arguments: [id])
            }
            let day = try await String.fetchOne(db, sql: "SELECT day FROM settlement_batches WHERE id = ?", arguments: [id])!
            return try await Self.batch(day: try CivilDay(day), db)!
        }
    }
}
