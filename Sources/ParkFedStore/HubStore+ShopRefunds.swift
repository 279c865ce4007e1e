import Foundation
import ParkFedDomain

/// Money going back to a shop visitor through the order's payment provider: a ticket's refund the visitor asked for
/// (decided by the product's rule at once, or by the seller's staff from the review queue), or a whole order paid
/// after its hold expired. The row is written before anything moves (the intent), so a refund the hub decided is sent
/// again after a crash or an unreachable provider until the provider takes it; its id is the provider's idempotency key.
public struct ShopRefundRecord: Sendable, Hashable {
    /// `review` (waits for the seller's staff), `approved` (decided; the pass's refund is logged next), `sending` (the
    /// pass refund is logged or there was none; the provider is asked), `refunded` (the provider took it), `declined`.
    public enum Status: String, Sendable, Hashable, CaseIterable { case review, approved, sending, refunded, declined }
    public var id: String
    public var order: String
    /// The ticket's pass; nil for a whole order paid after its hold expired.
    public var passID: String?
    public var amountMinor: Int64
    public var currency: String
    public var status: Status
    /// Why (the rule's word: `before_visit`, `partly_used`, `visit_started`, `expired`, `late_payment`).
    public var reason: String
    public var createdAt: Date
    public var providerRefundID: String? = nil
    public var decidedBy: String? = nil
    public var note: String? = nil
    public var decidedAt: Date? = nil
    public var attempts: Int = 0
    public var lastError: String? = nil

    public init(id: String, order: String, passID: String?, amountMinor: Int64, currency: String, status: Status, reason: String, createdAt: Date) {
        self.id = id
        self.order = order
        self.passID = passID
        self.amountMinor = amountMinor
        self.currency = currency
        self.status = status
        self.reason = reason
        self.createdAt = createdAt
    }
}

extension HubStore {
    static func registerShopRefundMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v25-shop-refunds") { db in
            let ddl = """
                CREATE TABLE shop_refunds (
                    id TEXT PRIMARY KEY,
                    order_id TEXT NOT NULL,
                    pass_id TEXT NOT NULL,
                    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
                    currency TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('review', 'approved', 'sending', 'refunded', 'declined')),
                    reason TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    provider_refund_id TEXT,
                    decided_by TEXT,
                    note TEXT,
                    decided_at BIGINT,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    next_attempt_at BIGINT NOT NULL DEFAULT 0,
                    last_error TEXT,
                    UNIQUE (order_id, pass_id)
                );
                CREATE INDEX shop_refunds_by_status ON shop_refunds(status, created_at);
                """
            try await db.schema(sqlite: ddl.replacingOccurrences(of: "BIGINT", with: "INTEGER"), postgres: ddl)
        }
    }

    /// Records a refund once per order and ticket: answers the refund kept for them (a second request finds the first).
    public func addShopRefund(_ refund: ShopRefundRecord) async throws -> ShopRefundRecord {
        try await database.write { db in
            if let kept = try await SQLRow.fetchOne(
                db, sql: "SELECT * FROM shop_refunds WHERE order_id = ? AND pass_id = ?", arguments: [refund.order, refund.passID ?? ""])
            {
                return Self.shopRefund(kept)
            }
            try await Self.insertShopRefund(refund, db)
            return refund
        }
    }

    /// Writes a new refund row (within the caller's transaction).
    static func insertShopRefund(_ refund: ShopRefundRecord, _ db: any SQLConnection) async throws {
        try await db.execute(
            sql: """
                INSERT INTO shop_refunds (id, order_id, pass_id, amount_minor, currency, status, reason, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                refund.id, refund.order, refund.passID ?? "", refund.amountMinor, refund.currency, refund.status.rawValue, refund.reason,
                StoredTime.millis(refund.createdAt),
            ])
    }

    public func shopRefund(_ id: String) async throws -> ShopRefundRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT * FROM shop_refunds WHERE id = ?", arguments: [id]).map(Self.shopRefund)
        }
    }

    /// An order's refunds, oldest first.
    public func shopRefunds(order: String) async throws -> [ShopRefundRecord] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT * FROM shop_refunds WHERE order_id = ? ORDER BY created_at, id", arguments: [order]).map(Self.shopRefund)
        }
    }

    /// Refunds in `statuses`, oldest first (the review queue; what is still to send), or only those whose next
    /// attempt is due by `dueBy`.
    public func shopRefunds(statuses: [ShopRefundRecord.Status], dueBy: Date? = nil, limit: Int = 200) async throws -> [ShopRefundRecord] {
        guard !statuses.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: statuses.count).joined(separator: ", ")
        var arguments = SQLArguments(statuses.map(\.rawValue))
        arguments.append(contentsOf: [dueBy.map(StoredTime.millis) ?? Int64.max, Int64(limit)])
        return try await database.read { db in
            try await SQLRow.fetchAll(
                db, sql: "SELECT * FROM shop_refunds WHERE status IN (\(marks)) AND next_attempt_at <= ? ORDER BY created_at, id LIMIT ?",
                arguments: arguments
            ).map(Self.shopRefund)
        }
    }

    /// Moves a refund from `from` to `to`, once (compare and set): false when another request moved it first.
    public func moveShopRefund(
        _ id: String, from: ShopRefundRecord.Status, to: ShopRefundRecord.Status, amountMinor: Int64? = nil, decidedBy: String? = nil, note: String? = nil,
        now: Date
    ) async throws -> Bool {
        try await database.write { db in
            try await db.execute(
                sql: """
                    UPDATE shop_refunds SET status = ?, amount_minor = COALESCE(?, amount_minor), decided_by = COALESCE(?, decided_by),
                        note = COALESCE(?, note), decided_at = COALESCE(decided_at, ?)
                    WHERE id = ? AND status = ?
                    """,
                arguments: [to.rawValue, amountMinor, decidedBy, note, StoredTime.millis(now), id, from.rawValue]) == 1
        }
    }

    /// Records that the provider took a refund (and, for a whole order's refund, the order as refunded), once.
    public func completeShopRefund(_ id: String, providerRefundID: String) async throws -> Bool {
        try await database.write { db in
            guard
                try await db.execute(
                    sql: "UPDATE shop_refunds SET status = 'refunded', provider_refund_id = ? WHERE id = ? AND status = 'sending'",
                    arguments: [providerRefundID, id]) == 1
            else { return false }
            try await db.execute(
                sql: """
                    UPDATE shop_orders SET status = 'refunded'
                    WHERE status = 'refund_due' AND id = (SELECT order_id FROM shop_refunds WHERE id = ? AND pass_id = '')
                    """,
                arguments: [id])
            return true
        }
    }

    /// Records a failed attempt to send a refund; it is sent again from `nextAttemptAt`.
    public func failedShopRefund(_ id: String, error: String, nextAttemptAt: Date) async throws {
        try await database.write { db in
            try await db.execute(
                sql: "UPDATE shop_refunds SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
                arguments: [String(error.prefix(500)), StoredTime.millis(nextAttemptAt), id])
        }
    }

    static func shopRefund(_ row: SQLRow) -> ShopRefundRecord {
        let pass: String = row["pass_id"]
        var refund = ShopRefundRecord(
            id: row["id"], order: row["order_id"], passID: pass.isEmpty ? nil : pass, amountMinor: row["amount_minor"], currency: row["currency"],
            status: ShopRefundRecord.Status(rawValue: row["status"]) ?? .review, reason: row["reason"],
            createdAt: StoredTime.date(row["created_at"] as Int64))
        refund.providerRefundID = row["provider_refund_id"]
        refund.decidedBy = row["decided_by"]
        refund.note = row["note"]
        refund.decidedAt = (row["decided_at"] as Int64?).map(StoredTime.date)
        refund.attempts = Int(row["attempts"] as Int64)
        refund.lastError = row["last_error"]
        return refund
    }
}
