import Foundation
import ParkFedDomain

/// A visitor's order at the shop: the hold (an OCTO booking of the shop's seller) and its payment.
public struct ShopOrderRecord: Sendable, Hashable {
    public var id: String
    public var account: String
    public var bookingUUID: String
    public var product: String
    public var amountMinor: Int64
    public var currency: String
    /// The account's holders, one unit each.
    public var holders: [String]
    /// `pending` (held, awaiting payment), `issued` (paid, passes issued), `refund_due` (paid after its hold
    /// expired: nothing issued, the money goes back), `refunded`.
    public var status: String
    public var createdAt: Date
    public var expiresAt: Date
    public var provider: String? = nil
    public var paymentID: String? = nil
    /// The category the order's units were held in (read with the order from its booking).
    public var unitCategory: String? = nil

    public init(
        id: String, account: String, bookingUUID: String, product: String, amountMinor: Int64, currency: String, holders: [String], status: String,
        createdAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.account = account
        self.bookingUUID = bookingUUID
        self.product = product
        self.amountMinor = amountMinor
        self.currency = currency
        self.holders = holders
        self.status = status
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

extension HubStore {
    static func registerShopOrderMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v24-shop-orders") { db in
            let ddl = """
                CREATE TABLE shop_orders (
                    id TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    booking_uuid TEXT NOT NULL UNIQUE,
                    product TEXT NOT NULL,
                    amount_minor BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    holders TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'issued', 'refund_due', 'refunded')),
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    provider TEXT,
                    payment_id TEXT,
                    paid_at BIGINT
                );
                CREATE INDEX shop_orders_by_account ON shop_orders(account, created_at);
                """
            try await db.schema(sqlite: ddl.replacingOccurrences(of: "BIGINT", with: "INTEGER"), postgres: ddl)
        }
    }

    public func addShopOrder(_ order: ShopOrderRecord) async throws {
        try await database.write { db in
            try await db.execute(
                sql: """
                    INSERT INTO shop_orders (id, account, booking_uuid, product, amount_minor, currency, holders, status, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    order.id, order.account, order.bookingUUID, order.product, order.amountMinor, order.currency, order.holders.joined(separator: ","),
                    order.status, StoredTime.millis(order.createdAt), StoredTime.millis(order.expiresAt),
                ])
        }
    }

    public func shopOrder(_ id: String) async throws -> ShopOrderRecord? {
        try await database.read { db in
            guard let row = try await SQLRow.fetchOne(db, sql: "SELECT * FROM shop_orders WHERE id = ?", arguments: [id]) else { return nil }
            let category = try await String.fetchOne(
                db, sql: "SELECT category FROM octo_units WHERE booking_uuid = ? ORDER BY position LIMIT 1", arguments: [row["booking_uuid"] as String])
            return Self.shopOrder(row, category: category)
        }
    }

    public func shopOrders(account: String) async throws -> [ShopOrderRecord] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT * FROM shop_orders WHERE account = ? ORDER BY created_at DESC", arguments: [account]).map {
                Self.shopOrder($0, category: nil)
            }
        }
    }

    static func shopOrder(_ row: SQLRow, category: String?) -> ShopOrderRecord {
        var order = ShopOrderRecord(
            id: row["id"], account: row["account"], bookingUUID: row["booking_uuid"], product: row["product"], amountMinor: row["amount_minor"],
            currency: row["currency"], holders: (row["holders"] as String).split(separator: ",").map(String.init), status: row["status"],
            createdAt: StoredTime.date(row["created_at"] as Int64), expiresAt: StoredTime.date(row["expires_at"] as Int64))
        order.provider = row["provider"]
        order.paymentID = row["payment_id"]
        order.unitCategory = category
        return order
    }

    /// Records the provider a visitor chose to pay a pending order with (its notification and query then go to it).
    public func startShopPayment(_ id: String, provider: String) async throws {
        try await database.write { db in
            try await db.execute(sql: "UPDATE shop_orders SET provider = ? WHERE id = ? AND status = 'pending'", arguments: [provider, id])
        }
    }

    /// Records a payment's outcome, once: only a pending order moves. An order paid after its hold expired
    /// (`refund_due`) gets its whole refund recorded in the same transaction (`refund`), so the money is sent back
    /// even if the hub stops before it asks the provider. False when the order had moved already.
    @discardableResult
    public func markShopOrder(_ id: String, status: String, provider: String, paymentID: String, refund: ShopRefundRecord? = nil, now: Date) async throws
        -> Bool
    {
        try await database.write { db in
            guard
                try await db.execute(
                    sql: "UPDATE shop_orders SET status = ?, provider = ?, payment_id = ?, paid_at = ? WHERE id = ? AND status = 'pending'",
                    arguments: [status, provider, paymentID, StoredTime.millis(now), id]) == 1
            else { return false }
            if let refund { try await Self.insertShopRefund(refund, db) }
            return true
        }
    }
}
