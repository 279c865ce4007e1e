import Foundation
import GRDB
import ParkFedDomain

/// One pre-printed code of a park's stock: signed and unique, inactive until sold at a window.
public struct StockCodeRecord: Sendable, Hashable {
    public enum State: String, Sendable { case printed, sold, void }
    /// The number printed beside the code (`<park>-<batch>-<n>`), which staff type or scan at the window.
    public var serial: String
    public var batch: String
    public var passID: String
    public var product: String
    public var category: String?
    public var code: String
    public var validFrom: CivilDay
    public var validUntil: CivilDay
    public var state: State

    public init(
        serial: String, batch: String, passID: String, product: String, category: String?, code: String, validFrom: CivilDay,
        validUntil: CivilDay, state: State = .printed
    ) {
        self.serial = serial
        self.batch = batch
        self.passID = passID
        self.product = product
        self.category = category
        self.code = code
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.state = state
    }
}

/// A stock code cannot change as asked (sold twice, voided after sale, unknown serial).
public struct StockStateError: Error, Sendable, Hashable {
    public let serial: String
    public let state: StockCodeRecord.State?
}

extension NodeStore {
    static func registerStockMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-stock-and-heads") { db in
            try db.execute(
                sql: """
                    ALTER TABLE gate_entries ADD COLUMN heads INTEGER NOT NULL DEFAULT 1;
                    CREATE TABLE stock_codes (
                        serial TEXT PRIMARY KEY,
                        batch TEXT NOT NULL,
                        pass_id TEXT NOT NULL UNIQUE,
                        product TEXT NOT NULL,
                        category TEXT,
                        code TEXT NOT NULL,
                        valid_from TEXT NOT NULL,
                        valid_until TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('printed', 'sold', 'void')),
                        created_at INTEGER NOT NULL,
                        changed_at INTEGER NOT NULL
                    );
                    CREATE INDEX stock_codes_by_batch ON stock_codes(batch, serial);
                    """)
        }
    }

    /// Stores a printed batch, all of it or nothing.
    public func insertStock(_ codes: [StockCodeRecord], now: Date) async throws {
        try await pool.write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO stock_codes (serial, batch, pass_id, product, category, code, valid_from, valid_until, state, created_at, changed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'printed', ?, ?)
                    """)
            for code in codes {
                try statement.execute(arguments: [
                    code.serial, code.batch, code.passID, code.product, code.category, code.code,
                    code.validFrom.description, code.validUntil.description, StoredTime.millis(now), StoredTime.millis(now),
                ])
            }
        }
    }

    public func stockCode(serial: String) async throws -> StockCodeRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM stock_codes WHERE serial = ?", arguments: [serial]).map(Self.stock) }
    }

    /// A batch's codes in serial order.
    public func stockBatch(_ batch: String) async throws -> [StockCodeRecord] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM stock_codes WHERE batch = ? ORDER BY serial", arguments: [batch]).map(Self.stock) }
    }

    /// Batches with their count of codes in each state.
    public func stockBatches() async throws -> [(batch: String, product: String, printed: Int, sold: Int, void: Int)] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT batch, MIN(product) AS product, SUM(state = 'printed') AS printed, SUM(state = 'sold') AS sold, SUM(state = 'void') AS void
                    FROM stock_codes GROUP BY batch ORDER BY batch
                    """
            ).map { ($0["batch"], $0["product"], $0["printed"], $0["sold"], $0["void"]) }
        }
    }

    /// Sells a printed code: its state, the sale and its `pass.issued` assertion in one transaction. A code that is
    /// not `printed` (already sold, voided, unknown) throws ``StockStateError`` and nothing changes.
    public func sellStock(serial: String, sale: SoldPassRecord, assertion: (id: String, type: String, jws: String), now: Date) async throws {
        try await pool.write { db in
            let state = try String.fetchOne(db, sql: "SELECT state FROM stock_codes WHERE serial = ?", arguments: [serial])
            guard state == StockCodeRecord.State.printed.rawValue else {
                throw StockStateError(serial: serial, state: state.flatMap(StockCodeRecord.State.init(rawValue:)))
            }
            try db.execute(sql: "UPDATE stock_codes SET state = 'sold', changed_at = ? WHERE serial = ?", arguments: [StoredTime.millis(now), serial])
            try Self.recordSale(sale, assertion: assertion, now: now, db)
        }
    }

    /// Voids printed codes (damaged, lost, unsold at the end of a season); voiding a void code again changes
    /// nothing. A sold code is refunded instead: ``StockStateError``.
    public func voidStock(serials: [String], now: Date) async throws {
        try await pool.write { db in
            for serial in serials {
                let state = try String.fetchOne(db, sql: "SELECT state FROM stock_codes WHERE serial = ?", arguments: [serial])
                guard state == StockCodeRecord.State.printed.rawValue || state == StockCodeRecord.State.void.rawValue else {
                    throw StockStateError(serial: serial, state: state.flatMap(StockCodeRecord.State.init(rawValue:)))
                }
                try db.execute(
                    sql: "UPDATE stock_codes SET state = 'void', changed_at = ? WHERE serial = ? AND state = 'printed'",
                    arguments: [StoredTime.millis(now), serial])
            }
        }
    }

    static func stock(_ row: Row) throws -> StockCodeRecord {
        StockCodeRecord(
            serial: row["serial"], batch: row["batch"], passID: row["pass_id"], product: row["product"], category: row["category"],
            code: row["code"], validFrom: try CivilDay(row["valid_from"] as String), validUntil: try CivilDay(row["valid_until"] as String),
            state: StockCodeRecord.State(rawValue: row["state"]) ?? .void)
    }
}
