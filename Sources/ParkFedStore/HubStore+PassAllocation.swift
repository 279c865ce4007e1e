import Foundation
import ParkFedDomain

/// Membership passes (annual, season, month) whose price is split among the parks by entries once they have ended:
/// which passes still wait for that, and filing their allocation in one transaction with the mark that they are done.
extension HubStore {
    static func registerPassAllocationMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v11-pass-allocation") { db in
            try await db.schema(
                sqlite: """
                    ALTER TABLE passes ADD COLUMN allocated_period TEXT;
                    CREATE INDEX passes_awaiting_allocation ON passes(product) WHERE allocated_period IS NULL AND refunded_minor IS NULL;
                    """,
                postgres: """
                    ALTER TABLE passes ADD COLUMN allocated_period TEXT;
                    CREATE INDEX passes_awaiting_allocation ON passes(product) WHERE allocated_period IS NULL AND refunded_minor IS NULL;
                    """)
        }
    }

    /// Passes of these products that are neither refunded nor allocated yet, with their counted entries.
    public func passesAwaitingAllocation(products: [String]) async throws -> [PassRecord] {
        guard !products.isEmpty else { return [] }
        return try await database.read { db in
            let marks = Array(repeating: "?", count: products.count).joined(separator: ",")
            let ids = try await String.fetchAll(
                db,
                sql: """
                    SELECT id FROM passes WHERE product IN (\(marks)) AND allocated_period IS NULL AND refunded_minor IS NULL ORDER BY id
                    """, arguments: SQLArguments(products))
            let found = try await Self.passes(ids: ids, db)
            return ids.compactMap { found[$0] }
        }
    }

    /// Files each pass's allocation under `period` and marks the pass allocated, all in one transaction. A pass
    /// marked meanwhile (another run) or refunded is skipped, so running this twice files nothing twice. Returns how
    /// many passes were allocated.
    @discardableResult
    public func recordAllocations(_ allocations: [(passID: String, obligations: [Obligation])], period: CivilDay, at: Date) async throws -> Int {
        let fees = feeBasisPoints
        return try await database.write { db in
            var done = 0
            for (passID, obligations) in allocations {
                let claimed = try await db.execute(
                    sql: "UPDATE passes SET allocated_period = ? WHERE id = ? AND allocated_period IS NULL AND refunded_minor IS NULL",
                    arguments: [period.description, passID])
                guard claimed == 1 else { continue }
                for obligation in obligations {
                    try await Self.recordObligation(obligation, assertionID: nil, at: at, day: period, feeBasisPoints: fees, db)
                }
                done += 1
            }
            return done
        }
    }

    /// The period a pass's allocation was filed under, if it has been.
    public func allocationPeriod(pass id: String) async throws -> CivilDay? {
        try await database.read { db in
            try await String.fetchOne(db, sql: "SELECT allocated_period FROM passes WHERE id = ?", arguments: [id]).map { try CivilDay($0) }
        }
    }

    /// The usage records of a pass at a park: the ids of its counted entries (the assertions an allocation came from).
    public func countedEntryIDs(pass id: String, park: String) async throws -> [String] {
        try await database.read { db in
            try await String.fetchAll(
                db, sql: "SELECT entry_id FROM pass_entries WHERE pass_id = ? AND park = ? AND counted = 1 ORDER BY entered_at",
                arguments: [id, park])
        }
    }
}
