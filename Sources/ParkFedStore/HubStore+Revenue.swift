import Foundation
import ParkFedDomain

/// A park's money right now, read in one snapshot.
extension HubStore {
    public struct RevenueFigures: Sendable {
        public var salesCount: Int
        public var salesMinor: Int64
        /// (reason, outgoing?, count, amount, fee) over the open periods.
        public var lines: [(reason: String, outgoing: Bool, count: Int, amountMinor: Int64, feeMinor: Int64)]
        public var settledThrough: CivilDay?
    }

    /// Sales of `park` between two moments and its open obligations (periods after the last closed day).
    public func revenue(park: String, salesFrom: Date, salesUntil: Date) async throws -> RevenueFigures {
        try await database.read { db in
            let sales = try await SQLRow.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS n, COALESCE(SUM(price_minor), 0) AS amount FROM passes
                    WHERE issuer = ? AND price_minor IS NOT NULL AND created_at >= ? AND created_at < ?
                    """, arguments: [park, StoredTime.millis(salesFrom), StoredTime.millis(salesUntil)])
            let closed = try await Self.lastClosedDay(db)
            let rows = try await SQLRow.fetchAll(
                db,
                sql: """
                    SELECT reason, from_park = ? AS outgoing, COUNT(*) AS n, SUM(amount_minor) AS amount, SUM(fee_minor) AS fee FROM obligations
                    WHERE period > ? AND (from_park = ? OR to_park = ?) GROUP BY reason, outgoing ORDER BY reason, outgoing
                    """, arguments: [park, closed?.description ?? "", park, park])
            return RevenueFigures(
                salesCount: sales?["n"] ?? 0, salesMinor: Int64((sales?["amount"] as Double?) ?? 0),
                lines: rows.map { ($0["reason"], ($0["outgoing"] as Int64) == 1, $0["n"], $0["amount"], $0["fee"]) },
                settledThrough: closed)
        }
    }
}
