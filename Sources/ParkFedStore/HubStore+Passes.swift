import Foundation
import ParkFedDomain

/// What the facts of a verified pass code say (the issuer's signature has been checked by the hub).
public struct PassCodeFacts: Sendable, Hashable {
    public var passID: String
    public var issuer: ParkID
    public var validFrom: CivilDay
    public var validUntil: CivilDay
    public var generation: Int
    /// The ticket category (nil: full), heads, time slot, and whether the code is pre-printed stock.
    public var category: String?
    public var heads: Int
    public var slot: String?
    public var stock: Bool

    public init(
        passID: String, issuer: ParkID, validFrom: CivilDay, validUntil: CivilDay, generation: Int, category: String? = nil, heads: Int = 1,
        slot: String? = nil, stock: Bool = false
    ) {
        self.category = category
        self.heads = heads
        self.slot = slot
        self.stock = stock
        self.passID = passID
        self.issuer = issuer
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.generation = generation
    }
}

extension PassCodeFacts {
    /// The facts a sale fixes, under `product` (the pass's product id).
    func fixed(product: String) -> PassChanges.Facts {
        PassChanges.Facts(
            issuer: issuer, product: product, validFrom: validFrom, validUntil: validUntil, category: category, heads: heads, slot: slot, stock: stock)
    }
}

/// A pass holder's real-name data as the hub keeps it: name and document number encrypted with the field key ring
/// (key id inside each value), a keyed blind index of the document for exact lookups, and the masked forms.
public struct ProtectedHolder: Sendable, Hashable {
    public var idType: String
    public var idIndex: String
    public var idSealed: String
    public var nameSealed: String
    public var idMasked: String
    public var nameMasked: String

    public init(idType: String, idIndex: String, idSealed: String, nameSealed: String, idMasked: String, nameMasked: String) {
        self.idType = idType
        self.idIndex = idIndex
        self.idSealed = idSealed
        self.nameSealed = nameSealed
        self.idMasked = idMasked
        self.nameMasked = nameMasked
    }
}

/// How strictly a gate entry applies. `decide`: the gate waits for the answer and a refusal rolls the whole
/// transaction back, so nothing is logged. `record`: the entry already happened (offline, delivered later), so it is
/// logged whatever the pass state, and a rule it breaks is kept as a conflict. Sales, refunds and transfers have no
/// mode: the same rule (``PassChanges``) decides them on every path.
public enum AssertionEffectMode: Sendable, Hashable { case decide, record }

/// What an accepted assertion does to the hub's pass state, applied in the transaction that logs it.
public enum AssertionEffect: Sendable, Hashable {
    /// A sale; `product` is the pass's variant (category and heads). Refused (``AssertionEffectResult/refused(_:)``)
    /// as ``PassChanges/sale(_:known:product:slotHeadsSold:)`` says, e.g. when its slot's heads would pass capacity.
    /// `dailyLimits`: on the deciding path, the daily capacities of the product's parks the sale must fit
    /// (``CapacityWatch``; `sold_out` when one is full); empty when the sale already happened (an offline sale
    /// delivered later is kept, and the gates still hold the day's entries to the capacity).
    case issued(
        facts: PassCodeFacts, product: ComboProduct, priceMinor: Int64, holderMasked: String?, holder: ProtectedHolder?,
        dailyLimits: [DailyLimit] = [])
    /// `facts` is nil when the scanned code itself did not verify (`codeProblem` says why). `minute`: after local
    /// midnight, for timed passes.
    case entry(
        park: ParkID, enteredAt: Date, day: CivilDay, minute: Int, facts: PassCodeFacts?, codeProblem: PassRefusal?, product: ComboProduct?,
        mode: AssertionEffectMode)
    /// `validFrom`: the pass's first valid day, as read when the effect was made (the day whose places it frees).
    case refund(passID: String, issuer: ParkID, amountMinor: Int64, product: ComboProduct, validFrom: CivilDay)
    case transfer(
        passID: String, issuer: ParkID, generation: Int, resalePriceMinor: Int64, feeMinor: Int64, product: ComboProduct,
        holder: ProtectedHolder?, reissue: Bool)
    /// A park's signed claim of an obligation the hub already recorded (a card spend it authorised): the
    /// obligation now names the assertion it came from.
    case linkObligation(reason: String, toPark: ParkID, reference: String)
    /// A hub statement of an answered regulator query: the audit row that names its log index.
    case regulatorQuery(principal: String, query: String, records: Int)
    /// A hub statement of a clearing step (``ClearingEffect``), applied with it.
    case clearing(ClearingEffect)
    /// People a park's gate counted leaving (`gate.exits`), for occupancy.
    case exits(park: ParkID, day: CivilDay, count: Int, at: Date)
    /// A hub statement that a park's capacity level changed, applied with it (compare-and-set).
    case capacityLevel(CapacityLevelChange)
    /// A hub statement of a retention step: real-name data removed, assertions that carried it emptied.
    case retention(RetentionChange)
}

/// The outcome of a pass effect.
public enum AssertionEffectResult: Sendable, Hashable {
    case admitted(ComboPass.Admission)
    case conflict(PassRefusal)
    case applied
    /// A sale, refund or transfer the pass rules refuse (``PassChanges``): nothing was written, and the assertion
    /// is not appended to the log.
    case refused(PassChangeRefusal)
}

/// A refusal the deciding endpoints answer with its `reason`: a sale, refund or transfer ``PassChanges`` refused,
/// or a gate entry refused in `decide` mode (its transaction rolled back). One type for both.
public typealias PassDenied = PassChangeRefusal

/// A pass as the hub stores it.
public struct PassRecord: Sendable, Hashable {
    public var id: String
    public var issuer: ParkID
    public var product: String
    public var validFrom: CivilDay
    public var validUntil: CivilDay
    public var generation: Int
    public var refundedMinor: Int64?
    public var activatedOn: CivilDay?
    public var entries: [ParkID: Int]
    public var category: String?
    public var heads: Int
    public var slot: String?
    /// Pre-printed stock, and whether its sale (`pass.issued`) has reached the hub.
    public var stock: Bool
    public var issued: Bool
    /// What the sale named as the price (a reseller's sale: the net it owes); nil until sold.
    public var priceMinor: Int64? = nil

    /// What the sale rule needs to know of the stored pass.
    public var known: PassChanges.Known {
        PassChanges.Known(
            facts: PassChanges.Facts(
                issuer: issuer, product: product, validFrom: validFrom, validUntil: validUntil, category: category,
                heads: heads, slot: slot, stock: stock), sold: issued)
    }

    /// The pass's state under its product (its variant), for the admission and refund rules.
    public func state(_ product: ComboProduct) -> ComboPass {
        ComboPass(
            id: id, product: product, issuer: issuer, validFrom: validFrom, validUntil: validUntil, generation: generation,
            refunded: refundedMinor != nil, activatedOn: activatedOn, entries: entries, slot: slot)
    }
}

/// A conflicting entry as stored.
public struct PassConflictRecord: Sendable, Hashable {
    public var entryID: String
    public var passID: String
    public var park: String
    public var issuer: String
    public var reason: String
    public var enteredAt: Date
    public var logIndex: UInt64
}

extension HubStore {
    static func registerPassMigrations(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v5-passes") { db in
            try await db.schema(
                sqlite: """
                    CREATE TABLE products (id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at INTEGER NOT NULL);
                    CREATE TABLE passes (
                        id TEXT PRIMARY KEY,
                        issuer TEXT NOT NULL,
                        product TEXT NOT NULL,
                        valid_from TEXT NOT NULL,
                        valid_until TEXT NOT NULL,
                        generation INTEGER NOT NULL DEFAULT 0,
                        refunded_minor INTEGER,
                        activated_on TEXT,
                        price_minor INTEGER,
                        holder_masked TEXT,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE pass_entries (
                        entry_id TEXT PRIMARY KEY,
                        pass_id TEXT NOT NULL,
                        park TEXT NOT NULL,
                        issuer TEXT NOT NULL,
                        day TEXT NOT NULL,
                        entered_at INTEGER NOT NULL,
                        mode TEXT NOT NULL CHECK (mode IN ('decide', 'record')),
                        counted INTEGER NOT NULL,
                        conflict TEXT,
                        log_index INTEGER NOT NULL
                    );
                    CREATE INDEX pass_entries_by_pass ON pass_entries(pass_id, counted);
                    CREATE INDEX pass_entries_conflicts ON pass_entries(log_index) WHERE conflict IS NOT NULL;
                    CREATE TABLE pass_revocations (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        pass_id TEXT NOT NULL,
                        minimum_generation INTEGER NOT NULL,
                        refunded INTEGER NOT NULL,
                        at INTEGER NOT NULL
                    );
                    ALTER TABLE obligations ADD COLUMN assertion_id TEXT;
                    """,
                postgres: """
                    CREATE TABLE products (id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at BIGINT NOT NULL);
                    CREATE TABLE passes (
                        id TEXT PRIMARY KEY,
                        issuer TEXT NOT NULL,
                        product TEXT NOT NULL,
                        valid_from TEXT NOT NULL,
                        valid_until TEXT NOT NULL,
                        generation BIGINT NOT NULL DEFAULT 0,
                        refunded_minor BIGINT,
                        activated_on TEXT,
                        price_minor BIGINT,
                        holder_masked TEXT,
                        created_at BIGINT NOT NULL
                    );
                    CREATE TABLE pass_entries (
                        entry_id TEXT PRIMARY KEY,
                        pass_id TEXT NOT NULL,
                        park TEXT NOT NULL,
                        issuer TEXT NOT NULL,
                        day TEXT NOT NULL,
                        entered_at BIGINT NOT NULL,
                        mode TEXT NOT NULL CHECK (mode IN ('decide', 'record')),
                        counted BIGINT NOT NULL,
                        conflict TEXT,
                        log_index BIGINT NOT NULL
                    );
                    CREATE INDEX pass_entries_by_pass ON pass_entries(pass_id, counted);
                    CREATE INDEX pass_entries_conflicts ON pass_entries(log_index) WHERE conflict IS NOT NULL;
                    CREATE TABLE pass_revocations (
                        seq BIGSERIAL PRIMARY KEY,
                        pass_id TEXT NOT NULL,
                        minimum_generation BIGINT NOT NULL,
                        refunded BIGINT NOT NULL,
                        at BIGINT NOT NULL
                    );
                    ALTER TABLE obligations ADD COLUMN assertion_id TEXT;
                    """)
        }
        migrator.registerMigration("v6-pass-holders") { db in
            try await db.schema(
                sqlite: """
                    CREATE TABLE pass_holders (
                        pass_id TEXT NOT NULL,
                        generation INTEGER NOT NULL,
                        issuer TEXT NOT NULL,
                        id_type TEXT NOT NULL,
                        id_index TEXT NOT NULL,
                        id_sealed TEXT NOT NULL,
                        name_sealed TEXT NOT NULL,
                        id_masked TEXT NOT NULL,
                        name_masked TEXT NOT NULL,
                        recorded_at INTEGER NOT NULL,
                        PRIMARY KEY (pass_id, generation)
                    );
                    CREATE INDEX pass_holders_by_document ON pass_holders(id_index);
                    """,
                postgres: """
                    CREATE TABLE pass_holders (
                        pass_id TEXT NOT NULL,
                        generation BIGINT NOT NULL,
                        issuer TEXT NOT NULL,
                        id_type TEXT NOT NULL,
                        id_index TEXT NOT NULL,
                        id_sealed TEXT NOT NULL,
                        name_sealed TEXT NOT NULL,
                        id_masked TEXT NOT NULL,
                        name_masked TEXT NOT NULL,
                        recorded_at BIGINT NOT NULL,
                        PRIMARY KEY (pass_id, generation)
                    );
                    CREATE INDEX pass_holders_by_document ON pass_holders(id_index);
                    """)
        }
    }

    /// Ticket categories, groups, time slots and pre-printed stock (#8): registered after every earlier migration.
    static func registerPassVariantMigrations(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v13-pass-variants") { db in
            try await db.schema(
                sqlite: """
                    ALTER TABLE passes ADD COLUMN category TEXT;
                    ALTER TABLE passes ADD COLUMN heads INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE passes ADD COLUMN slot TEXT;
                    ALTER TABLE passes ADD COLUMN stock INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX passes_by_slot ON passes(product, valid_from, slot) WHERE slot IS NOT NULL;
                    ALTER TABLE pass_entries ADD COLUMN heads INTEGER NOT NULL DEFAULT 1;
                    """,
                postgres: """
                    ALTER TABLE passes ADD COLUMN category TEXT;
                    ALTER TABLE passes ADD COLUMN heads BIGINT NOT NULL DEFAULT 1;
                    ALTER TABLE passes ADD COLUMN slot TEXT;
                    ALTER TABLE passes ADD COLUMN stock BIGINT NOT NULL DEFAULT 0;
                    CREATE INDEX passes_by_slot ON passes(product, valid_from, slot) WHERE slot IS NOT NULL;
                    ALTER TABLE pass_entries ADD COLUMN heads BIGINT NOT NULL DEFAULT 1;
                    """)
        }
    }

    // MARK: Products

    public func upsertProduct(id: String, body: String, now: Date) async throws {
        try await database.write { db in
            try await db.execute(
                sql: """
                    INSERT INTO products (id, body, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at
                    """, arguments: [id, body, StoredTime.millis(now)])
        }
    }

    /// Every product's stored JSON, by id.
    public func productBodies() async throws -> [String] {
        try await database.read { db in try await String.fetchAll(db, sql: "SELECT body FROM products ORDER BY id") }
    }

    // MARK: Reading passes

    public func pass(_ id: String) async throws -> PassRecord? {
        try await database.read { db in try await Self.pass(id, db) }
    }

    static func pass(_ id: String, _ db: any SQLConnection) async throws -> PassRecord? {
        guard let row = try await SQLRow.fetchOne(db, sql: "SELECT * FROM passes WHERE id = ?", arguments: [id]) else { return nil }
        var entries: [ParkID: Int] = [:]
        for entry in try await SQLRow.fetchAll(
            db, sql: "SELECT park, COUNT(*) AS n FROM pass_entries WHERE pass_id = ? AND counted = 1 GROUP BY park", arguments: [id])
        {
            entries[try ParkID(entry["park"] as String)] = entry["n"]
        }
        return try record(row, entries: entries)
    }

    /// The passes of `ids` that exist, by id, read in one snapshot (500 ids a query): a batch's refunds and
    /// transfers are priced from one read instead of one each.
    public func passes(ids: some Collection<String>) async throws -> [String: PassRecord] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read { db in try await Self.passes(ids: ids, db) }
    }

    /// The same inside a transaction (the passes awaiting allocation are read so too).
    static func passes(ids: some Collection<String>, _ db: any SQLConnection) async throws -> [String: PassRecord] {
        var rows: [String: SQLRow] = [:]
        var entries: [String: [ParkID: Int]] = [:]
        try await db.forEachChunk(of: Array(Set(ids))) { chunk, marks in
            for row in try await SQLRow.fetchAll(db, sql: "SELECT * FROM passes WHERE id IN (\(marks))", arguments: SQLArguments(chunk)) {
                rows[row["id"]] = row
            }
            for entry in try await SQLRow.fetchAll(
                db,
                sql: "SELECT pass_id, park, COUNT(*) AS n FROM pass_entries WHERE pass_id IN (\(marks)) AND counted = 1 GROUP BY pass_id, park",
                arguments: SQLArguments(chunk))
            {
                entries[entry["pass_id"], default: [:]][try ParkID(entry["park"] as String)] = entry["n"]
            }
        }
        return try rows.reduce(into: [:]) { found, item in found[item.key] = try Self.record(item.value, entries: entries[item.key] ?? [:]) }
    }

    /// A `passes` row with the pass's counted entries by park.
    static func record(_ row: SQLRow, entries: [ParkID: Int]) throws -> PassRecord {
        let id: String = row["id"]
        return PassRecord(
            id: id, issuer: try ParkID(row["issuer"] as String), product: row["product"], validFrom: try CivilDay(row["valid_from"] as String),
            validUntil: try CivilDay(row["valid_until"] as String), generation: row["generation"], refundedMinor: row["refunded_minor"],
            activatedOn: try (row["activated_on"] as String?).map { try CivilDay($0) }, entries: entries, category: row["category"],
            heads: row["heads"], slot: row["slot"], stock: (row["stock"] as Int64) == 1, issued: (row["price_minor"] as Int64?) != nil,
            priceMinor: row["price_minor"])
    }

    /// How an entry already recorded was decided (for an idempotent answer to a retried gate request).
    public func passEntry(_ entryID: String) async throws -> (passID: String, counted: Bool, conflict: String?)? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT pass_id, counted, conflict FROM pass_entries WHERE entry_id = ?", arguments: [entryID]).map {
                ($0["pass_id"], ($0["counted"] as Int64) == 1, $0["conflict"])
            }
        }
    }

    /// Revocations after `seq`, oldest first.
    public func passRevocations(after seq: Int64, limit: Int) async throws -> [(seq: Int64, passID: String, minimumGeneration: Int, refunded: Bool)] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT * FROM pass_revocations WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit]).map {
                ($0["seq"], $0["pass_id"], $0["minimum_generation"], ($0["refunded"] as Int64) == 1)
            }
        }
    }

    /// Conflicting entries, newest first; for one park, those at its gates or of passes it issued.
    public func passConflicts(park: ParkID?, limit: Int) async throws -> [PassConflictRecord] {
        try await database.read { db in
            let rows: [SQLRow]
            if let park {
                rows = try await SQLRow.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM pass_entries WHERE conflict IS NOT NULL AND log_index IS NOT NULL AND (park = ? OR issuer = ?) ORDER BY log_index DESC LIMIT ?
                        """, arguments: [park.rawValue, park.rawValue, limit])
            } else {
                rows = try await SQLRow.fetchAll(
                    db, sql: "SELECT * FROM pass_entries WHERE conflict IS NOT NULL AND log_index IS NOT NULL ORDER BY log_index DESC LIMIT ?",
                    arguments: [limit])
            }
            return rows.map {
                PassConflictRecord(
                    entryID: $0["entry_id"], passID: $0["pass_id"], park: $0["park"], issuer: $0["issuer"], reason: $0["conflict"],
                    enteredAt: StoredTime.date($0["entered_at"] as Int64), logIndex: UInt64($0["log_index"] as Int64))
            }
        }
    }

    // MARK: Applying effects (inside the log's append transaction)

    static func apply(_ effect: AssertionEffect, entryID: String, logIndex: UInt64?, now: Date, day: CivilDay, feeBasisPoints: Int64, _ db: any SQLConnection)
        async throws -> AssertionEffectResult
    {
        switch effect {
        case .issued(let facts, let product, let price, let holder, let protected, let dailyLimits):
            // Decided first (the same rule on the deciding and the record path), written only when accepted.
            let existing = try await Self.pass(facts.passID, db)
            var slotSold: Int?
            if let slot = facts.slot {
                // Sold and held by resellers' bookings not yet expired (this pass's own hold aside).
                slotSold = try await slotHeads(product: product.id, day: facts.validFrom, slot: slot, now: now, excludingPass: facts.passID, db)
            }
            let sale = PassChanges.Sale(passID: facts.passID, facts: facts.fixed(product: product.id), priceMinor: price, hasHolder: holder != nil)
            if case .failure(let refusal) = PassChanges.sale(sale, known: existing.map(\.known), product: product, slotHeadsSold: slotSold) {
                return .refused(refusal)
            }
            if let (limit, used) = try await overfull(dailyLimits, heads: facts.heads, day: facts.validFrom, now: now, excludingPass: facts.passID, db) {
                return .refused(
                    PassChangeRefusal(
                        "sold_out",
                        "\(limit.park) has \(max(0, limit.capacity - used)) of its \(limit.capacity) places of \(facts.validFrom) left: sales of that day stopped"
                    ))
            }
            if let protected { try await insertHolder(protected, passID: facts.passID, generation: 0, issuer: facts.issuer, at: now, db) }
            if existing == nil {
                try await db.execute(
                    sql: """
                        INSERT INTO passes (id, issuer, product, valid_from, valid_until, generation, price_minor, holder_masked, created_at, category, heads, slot, stock)
                        VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        facts.passID, facts.issuer.rawValue, product.id, facts.validFrom.description, facts.validUntil.description,
                        price, holder, StoredTime.millis(now), facts.category, facts.heads, facts.slot, facts.stock ? 1 : 0,
                    ])
            } else {
                // A pass an earlier entry made known (same issuer and facts, not yet sold): its sale fills in price and holder.
                try await db.execute(
                    sql: "UPDATE passes SET price_minor = ?, holder_masked = ? WHERE id = ? AND price_minor IS NULL",
                    arguments: [price, holder, facts.passID])
            }
            return .applied

        case .entry(let park, let enteredAt, let day, let minute, let facts, let codeProblem, let product, let mode):
            // Decided before anything is written. A refusal on the deciding path is an outcome, never a throw: the
            // entry is grouped in one transaction with other requests' appends, and a throw would fail them all.
            var stored: PassRecord?
            if let facts { stored = try await Self.pass(facts.passID, db) }
            func keep(_ refusal: PassRefusal, passID: String, issuer: String) async throws -> AssertionEffectResult {
                if mode == .decide { return .refused(PassDenied(refusal.rawValue, "the hub refuses the entry: \(refusal.rawValue)")) }
                try await remember()
                try await insertEntry(
                    entryID, passID: passID, park: park.rawValue, issuer: issuer, day: day, at: enteredAt, mode: mode,
                    counted: false, conflict: refusal.rawValue, heads: facts?.heads ?? 1, logIndex: logIndex, db)
                return .conflict(refusal)
            }
            /// A pass first seen at a gate becomes known with the entry that is written for it.
            func remember() async throws {
                guard stored == nil, let facts, let product else { return }
                try await db.execute(
                    sql: """
                        INSERT INTO passes (id, issuer, product, valid_from, valid_until, generation, created_at, category, heads, slot, stock)
                        VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        facts.passID, facts.issuer.rawValue, product.id, facts.validFrom.description, facts.validUntil.description,
                        StoredTime.millis(now), facts.category, facts.heads, facts.slot, facts.stock ? 1 : 0,
                    ])
            }
            guard let facts, let product else {
                return try await keep(codeProblem ?? .forged, passID: "unknown", issuer: "unknown")
            }
            let record =
                stored
                ?? PassRecord(
                    id: facts.passID, issuer: facts.issuer, product: product.id, validFrom: facts.validFrom, validUntil: facts.validUntil,
                    generation: 0, refundedMinor: nil, activatedOn: nil, entries: [:], category: facts.category, heads: facts.heads, slot: facts.slot,
                    stock: facts.stock, issued: false)
            guard record.issuer == facts.issuer, record.product == product.id, record.category == facts.category, record.heads == facts.heads,
                record.slot == facts.slot
            else {
                return try await keep(.forged, passID: facts.passID, issuer: facts.issuer.rawValue)
            }
            // Pre-printed stock counts only once its park's sale has reached the hub.
            if facts.stock, !record.issued { return try await keep(.notActivated, passID: record.id, issuer: record.issuer.rawValue) }
            let state = record.state(product)
            switch state.admission(at: park, on: day, minute: minute, generation: facts.generation) {
            case .failure(let refusal):
                return try await keep(refusal, passID: record.id, issuer: record.issuer.rawValue)
            case .success(let admission):
                try await remember()
                try await insertEntry(
                    entryID, passID: record.id, park: park.rawValue, issuer: record.issuer.rawValue, day: day, at: enteredAt, mode: mode,
                    counted: true, conflict: nil, heads: facts.heads, logIndex: logIndex, db)
                try await queueRedemptionWebhook(passID: record.id, entryID: entryID, now: now, db)
                if let activates = admission.activates {
                    try await db.execute(
                        sql: "UPDATE passes SET activated_on = ? WHERE id = ? AND activated_on IS NULL", arguments: [activates.description, record.id])
                }
                if let obligation = try product.redemptionObligation(issuer: record.issuer, at: park, reference: record.id) {
                    try await recordObligation(obligation, assertionID: entryID, at: now, day: day, feeBasisPoints: feeBasisPoints, db)
                }
                return .admitted(admission)
            }

        case .refund(let passID, let issuer, let amount, let product, _):
            guard let record = try await Self.pass(passID, db), record.issued, record.product == product.id else {
                return .refused(PassChangeRefusal("unknown_pass", "no sold pass \(passID) is known to the hub"))
            }
            if case .failure(let refusal) = PassChanges.refund(record.state(product), by: issuer, amountMinor: amount) { return .refused(refusal) }
            try await db.execute(sql: "UPDATE passes SET refunded_minor = ? WHERE id = ?", arguments: [amount, passID])
            try await db.execute(
                sql: "INSERT INTO pass_revocations (pass_id, minimum_generation, refunded, at) VALUES (?, ?, 1, ?)",
                arguments: [passID, record.generation, StoredTime.millis(now)])
            return .applied

        case .clearing(let step):
            return try await Self.apply(step, entryID: entryID, logIndex: try sequenced(logIndex), now: now, db)

        case .regulatorQuery(let principal, let query, let records):
            let logIndex = try sequenced(logIndex)
            try await db.execute(
                sql: "INSERT INTO regulator_queries (principal, query, records, at, entry_id, log_index) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [principal, query, records, StoredTime.millis(now), entryID, Int64(logIndex)])
            return .applied

        case .exits(let park, let day, let count, let at):
            try await insertExits(entryID, park: park, day: day, at: at, count: count, db)
            return .applied

        case .capacityLevel(let change):
            return try await Self.apply(change, entryID: entryID, logIndex: try sequenced(logIndex), now: now, db)

        case .retention(let change):
            return try await Self.apply(change, entryID: entryID, now: now, db)

        case .linkObligation(let reason, let park, let reference):
            try await db.execute(
                sql: """
                    UPDATE obligations SET assertion_id = ? WHERE reason = ? AND to_park = ? AND reference = ? AND assertion_id IS NULL
                    """, arguments: [entryID, reason, park.rawValue, reference])
            return .applied

        case .transfer(let passID, let issuer, let generation, let resale, let fee, let product, let protected, let reissue):
            guard let record = try await Self.pass(passID, db), record.issued, record.product == product.id else {
                return .refused(PassChangeRefusal("unknown_pass", "no sold pass \(passID) is known to the hub"))
            }
            var sameHolder: Bool?
            if reissue, let protected {
                let current = try await String.fetchOne(
                    db, sql: "SELECT id_index FROM pass_holders WHERE pass_id = ? AND generation = ?",
                    arguments: [passID, record.generation])
                sameHolder = current == protected.idIndex
            }
            let change = PassChanges.Transfer(generation: generation, resalePriceMinor: resale, feeMinor: fee, reissue: reissue, sameHolder: sameHolder)
            if case .failure(let refusal) = PassChanges.transfer(record.state(product), by: issuer, change) { return .refused(refusal) }
            try await db.execute(sql: "UPDATE passes SET generation = ? WHERE id = ?", arguments: [generation, passID])
            if let protected { try await insertHolder(protected, passID: passID, generation: generation, issuer: issuer, at: now, db) }
            try await db.execute(
                sql: "INSERT INTO pass_revocations (pass_id, minimum_generation, refunded, at) VALUES (?, ?, 0, ?)",
                arguments: [passID, generation, StoredTime.millis(now)])
            return .applied
        }
    }

    /// The index of an entry the sequencer appends itself (a hub statement's effect is never staged).
    static func sequenced(_ logIndex: UInt64?) throws -> UInt64 {
        guard let logIndex else { throw StoreError(.invalidState, "a hub statement's effect needs its log index: it is appended, never staged") }
        return logIndex
    }

    static func insertHolder(_ holder: ProtectedHolder, passID: String, generation: Int, issuer: ParkID, at: Date, _ db: any SQLConnection) async throws {
        try await db.execute(
            sql: """
                INSERT INTO pass_holders (pass_id, generation, issuer, id_type, id_index, id_sealed, name_sealed, id_masked, name_masked, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(pass_id, generation) DO NOTHING
                """,
            arguments: [
                passID, generation, issuer.rawValue, holder.idType, holder.idIndex, holder.idSealed, holder.nameSealed,
                holder.idMasked, holder.nameMasked, StoredTime.millis(at),
            ])
    }

    /// The passes held (at any generation) by the document with this blind index, with their holders' sealed data.
    public func passes(holderIndex: String) async throws -> [(passID: String, generation: Int, issuer: String, holder: ProtectedHolder, recordedAt: Date)] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT * FROM pass_holders WHERE id_index = ? ORDER BY recorded_at", arguments: [holderIndex]).map { row in
                (
                    row["pass_id"], row["generation"], row["issuer"],
                    ProtectedHolder(
                        idType: row["id_type"], idIndex: row["id_index"], idSealed: row["id_sealed"], nameSealed: row["name_sealed"],
                        idMasked: row["id_masked"], nameMasked: row["name_masked"]),
                    StoredTime.date(row["recorded_at"] as Int64)
                )
            }
        }
    }

    static func insertEntry(
        _ entryID: String, passID: String, park: String, issuer: String, day: CivilDay, at: Date, mode: AssertionEffectMode,
        counted: Bool, conflict: String?, heads: Int, logIndex: UInt64?, _ db: any SQLConnection
    ) async throws {
        try await db.execute(
            sql: """
                INSERT INTO pass_entries (entry_id, pass_id, park, issuer, day, entered_at, mode, counted, conflict, log_index, heads)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entryID, passID, park, issuer, day.description, StoredTime.millis(at), mode == .decide ? "decide" : "record",
                counted ? 1 : 0, conflict, logIndex.map { Int64($0) }, heads,
            ])
    }

}
