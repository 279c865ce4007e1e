import Foundation
import ParkFedDomain

/// A park's daily capacity as a sale is held against it: the products that take its places.
public struct DailyLimit: Sendable, Hashable {
    public var park: ParkID
    public var capacity: Int
    /// Every product whose passes enter `park` (they share its places of the day).
    public var products: [String]

    public init(park: ParkID, capacity: Int, products: [String]) {
        self.park = park
        self.capacity = capacity
        self.products = products
    }
}

/// A park's stored level against one capacity on one day (``CapacityWatch``), as the last statement set it.
public struct CapacityLevelRecord: Sendable, Hashable {
    public var park: String
    public var day: CivilDay
    public var measure: CapacityMeasure
    public var level: CapacityLevel
    public var used: Int
    public var capacity: Int
    public var statementID: String
    public var logIndex: UInt64
    public var changedAt: Date
}

/// A level change as a hub statement applies it: compare-and-set from `from` (so two hub tasks that saw the same
/// change log it once), with a push queued to every regulator endpoint in the same transaction.
public struct CapacityLevelChange: Sendable, Hashable {
    public var park: String
    public var day: CivilDay
    public var measure: CapacityMeasure
    public var from: CapacityLevel
    public var to: CapacityLevel
    public var used: Int
    public var capacity: Int
    /// The statement's compact JWS: the body pushed to regulators.
    public var jws: String

    public init(park: String, day: CivilDay, measure: CapacityMeasure, from: CapacityLevel, to: CapacityLevel, used: Int, capacity: Int, jws: String) {
        self.park = park
        self.day = day
        self.measure = measure
        self.from = from
        self.to = to
        self.used = used
        self.capacity = capacity
        self.jws = jws
    }
}

/// A signed statement queued for a regulator's endpoint.
public struct RegulatorPushRecord: Sendable, Hashable {
    public var id: Int64
    public var regulator: String
    public var url: String
    public var statementID: String
    public var body: String
    public var createdAt: Date
    public var attempts: Int
    public var nextAttemptAt: Date
    public var deliveredAt: Date?
    public var lastStatus: Int?
    public var lastError: String?
}

extension HubStore {
    static func registerCapacityWatchMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v20-capacity-watch") { db in
            let ddl = """
                CREATE TABLE capacity_levels (
                    park TEXT NOT NULL,
                    day TEXT NOT NULL,
                    measure TEXT NOT NULL CHECK (measure IN ('daily', 'instantaneous')),
                    level TEXT NOT NULL CHECK (level IN ('normal', 'warning', 'full')),
                    used BIGINT NOT NULL,
                    capacity BIGINT NOT NULL,
                    statement_id TEXT NOT NULL,
                    log_index BIGINT NOT NULL,
                    changed_at BIGINT NOT NULL,
                    PRIMARY KEY (park, day, measure)
                );
                CREATE TABLE regulator_endpoints (
                    regulator TEXT PRIMARY KEY,
                    url TEXT NOT NULL,
                    updated_at BIGINT NOT NULL
                );
                CREATE TABLE regulator_pushes (
                    id SERIAL_KEY,
                    regulator TEXT NOT NULL,
                    url TEXT NOT NULL,
                    statement_id TEXT NOT NULL,
                    body TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    next_attempt_at BIGINT NOT NULL,
                    delivered_at BIGINT,
                    last_status BIGINT,
                    last_error TEXT
                );
                CREATE INDEX regulator_pushes_due ON regulator_pushes(next_attempt_at) WHERE delivered_at IS NULL;
                CREATE INDEX pass_entries_by_park_day ON pass_entries(park, day);
                CREATE INDEX passes_by_day ON passes(valid_from, product);
                """
            try await db.schema(
                sqlite: ddl.replacingOccurrences(of: "BIGINT", with: "INTEGER").replacingOccurrences(
                    of: "SERIAL_KEY", with: "INTEGER PRIMARY KEY AUTOINCREMENT"),
                postgres: ddl.replacingOccurrences(of: "SERIAL_KEY", with: "BIGSERIAL PRIMARY KEY"))
        }
    }

    // MARK: Places of a day

    /// A day's places used at a park (``CapacityWatch/dailyUsed(sold:entered:)``): heads of passes sold for the
    /// day of `products` (not refunded; `excludingPass` aside) with resellers' unexpired holds, or heads that entered.
    static func dailyUsed(_ limit: DailyLimit, day: CivilDay, now: Date, excludingPass: String?, _ db: any SQLConnection) async throws -> Int {
        guard !limit.products.isEmpty else { return try await enteredHeads(park: limit.park.rawValue, day: day, db) }
        let marks = Array(repeating: "?", count: limit.products.count).joined(separator: ", ")
        let products = limit.products.map(\.sqlValue)
        let sold = try await soldHeads(products: limit.products, day: day, excludingPass: excludingPass, db)
        let held =
            try await Int.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(u.heads), 0) FROM octo_units u JOIN octo_bookings b ON b.uuid = u.booking_uuid
                    WHERE b.status = 'held' AND b.day = ? AND b.product IN (\(marks)) AND b.expires_at > ? AND u.pass_id != ?
                        AND NOT EXISTS (SELECT 1 FROM passes p WHERE p.id = u.pass_id AND p.price_minor IS NOT NULL)
                    """,
                arguments: SQLArguments(values: [day.description.sqlValue] + products + [StoredTime.millis(now).sqlValue, (excludingPass ?? "").sqlValue])) ?? 0
        return CapacityWatch.dailyUsed(sold: sold + held, entered: try await enteredHeads(park: limit.park.rawValue, day: day, db))
    }

    /// The first of `limits` a sale of `heads` more places on `day` would pass, with its places used, or nil.
    static func overfull(_ limits: [DailyLimit], heads: Int, day: CivilDay, now: Date, excludingPass: String?, _ db: any SQLConnection) async throws
        -> (DailyLimit, used: Int)?
    {
        for limit in limits {
            let used = try await dailyUsed(limit, day: day, now: now, excludingPass: excludingPass, db)
            if !CapacityWatch.admitsSale(heads: heads, used: used, capacity: limit.capacity) { return (limit, used) }
        }
        return nil
    }

    /// Places used on `day` against each limit (for availability and the watch).
    public func dailyUsed(_ limits: [DailyLimit], day: CivilDay, now: Date) async throws -> [ParkID: Int] {
        try await database.read { db in
            var used: [ParkID: Int] = [:]
            for limit in limits { used[limit.park] = try await Self.dailyUsed(limit, day: day, now: now, excludingPass: nil, db) }
            return used
        }
    }

    /// People inside `park` on `day`: heads admitted less exits counted.
    static func occupancy(park: String, day: CivilDay, _ db: any SQLConnection) async throws -> Occupancy {
        Occupancy(entries: try await enteredHeads(park: park, day: day, db), exits: try await exitedPeople(park: park, day: day, db))
    }

    /// What the capacity watch compares for one park's day: places used against its daily capacity, people inside
    /// against its instantaneous capacity (today only), and the levels stored for that day.
    public struct CapacityFigures: Sendable {
        public var park: ParkID
        public var day: CivilDay
        public var daily: (used: Int, capacity: Int)?
        public var instantaneous: (inside: Int, capacity: Int)?
        public var levels: [CapacityLevelRecord]
    }

    /// The capacity watch's figures for each park-day, in one read (one snapshot, one hop to a reader; the watch
    /// runs after every group of appends, and five reads of their own made it the online gate's longest wait).
    /// `products` names, per park, the products whose passes enter it; `today` is the day occupancy is watched on.
    public func capacityFigures(
        _ parkDays: [(park: ParkID, day: CivilDay)], products: @escaping @Sendable (ParkID) -> [String], today: CivilDay, now: Date
    ) async throws -> [CapacityFigures] {
        try await database.read { db in
            var capacities: [String: (daily: Int?, instantaneous: Int?)] = [:]
            for row in try await SQLRow.fetchAll(db, sql: "SELECT park, daily, instantaneous FROM park_capacity") {
                capacities[row["park"]] = ((row["daily"] as Int64?).map(Int.init), (row["instantaneous"] as Int64?).map(Int.init))
            }
            var figures: [CapacityFigures] = []
            for (park, day) in parkDays {
                var item = CapacityFigures(park: park, day: day, levels: [])
                if let capacity = capacities[park.rawValue]?.daily, capacity > 0 {
                    let limit = DailyLimit(park: park, capacity: capacity, products: products(park))
                    item.daily = (try await Self.dailyUsed(limit, day: day, now: now, excludingPass: nil, db), capacity)
                }
                if let capacity = capacities[park.rawValue]?.instantaneous, capacity > 0, day == today {
                    item.instantaneous = (try await Self.occupancy(park: park.rawValue, day: day, db).inside, capacity)
                }
                guard item.daily != nil || item.instantaneous != nil else { continue }
                item.levels = try await SQLRow.fetchAll(
                    db, sql: "SELECT * FROM capacity_levels WHERE day = ? AND park = ? ORDER BY measure", arguments: [day.description, park.rawValue]
                ).map(Self.levelRecord)
                figures.append(item)
            }
            return figures
        }
    }

    // MARK: Levels

    /// The stored levels of `day` and after (all parks), or of one park.
    public func capacityLevels(from day: CivilDay, park: String? = nil) async throws -> [CapacityLevelRecord] {
        try await database.read { db in
            let rows =
                if let park {
                    try await SQLRow.fetchAll(
                        db, sql: "SELECT * FROM capacity_levels WHERE day >= ? AND park = ? ORDER BY day, park, measure",
                        arguments: [day.description, park])
                } else {
                    try await SQLRow.fetchAll(
                        db, sql: "SELECT * FROM capacity_levels WHERE day >= ? ORDER BY day, park, measure", arguments: [day.description])
                }
            return try rows.map(Self.levelRecord)
        }
    }

    static func levelRecord(_ row: SQLRow) throws -> CapacityLevelRecord {
        guard let measure = CapacityMeasure(rawValue: row["measure"]), let level = CapacityLevel(rawValue: row["level"]) else {
            throw StoreError(.corrupt, "an unknown capacity measure or level")
        }
        return CapacityLevelRecord(
            park: row["park"], day: try CivilDay(row["day"] as String), measure: measure, level: level, used: Int(row["used"] as Int64),
            capacity: Int(row["capacity"] as Int64), statementID: row["statement_id"], logIndex: UInt64(row["log_index"] as Int64),
            changedAt: StoredTime.date(row["changed_at"] as Int64))
    }

    /// Applies a level statement (inside the log's append transaction): refused when the stored level is no longer
    /// `from` (another task logged the change first).
    static func apply(_ change: CapacityLevelChange, entryID: String, logIndex: UInt64, now: Date, _ db: any SQLConnection) async throws
        -> AssertionEffectResult
    {
        let current =
            try await String.fetchOne(
                db, sql: "SELECT level FROM capacity_levels WHERE park = ? AND day = ? AND measure = ?",
                arguments: [change.park, change.day.description, change.measure.rawValue]
            ).flatMap(CapacityLevel.init(rawValue:)) ?? .normal
        guard current == change.from else {
            return .refused(PassChangeRefusal("level_moved", "the level of \(change.park) on \(change.day) is \(current.rawValue) already"))
        }
        try await db.execute(
            sql: """
                INSERT INTO capacity_levels (park, day, measure, level, used, capacity, statement_id, log_index, changed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (park, day, measure) DO UPDATE SET level = excluded.level, used = excluded.used, capacity = excluded.capacity,
                    statement_id = excluded.statement_id, log_index = excluded.log_index, changed_at = excluded.changed_at
                """,
            arguments: [
                change.park, change.day.description, change.measure.rawValue, change.to.rawValue, change.used, change.capacity, entryID,
                Int64(logIndex), StoredTime.millis(now),
            ])
        for row in try await SQLRow.fetchAll(db, sql: "SELECT regulator, url FROM regulator_endpoints ORDER BY regulator") {
            try await db.execute(
                sql: """
                    INSERT INTO regulator_pushes (regulator, url, statement_id, body, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [row["regulator"] as String, row["url"] as String, entryID, change.jws, StoredTime.millis(now), StoredTime.millis(now)])
        }
        return .applied
    }

    // MARK: Regulators' endpoints and pushes

    /// Registers (or replaces, or with nil removes) a regulator's push endpoint.
    public func setRegulatorEndpoint(_ regulator: String, url: String?, now: Date) async throws {
        try await database.write { db in
            if let url {
                try await db.execute(
                    sql: """
                        INSERT INTO regulator_endpoints (regulator, url, updated_at) VALUES (?, ?, ?)
                        ON CONFLICT (regulator) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at
                        """, arguments: [regulator, url, StoredTime.millis(now)])
            } else {
                try await db.execute(sql: "DELETE FROM regulator_endpoints WHERE regulator = ?", arguments: [regulator])
            }
        }
    }

    public func regulatorEndpoints() async throws -> [String: String] {
        try await database.read { db in
            var result: [String: String] = [:]
            for row in try await SQLRow.fetchAll(db, sql: "SELECT regulator, url FROM regulator_endpoints") { result[row["regulator"]] = row["url"] }
            return result
        }
    }

    public func dueRegulatorPushes(now: Date, limit: Int = 100) async throws -> [RegulatorPushRecord] {
        try await due("regulator_pushes", now: now, limit: limit).map(Self.pushRecord)
    }

    /// A regulator's pushes (or all), newest first.
    public func regulatorPushes(regulator: String?, limit: Int = 200) async throws -> [RegulatorPushRecord] {
        try await database.read { db in
            if let regulator {
                return try await SQLRow.fetchAll(
                    db, sql: "SELECT * FROM regulator_pushes WHERE regulator = ? ORDER BY id DESC LIMIT \(limit)", arguments: [regulator]
                ).map(Self.pushRecord)
            }
            return try await SQLRow.fetchAll(db, sql: "SELECT * FROM regulator_pushes ORDER BY id DESC LIMIT \(limit)").map(Self.pushRecord)
        }
    }

    public func recordRegulatorPush(_ id: Int64, status: Int?, error: String?, delivered: Bool, nextAttemptAt: Date, now: Date) async throws {
        try await recordAttempt("regulator_pushes", id: id, status: status, error: error, delivered: delivered, nextAttemptAt: nextAttemptAt, now: now)
    }

    static func pushRecord(_ row: SQLRow) throws -> RegulatorPushRecord {
        RegulatorPushRecord(
            id: row["id"], regulator: row["regulator"], url: row["url"], statementID: row["statement_id"], body: row["body"],
            createdAt: StoredTime.date(row["created_at"] as Int64), attempts: Int(row["attempts"] as Int64),
            nextAttemptAt: StoredTime.date(row["next_attempt_at"] as Int64), deliveredAt: StoredTime.date(row["delivered_at"] as Int64?),
            lastStatus: (row["last_status"] as Int64?).map(Int.init), lastError: row["last_error"])
    }
}
