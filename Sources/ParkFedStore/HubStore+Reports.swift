import Foundation
import ParkFedDomain

/// What the regulators' reports and the live occupancy feed read: counted entries with whether their pass was
/// real-name and whose it was, exits, refunds; and occupancy changes in log order, for a feed that resumes.
extension HubStore {
    /// A counted entry as a report sees it.
    public struct ReportEntry: Sendable, Hashable {
        public var park: String
        public var at: Date
        public var heads: Int
        public var issuer: String
        /// The pass carried a holder sealed to the hub.
        public var realName: Bool
    }

    /// Counted entries between two moments.
    public func reportEntries(from: Date, until: Date) async throws -> [ReportEntry] {
        try await database.read { db in
            try await SQLRow.fetchAll(
                db,
                sql: """
                    SELECT e.park, e.entered_at, e.heads, e.issuer,
                        CASE WHEN EXISTS (SELECT 1 FROM pass_holders h WHERE h.pass_id = e.pass_id) THEN 1 ELSE 0 END AS real_name
                    FROM pass_entries e WHERE e.counted = 1 AND e.entered_at >= ? AND e.entered_at < ?
                    """, arguments: [StoredTime.millis(from), StoredTime.millis(until)]
            ).map {
                ReportEntry(
                    park: $0["park"], at: StoredTime.date($0["entered_at"] as Int64), heads: $0["heads"], issuer: $0["issuer"],
                    realName: ($0["real_name"] as Int64) == 1)
            }
        }
    }

    /// Refunds between two moments: the selling park, when, how much.
    public func refunds(from: Date, until: Date) async throws -> [(park: String, at: Date, amountMinor: Int64)] {
        try await database.read { db in
            try await SQLRow.fetchAll(
                db,
                sql: """
                    SELECT p.issuer, r.at, p.refunded_minor FROM pass_revocations r JOIN passes p ON p.id = r.pass_id
                    WHERE r.refunded = 1 AND r.at >= ? AND r.at < ?
                    """, arguments: [StoredTime.millis(from), StoredTime.millis(until)]
            ).map { ($0["issuer"], StoredTime.date($0["at"] as Int64), ($0["refunded_minor"] as Int64?) ?? 0) }
        }
    }

    /// Occupancy changes of `day` after log index `after`, in log order: a counted entry's heads in, an exit count
    /// out (at most `limit`).
    public func occupancyChanges(day: CivilDay, after: UInt64?, limit: Int = 1000) async throws -> [(index: UInt64, park: String, change: Int)] {
        try await database.read { db in
            let start = after.map { Int64($0) } ?? -1
            return try await SQLRow.fetchAll(
                db,
                sql: """
                    SELECT log_index AS idx, park, heads AS change FROM pass_entries WHERE day = ? AND counted = 1 AND log_index > ?
                    UNION ALL
                    SELECT l.idx AS idx, x.park, -x.count AS change FROM park_exits x JOIN log_entries l ON l.id = x.entry_id
                    WHERE x.day = ? AND l.idx > ?
                    ORDER BY idx LIMIT \(limit)
                    """, arguments: [day.description, start, day.description, start]
            ).map { (UInt64($0["idx"] as Int64), $0["park"], Int($0["change"] as Int64)) }
        }
    }

    /// Entries and exits of `day` per park up to and including log index `upTo` (all when nil).
    public func occupancyTotals(day: CivilDay, upTo: UInt64?) async throws -> [String: Occupancy] {
        try await database.read { db in
            let end = upTo.map { Int64($0) } ?? Int64.max
            var totals: [String: Occupancy] = [:]
            for row in try await SQLRow.fetchAll(
                db, sql: "SELECT park, COALESCE(SUM(heads), 0) AS n FROM pass_entries WHERE day = ? AND counted = 1 AND log_index <= ? GROUP BY park",
                arguments: [day.description, end])
            {
                totals[row["park"], default: Occupancy(entries: 0, exits: 0)].entries = Int(row["n"] as Int64)
            }
            for row in try await SQLRow.fetchAll(
                db,
                sql: """
                    SELECT x.park, COALESCE(SUM(x.count), 0) AS n FROM park_exits x JOIN log_entries l ON l.id = x.entry_id
                    WHERE x.day = ? AND l.idx <= ? GROUP BY x.park
                    """, arguments: [day.description, end])
            {
                totals[row["park"], default: Occupancy(entries: 0, exits: 0)].exits = Int(row["n"] as Int64)
            }
            return totals
        }
    }
}
