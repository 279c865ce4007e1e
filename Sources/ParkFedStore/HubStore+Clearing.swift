import Foundation
import ParkFedDomain

/// A clearing step applied in the transaction that appends the hub's signed statement of it to the log, so the step
/// and its statement become durable together or not at all. Each carries what the statement says, and the store
/// refuses it (nothing written, nothing logged) when the state no longer matches.
public enum ClearingEffect: Sendable, Hashable {
    /// A second clearing person releases a draft batch; `ranBy` is who ran it as the statement names them.
    case approve(batch: String, by: String, ranBy: [String])
    case fileDispute(id: String, batch: String, seq: Int64, park: String, reason: String)
    /// `lines`: the adjustment lines filed under `period` (the next open day) when accepted.
    case decideDispute(id: String, accept: Bool, by: String, reason: String, period: CivilDay?, lines: [Disputes.Line])
    case markPaid(batch: String, party: String, reference: String, by: String, reason: String)
}

/// A dispute as stored.
public struct DisputeRecord: Sendable, Hashable {
    public var id: String
    public var batch: String
    public var seq: Int64
    public var park: String
    public var reason: String
    public var state: String
    public var filedAt: Date
    public var decidedBy: String?
    public var decisionReason: String?
    public var adjustmentPeriod: String?
}

/// An exception as stored.
public struct ClearingExceptionRecord: Sendable, Hashable {
    public var id: Int64
    public var statement: String
    public var entryRef: String
    public var outcome: String
    public var direction: String
    public var amountMinor: Int64
    public var batch: String?
    public var party: String?
    public var detail: String
    public var state: String
    public var resolvedBy: String?
    public var resolution: String?
}

/// Clearing after the batch: who ran it (four eyes), payment files issued, bank statements and their matches,
/// exceptions, disputes, the parties' bank accounts, and the log statements of every step.
extension HubStore {
    static func registerClearingMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v16-clearing") { db in
            let common = """
                CREATE TABLE settlement_runs (batch_id TEXT NOT NULL, principal TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (batch_id, principal));
                ALTER TABLE settlement_batches ADD COLUMN files_issued_at BIGINT;
                ALTER TABLE settlement_payments ADD COLUMN marked_by TEXT;
                ALTER TABLE settlement_payments ADD COLUMN reason TEXT;
                ALTER TABLE settlement_payments ADD COLUMN source TEXT NOT NULL DEFAULT 'hand';
                CREATE TABLE clearing_accounts (party TEXT PRIMARY KEY, body TEXT NOT NULL);
                CREATE TABLE bank_statements (
                    id TEXT PRIMARY KEY, digest TEXT NOT NULL, imported_by TEXT NOT NULL, imported_at BIGINT NOT NULL, entries BIGINT NOT NULL
                );
                CREATE TABLE statement_entries (
                    entry_ref TEXT PRIMARY KEY,
                    statement_id TEXT NOT NULL,
                    direction TEXT NOT NULL,
                    amount_minor BIGINT NOT NULL,
                    outcome TEXT NOT NULL,
                    reference TEXT,
                    batch_id TEXT,
                    party TEXT
                );
                CREATE INDEX statement_entries_by_reference ON statement_entries(reference);
                CREATE TABLE disputes (
                    id TEXT PRIMARY KEY,
                    batch_id TEXT NOT NULL,
                    obligation_seq BIGINT NOT NULL UNIQUE,
                    park TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'rejected')),
                    filed_at BIGINT NOT NULL,
                    decided_by TEXT,
                    decision_reason TEXT,
                    decided_at BIGINT,
                    adjustment_period TEXT
                );
                CREATE TABLE clearing_statements (
                    entry_id TEXT PRIMARY KEY, subject TEXT NOT NULL, action TEXT NOT NULL, log_index BIGINT NOT NULL
                );
                CREATE INDEX clearing_statements_by_subject ON clearing_statements(subject, log_index);
                """
            try await db.schema(
                sqlite: common.replacingOccurrences(of: "BIGINT", with: "INTEGER") + """
                    CREATE TABLE clearing_exceptions (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        statement_id TEXT NOT NULL, entry_ref TEXT NOT NULL, outcome TEXT NOT NULL, direction TEXT NOT NULL,
                        amount_minor INTEGER NOT NULL, batch_id TEXT, party TEXT, detail TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('open', 'resolved')), created_at INTEGER NOT NULL,
                        resolved_by TEXT, resolution TEXT, resolved_at INTEGER
                    );
                    """,
                postgres: common + """
                    CREATE TABLE clearing_exceptions (
                        id BIGSERIAL PRIMARY KEY,
                        statement_id TEXT NOT NULL, entry_ref TEXT NOT NULL, outcome TEXT NOT NULL, direction TEXT NOT NULL,
                        amount_minor BIGINT NOT NULL, batch_id TEXT, party TEXT, detail TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('open', 'resolved')), created_at BIGINT NOT NULL,
                        resolved_by TEXT, resolution TEXT, resolved_at BIGINT
                    );
                    """)
        }
    }

    // MARK: Who ran a batch

    /// Records that `principal` ran (or re-ran) the batch `id`.
    public func recordRun(_ id: String, by principal: String, now: Date) async throws {
        try await database.write { db in
            try await db.execute(
                sql: "INSERT INTO settlement_runs (batch_id, principal, at) VALUES (?, ?, ?) ON CONFLICT(batch_id, principal) DO NOTHING",
                arguments: [id, principal, StoredTime.millis(now)])
        }
    }

    public func runners(_ id: String) async throws -> [String] {
        try await database.read { db in try await Self.runners(id, db) }
    }

    static func runners(_ id: String, _ db: any SQLConnection) async throws -> [String] {
        try await String.fetchAll(db, sql: "SELECT principal FROM settlement_runs WHERE batch_id = ? ORDER BY principal", arguments: [id])
    }

    /// The first export of an approved batch's payment files; later exports keep the first time.
    public func markFilesIssued(_ id: String, now: Date) async throws {
        try await database.write { db in
            try await db.execute(
                sql: "UPDATE settlement_batches SET files_issued_at = ? WHERE id = ? AND files_issued_at IS NULL", arguments: [StoredTime.millis(now), id])
        }
    }

    /// When the batch's payment files were first exported, and what was paid per party by which means.
    public func clearingState(_ id: String) async throws -> (filesIssuedAt: Date?, paidBy: [String: String]) {
        try await database.read { db in
            let issued = try await Int64.fetchOne(db, sql: "SELECT files_issued_at FROM settlement_batches WHERE id = ?", arguments: [id])
            var sources: [String: String] = [:]
            for row in try await SQLRow.fetchAll(db, sql: "SELECT party, source FROM settlement_payments WHERE batch_id = ?", arguments: [id]) {
                sources[row["party"]] = row["source"]
            }
            return (issued.map(StoredTime.date), sources)
        }
    }

    // MARK: Bank accounts

    /// Stores each party's bank details (an opaque document the hub reads back), replacing what was there.
    public func setClearingAccounts(_ bodies: [String: String]) async throws {
        try await database.write { db in
            for (party, body) in bodies {
                try await db.execute(
                    sql: "INSERT INTO clearing_accounts (party, body) VALUES (?, ?) ON CONFLICT(party) DO UPDATE SET body = excluded.body",
                    arguments: [party, body])
            }
        }
    }

    public func clearingAccounts() async throws -> [String: String] {
        try await database.read { db in
            var result: [String: String] = [:]
            for row in try await SQLRow.fetchAll(db, sql: "SELECT party, body FROM clearing_accounts") { result[row["party"]] = row["body"] }
            return result
        }
    }

    // MARK: The clearing steps the log records

    /// The obligation `seq`, if any.
    public func obligation(seq: Int64) async throws -> ObligationRecord? {
        try await database.read { db in try await Self.obligation(seq: seq, db) }
    }

    static func obligation(seq: Int64, _ db: any SQLConnection) async throws -> ObligationRecord? {
        try await SQLRow.fetchOne(
            db, sql: "SELECT seq, from_park, to_park, amount_minor, reason, reference, assertion_id, period, fee_minor FROM obligations WHERE seq = ?",
            arguments: [seq]
        ).map { row in
            ObligationRecord(
                seq: row["seq"], from: row["from_park"], to: row["to_park"], amountMinor: row["amount_minor"], reason: row["reason"],
                reference: row["reference"], assertionID: row["assertion_id"], period: try CivilDay(row["period"] as String), feeMinor: row["fee_minor"])
        }
    }

    static func apply(_ effect: ClearingEffect, entryID: String, logIndex: UInt64, now: Date, _ db: any SQLConnection) async throws
        -> AssertionEffectResult
    {
        func refuse(_ reason: String, _ detail: String) -> AssertionEffectResult { .refused(PassChangeRefusal(reason, detail)) }
        let subject: String, action: String
        switch effect {
        case .approve(let batch, let by, let ranBy):
            guard let state = try await String.fetchOne(db, sql: "SELECT state FROM settlement_batches WHERE id = ?", arguments: [batch]) else {
                return refuse("unknown_batch", "no batch \(batch)")
            }
            guard state == "draft" else { return refuse("already_approved", "\(batch) is \(state)") }
            let runners = try await runners(batch, db)
            guard runners == ranBy.sorted() else { return refuse("settlement_conflict", "\(batch) was run again meanwhile; approve again") }
            guard !runners.contains(by) else { return refuse("four_eyes", "\(by) ran \(batch); another clearing person releases it") }
            try await db.execute(
                sql: "UPDATE settlement_batches SET state = 'approved', approved_by = ?, approved_at = ? WHERE id = ?",
                arguments: [by, StoredTime.millis(now), batch])
            (subject, action) = (batch, "batch.approved")

        case .fileDispute(let id, let batch, let seq, let park, let reason):
            if let existing = try await String.fetchOne(db, sql: "SELECT id FROM disputes WHERE obligation_seq = ?", arguments: [seq]) {
                return refuse("already_disputed", "obligation \(seq) is already disputed (\(existing))")
            }
            try await db.execute(
                sql: "INSERT INTO disputes (id, batch_id, obligation_seq, park, reason, state, filed_at) VALUES (?, ?, ?, ?, ?, 'open', ?)",
                arguments: [id, batch, seq, park, reason, StoredTime.millis(now)])
            (subject, action) = (id, "dispute.filed")

        case .decideDispute(let id, let accept, let by, let reason, let period, let lines):
            guard let row = try await SQLRow.fetchOne(db, sql: "SELECT state, obligation_seq FROM disputes WHERE id = ?", arguments: [id]) else {
                return refuse("unknown_dispute", "no dispute \(id)")
            }
            guard row["state"] as String == "open" else { return refuse("already_decided", "dispute \(id) is \(row["state"] as String)") }
            if accept {
                guard let period, let closed = try await lastClosedDay(db), period == closed.adding(days: 1) else {
                    return refuse("settlement_conflict", "a day was closed meanwhile; decide again")
                }
                guard let original = try await obligation(seq: row["obligation_seq"], db) else { return refuse("unknown_obligation", "the line is gone") }
                for line in lines {
                    try await recordObligationRow(
                        from: line.from, to: line.to, amountMinor: line.amountMinor, feeMinor: 0, reason: Self.adjustmentReason, reference: id,
                        assertionID: original.assertionID, at: now, period: period, db)
                }
            }
            try await db.execute(
                sql: """
                    UPDATE disputes SET state = ?, decided_by = ?, decision_reason = ?, decided_at = ?, adjustment_period = ? WHERE id = ?
                    """, arguments: [accept ? "accepted" : "rejected", by, reason, StoredTime.millis(now), accept ? period?.description : nil, id])
            (subject, action) = (id, accept ? "dispute.accepted" : "dispute.rejected")

        case .markPaid(let batch, let party, let reference, let by, let reason):
            guard let state = try await String.fetchOne(db, sql: "SELECT state FROM settlement_batches WHERE id = ?", arguments: [batch]) else {
                return refuse("unknown_batch", "no batch \(batch)")
            }
            guard state != "draft" else { return refuse("not_approved", "batch \(batch) must be approved before it is paid") }
            let inserted = try await db.execute(
                sql: """
                    INSERT INTO settlement_payments (batch_id, party, reference, paid_at, marked_by, reason, source) VALUES (?, ?, ?, ?, ?, ?, 'hand')
                    ON CONFLICT(batch_id, party) DO NOTHING
                    """, arguments: [batch, party, reference, StoredTime.millis(now), by, reason])
            guard inserted > 0 else { return refuse("already_paid", "\(party)'s position in \(batch) is already paid") }
            try await updatePaidState(batch, db)
            (subject, action) = (batch, "payment.marked")
        }
        try await db.execute(
            sql: "INSERT INTO clearing_statements (entry_id, subject, action, log_index) VALUES (?, ?, ?, ?)",
            arguments: [entryID, subject, action, Int64(logIndex)])
        return .applied
    }

    /// The reason of adjustment lines (an accepted dispute's reversal).
    public static let adjustmentReason = "adjustment"

    /// A batch is `paid` once every party with a position, but the hub (whose fees stay in the settlement account),
    /// has a payment.
    static func updatePaidState(_ batch: String, _ db: any SQLConnection) async throws {
        let missing =
            try await Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM settlement_positions p WHERE p.batch_id = ? AND p.net_minor <> 0 AND p.party <> 'hub'
                    AND NOT EXISTS (SELECT 1 FROM settlement_payments s WHERE s.batch_id = p.batch_id AND s.party = p.party)
                    """, arguments: [batch]) ?? 0
        if missing == 0 { try await db.execute(sql: "UPDATE settlement_batches SET state = 'paid' WHERE id = ? AND state = 'approved'", arguments: [batch]) }
    }

    /// The log statements of a batch or dispute, in log order: (action, log index, compact JWS).
    public func clearingStatements(subject: String) async throws -> [(action: String, index: UInt64, jws: String)] {
        try await database.read { db in
            try await SQLRow.fetchAll(
                db,
                sql: """
                    SELECT c.action, c.log_index, l.jws FROM clearing_statements c JOIN log_entries l ON l.idx = c.log_index
                    WHERE c.subject = ? ORDER BY c.log_index
                    """, arguments: [subject]
            ).map { ($0["action"], UInt64($0["log_index"] as Int64), $0["jws"]) }
        }
    }

    // MARK: Disputes

    static func dispute(_ row: SQLRow) -> DisputeRecord {
        DisputeRecord(
            id: row["id"], batch: row["batch_id"], seq: row["obligation_seq"], park: row["park"], reason: row["reason"], state: row["state"],
            filedAt: StoredTime.date(row["filed_at"]), decidedBy: row["decided_by"], decisionReason: row["decision_reason"],
            adjustmentPeriod: row["adjustment_period"])
    }

    public func dispute(id: String) async throws -> DisputeRecord? {
        try await database.read { db in try await SQLRow.fetchOne(db, sql: "SELECT * FROM disputes WHERE id = ?", arguments: [id]).map(Self.dispute) }
    }

    /// Disputes, newest first; of one park, or of one state, when given.
    public func disputes(park: String? = nil, state: String? = nil) async throws -> [DisputeRecord] {
        try await database.read { db in
            var sql = "SELECT * FROM disputes WHERE 1 = 1"
            var arguments: SQLArguments = []
            if let park {
                sql += " AND park = ?"
                arguments.append(contentsOf: [park])
            }
            if let state {
                sql += " AND state = ?"
                arguments.append(contentsOf: [state])
            }
            return try await SQLRow.fetchAll(db, sql: sql + " ORDER BY filed_at DESC, id", arguments: arguments).map(Self.dispute)
        }
    }

    /// The disputes whose adjustment lines a range of periods holds, by id (to show them beside the lines).
    public func disputes(ids: [String]) async throws -> [String: DisputeRecord] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read { db in
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            let rows = try await SQLRow.fetchAll(db, sql: "SELECT * FROM disputes WHERE id IN (\(marks))", arguments: SQLArguments(ids))
            return Dictionary(rows.map(Self.dispute).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    // MARK: Statements and exceptions

    /// Imports a bank statement's entries in one transaction: entries already imported are duplicates; the others
    /// are matched (``Reconciliation``) against `expected`, summed with what earlier imports booked; a position whose
    /// payments add up is paid (source `statement`); every unknown, short or excess entry becomes an open exception,
    /// and a short payment's exception is resolved when the rest arrives. Returns the matches and the positions paid.
    public func importStatement(
        id: String, digest: String, by principal: String, entries: [Reconciliation.Entry], expected: [Reconciliation.Expected], now: Date
    ) async throws -> (matches: [Reconciliation.Match], paid: [(batch: String, party: String)]) {
        try await database.write { db in
            var seen = Set<String>()
            let refs = entries.map(\.entryRef)
            try await db.forEachChunk(of: refs) { chunk, marks in
                seen.formUnion(
                    try await String.fetchAll(db, sql: "SELECT entry_ref FROM statement_entries WHERE entry_ref IN (\(marks))", arguments: SQLArguments(chunk)))
            }
            var received: [String: Int64] = [:]
            for row in try await SQLRow.fetchAll(
                db, sql: "SELECT reference, SUM(amount_minor) AS total FROM statement_entries WHERE reference IS NOT NULL GROUP BY reference")
            {
                received[row["reference"]] = row["total"]
            }
            let matches = Reconciliation.match(entries, expected: expected, received: &received, seen: &seen)
            let known = try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bank_statements WHERE id = ?", arguments: [id]) ?? 0
            if known == 0 {
                try await db.execute(
                    sql: "INSERT INTO bank_statements (id, digest, imported_by, imported_at, entries) VALUES (?, ?, ?, ?, ?)",
                    arguments: [id, digest, principal, StoredTime.millis(now), entries.count])
            }
            var paid: [(batch: String, party: String)] = []
            for match in matches where match.outcome != .duplicate {
                try await db.execute(
                    sql: """
                        INSERT INTO statement_entries (entry_ref, statement_id, direction, amount_minor, outcome, reference, batch_id, party)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        match.entry.entryRef, id, match.entry.direction.rawValue, match.entry.amountMinor, match.outcome.rawValue,
                        match.expected?.reference, match.expected?.batch, match.expected?.party,
                    ])
                if let expected = match.expected, match.outcome == .matched || match.outcome == .overpaid {
                    let inserted = try await db.execute(
                        sql: """
                            INSERT INTO settlement_payments (batch_id, party, reference, paid_at, marked_by, reason, source)
                            VALUES (?, ?, ?, ?, ?, 'bank statement', 'statement') ON CONFLICT(batch_id, party) DO NOTHING
                            """, arguments: [expected.batch, expected.party, match.entry.entryRef, StoredTime.millis(now), principal])
                    if inserted > 0 {
                        paid.append((expected.batch, expected.party))
                        try await Self.updatePaidState(expected.batch, db)
                    }
                    // The rest of a short payment arrived: its exception is settled by this entry.
                    try await db.execute(
                        sql: """
                            UPDATE clearing_exceptions SET state = 'resolved', resolved_by = 'reconciliation', resolution = ?, resolved_at = ?
                            WHERE state = 'open' AND outcome = 'partly_paid' AND batch_id = ? AND party = ?
                            """, arguments: ["completed by \(match.entry.entryRef)", StoredTime.millis(now), expected.batch, expected.party])
                }
                if match.outcome.isException {
                    let detail: String =
                        switch match.outcome {
                        case .partlyPaid:
                            "\(match.expected!.party) paid \(match.receivedMinor) of \(match.expected!.amountMinor) for \(match.expected!.batch)"
                        case .overpaid:
                            "\(match.expected!.party) paid \(match.receivedMinor), \(match.receivedMinor - match.expected!.amountMinor) more than the \(match.expected!.amountMinor) of \(match.expected!.batch)"
                        default: "no expected payment names this entry (\(match.entry.texts.filter { !$0.isEmpty }.joined(separator: " / ")))"
                        }
                    try await db.execute(
                        sql: """
                            INSERT INTO clearing_exceptions (statement_id, entry_ref, outcome, direction, amount_minor, batch_id, party, detail, state, created_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)
                            """,
                        arguments: [
                            id, match.entry.entryRef, match.outcome.rawValue, match.entry.direction.rawValue, match.entry.amountMinor,
                            match.expected?.batch, match.expected?.party, detail, StoredTime.millis(now),
                        ])
                }
            }
            return (matches, paid)
        }
    }

    static func exception(_ row: SQLRow) -> ClearingExceptionRecord {
        ClearingExceptionRecord(
            id: row["id"], statement: row["statement_id"], entryRef: row["entry_ref"], outcome: row["outcome"], direction: row["direction"],
            amountMinor: row["amount_minor"], batch: row["batch_id"], party: row["party"], detail: row["detail"], state: row["state"],
            resolvedBy: row["resolved_by"], resolution: row["resolution"])
    }

    /// Exceptions, open first then newest; only open ones when `open`.
    public func exceptions(open: Bool = false) async throws -> [ClearingExceptionRecord] {
        try await database.read { db in
            try await SQLRow.fetchAll(
                db, sql: "SELECT * FROM clearing_exceptions \(open ? "WHERE state = 'open'" : "") ORDER BY state = 'open' DESC, id DESC"
            ).map(Self.exception)
        }
    }

    /// Resolves an open exception with who and why.
    public func resolveException(_ id: Int64, by principal: String, reason: String, now: Date) async throws -> ClearingExceptionRecord {
        try await database.write { db in
            guard let row = try await SQLRow.fetchOne(db, sql: "SELECT * FROM clearing_exceptions WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no exception \(id)")
            }
            guard row["state"] as String == "open" else { throw StoreError(.invalidState, "exception \(id) is already resolved") }
            try await db.execute(
                sql: "UPDATE clearing_exceptions SET state = 'resolved', resolved_by = ?, resolution = ?, resolved_at = ? WHERE id = ?",
                arguments: [principal, reason, StoredTime.millis(now), id])
            return Self.exception(try await SQLRow.fetchOne(db, sql: "SELECT * FROM clearing_exceptions WHERE id = ?", arguments: [id])!)
        }
    }

    /// Open exceptions and open disputes per batch (for the calendar).
    public func openCounts() async throws -> (exceptions: [String: Int], disputes: [String: Int]) {
        try await database.read { db in
            var exceptions: [String: Int] = [:], disputes: [String: Int] = [:]
            for row in try await SQLRow.fetchAll(
                db, sql: "SELECT batch_id, COUNT(*) AS n FROM clearing_exceptions WHERE state = 'open' AND batch_id IS NOT NULL GROUP BY batch_id")
            {
                exceptions[row["batch_id"]] = row["n"]
            }
            for row in try await SQLRow.fetchAll(db, sql: "SELECT batch_id, COUNT(*) AS n FROM disputes WHERE state = 'open' GROUP BY batch_id") {
                disputes[row["batch_id"]] = row["n"]
            }
            return (exceptions, disputes)
        }
    }
}
