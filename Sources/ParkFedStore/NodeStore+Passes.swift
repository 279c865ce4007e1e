import Foundation
import GRDB
import ParkFedDomain

/// A device of the park's network allowed to use the node agent's local API.
public struct DeviceRecord: Sendable, Hashable {
    public enum Role: String, Sendable, CaseIterable, Codable {
        /// Scans codes at a turnstile.
        case gate
        /// A ticket window: sells, refunds, transfers.
        case window
        /// A self-service kiosk or the park's online channel: sells.
        case kiosk
        /// The park operator's console: everything.
        case `operator`
        /// Monitoring (the park's Prometheus, a status screen): reads `/metrics` and `/v1/status`, nothing else.
        case monitor
    }
    public var id: String
    public var name: String
    public var role: Role
    public var revoked: Bool
}

/// A pass sold at this park, as its window sees it (the ID number itself is not kept: only its keyed digest).
public struct SoldPassRecord: Sendable, Hashable {
    public var passID: String
    public var product: String
    public var channel: String
    public var holderMasked: String
    public var idType: String
    public var idDigest: String
    public var idMasked: String
    public var priceMinor: Int64
    public var currency: String
    public var validFrom: CivilDay
    public var validUntil: CivilDay
    public var generation: Int
    public var code: String
    public var state: String

    public init(
        passID: String, product: String, channel: String, holderMasked: String, idType: String, idDigest: String, idMasked: String,
        priceMinor: Int64, currency: String, validFrom: CivilDay, validUntil: CivilDay, generation: Int, code: String, state: String
    ) {
        self.passID = passID
        self.product = product
        self.channel = channel
        self.holderMasked = holderMasked
        self.idType = idType
        self.idDigest = idDigest
        self.idMasked = idMasked
        self.priceMinor = priceMinor
        self.currency = currency
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.generation = generation
        self.code = code
        self.state = state
    }
}

/// What this node knows about a pass beyond its code: activation, the generation now required, refund.
public struct PassKnowledge: Sendable, Hashable {
    public var activatedOn: CivilDay?
    public var minimumGeneration: Int
    public var refunded: Bool

    public init(activatedOn: CivilDay? = nil, minimumGeneration: Int = 0, refunded: Bool = false) {
        self.activatedOn = activatedOn
        self.minimumGeneration = minimumGeneration
        self.refunded = refunded
    }
}

/// The local facts a gate decision reads, all inside the transaction that reserves the entry.
public struct GateFacts: Sendable {
    public var knowledge: PassKnowledge
    /// Entries of this pass already taken at this park (reserved or admitted).
    public var entriesHere: Int
    /// Heads that entered this park today and in this hour (all passes; a group counts its heads).
    public var today: Int
    public var thisHour: Int
    /// People counted leaving today (exit scans, counting gates): inside now is `today - exitsToday`.
    public var exitsToday: Int = 0
    /// For this park's own pre-printed stock: `printed`, `sold` or `void` (nil: not stock of this park).
    public var stockState: String?
}

/// A reserved or admitted entry.
public struct GateEntryRecord: Sendable {
    public var entryID: String
    public var passID: String
    public var gate: String
    public var day: CivilDay
    public var hour: Int
    public var enteredAt: Date
    public var jws: String
    /// The day this entry activates a first-use pass, if it does.
    public var activates: CivilDay?
    /// The heads this entry admits (a group's).
    public var heads: Int

    public init(
        entryID: String, passID: String, gate: String, day: CivilDay, hour: Int, enteredAt: Date, jws: String, activates: CivilDay? = nil,
        heads: Int = 1
    ) {
        self.activates = activates
        self.heads = heads
        self.entryID = entryID
        self.passID = passID
        self.gate = gate
        self.day = day
        self.hour = hour
        self.enteredAt = enteredAt
        self.jws = jws
    }
}

extension NodeStore {
    static func registerPassMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-passes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE devices (
                        id TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL,
                        token_hash TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    CREATE TABLE sold_passes (
                        pass_id TEXT PRIMARY KEY,
                        product TEXT NOT NULL,
                        channel TEXT NOT NULL,
                        holder_masked TEXT NOT NULL,
                        id_type TEXT NOT NULL,
                        id_digest TEXT NOT NULL,
                        id_masked TEXT NOT NULL,
                        price_minor INTEGER NOT NULL,
                        currency TEXT NOT NULL,
                        valid_from TEXT NOT NULL,
                        valid_until TEXT NOT NULL,
                        generation INTEGER NOT NULL,
                        code TEXT NOT NULL,
                        state TEXT NOT NULL,
                        sold_at INTEGER NOT NULL
                    );
                    CREATE TABLE gate_entries (
                        entry_id TEXT PRIMARY KEY,
                        pass_id TEXT NOT NULL,
                        gate TEXT NOT NULL,
                        day TEXT NOT NULL,
                        hour INTEGER NOT NULL,
                        entered_at INTEGER NOT NULL,
                        mode TEXT,
                        state TEXT NOT NULL CHECK (state IN ('reserved', 'admitted')),
                        jws TEXT NOT NULL
                    );
                    CREATE INDEX gate_entries_by_pass ON gate_entries(pass_id);
                    CREATE INDEX gate_entries_by_hour ON gate_entries(day, hour);
                    CREATE TABLE pass_knowledge (
                        pass_id TEXT PRIMARY KEY,
                        activated_on TEXT,
                        minimum_generation INTEGER NOT NULL DEFAULT 0,
                        refunded INTEGER NOT NULL DEFAULT 0
                    );
                    """)
        }
    }

    // MARK: Devices

    public func addDevice(id: String, name: String, role: DeviceRecord.Role, tokenHash: String, now: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO devices (id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, name, role.rawValue, tokenHash, StoredTime.millis(now)])
        }
    }

    public func device(tokenHash: String) async throws -> DeviceRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM devices WHERE token_hash = ?", arguments: [tokenHash]).map(Self.device)
        }
    }

    public func devices() async throws -> [DeviceRecord] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM devices ORDER BY created_at").map(Self.device) }
    }

    /// Revokes a device by id or name; returns whether one was found.
    public func revokeDevice(_ idOrName: String, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE devices SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL",
                arguments: [StoredTime.millis(now), idOrName, idOrName])
            return db.changesCount > 0
        }
    }

    static func device(_ row: Row) -> DeviceRecord {
        DeviceRecord(
            id: row["id"], name: row["name"], role: DeviceRecord.Role(rawValue: row["role"]) ?? .gate,
            revoked: (row["revoked_at"] as Int64?) != nil)
    }

    // MARK: Sales

    /// Records a sale and its `pass.issued` assertion in one transaction.
    public func recordSale(_ pass: SoldPassRecord, assertion: (id: String, type: String, jws: String), now: Date) async throws {
        try await pool.write { db in try Self.recordSale(pass, assertion: assertion, now: now, db) }
    }

    static func recordSale(_ pass: SoldPassRecord, assertion: (id: String, type: String, jws: String), now: Date, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO sold_passes (pass_id, product, channel, holder_masked, id_type, id_digest, id_masked, price_minor, currency,
                    valid_from, valid_until, generation, code, state, sold_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                pass.passID, pass.product, pass.channel, pass.holderMasked, pass.idType, pass.idDigest, pass.idMasked, pass.priceMinor,
                pass.currency, pass.validFrom.description, pass.validUntil.description, pass.generation, pass.code, pass.state,
                StoredTime.millis(now),
            ])
        try Self.enqueue(id: assertion.id, type: assertion.type, jws: assertion.jws, state: "pending", logIndex: nil, now: now, db)
    }

    /// The ids of the passes this park sold, newest first.
    public func soldPassIDs(limit: Int) async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "SELECT pass_id FROM sold_passes ORDER BY sold_at DESC, pass_id LIMIT ?", arguments: [limit]) }
    }

    public func soldPass(_ id: String) async throws -> SoldPassRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sold_passes WHERE pass_id = ?", arguments: [id]).map { row in
                SoldPassRecord(
                    passID: row["pass_id"], product: row["product"], channel: row["channel"], holderMasked: row["holder_masked"],
                    idType: row["id_type"], idDigest: row["id_digest"], idMasked: row["id_masked"], priceMinor: row["price_minor"],
                    currency: row["currency"], validFrom: try CivilDay(row["valid_from"] as String),
                    validUntil: try CivilDay(row["valid_until"] as String), generation: row["generation"], code: row["code"], state: row["state"])
            }
        }
    }

    /// After the hub accepted a refund or transfer: the sold pass's new state, what gates must now refuse, and the
    /// assertion (already in the hub's log at `logIndex`) for the audit.
    public func recordPassChange(
        _ pass: SoldPassRecord, knowledge: PassKnowledge, assertion: (id: String, type: String, jws: String),
        logIndex: UInt64, now: Date
    ) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE sold_passes SET holder_masked = ?, id_type = ?, id_digest = ?, id_masked = ?, generation = ?, code = ?, state = ? WHERE pass_id = ?
                    """, arguments: [pass.holderMasked, pass.idType, pass.idDigest, pass.idMasked, pass.generation, pass.code, pass.state, pass.passID])
            try Self.saveKnowledge(pass.passID, knowledge, db)
            try Self.enqueue(id: assertion.id, type: assertion.type, jws: assertion.jws, state: "accepted", logIndex: logIndex, now: now, db)
        }
    }

    // MARK: Gate

    public func knowledge(_ passID: String) async throws -> PassKnowledge {
        try await pool.read { db in try Self.knowledge(passID, db) }
    }

    static func knowledge(_ passID: String, _ db: Database) throws -> PassKnowledge {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM pass_knowledge WHERE pass_id = ?"), arguments: [passID]) else {
            return PassKnowledge()
        }
        return try knowledge(row)
    }

    /// Knowledge from a row's `activated_on`, `minimum_generation` and `refunded`.
    static func knowledge(_ row: Row) throws -> PassKnowledge {
        PassKnowledge(
            activatedOn: try (row["activated_on"] as String?).map { try CivilDay($0) },
            minimumGeneration: row["minimum_generation"], refunded: (row["refunded"] as Int64) == 1)
    }

    static func saveKnowledge(_ passID: String, _ knowledge: PassKnowledge, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO pass_knowledge (pass_id, activated_on, minimum_generation, refunded) VALUES (?, ?, ?, ?)
                ON CONFLICT(pass_id) DO UPDATE SET activated_on = COALESCE(pass_knowledge.activated_on, excluded.activated_on),
                    minimum_generation = MAX(pass_knowledge.minimum_generation, excluded.minimum_generation),
                    refunded = MAX(pass_knowledge.refunded, excluded.refunded)
                """
        ).execute(arguments: [passID, knowledge.activatedOn?.description, knowledge.minimumGeneration, knowledge.refunded ? 1 : 0])
    }

    /// Merges what the hub said about passes (revocations, activation) into local knowledge.
    public func learn(_ items: [(passID: String, knowledge: PassKnowledge)]) async throws {
        try await pool.write { db in for item in items { try Self.saveKnowledge(item.passID, item.knowledge, db) } }
    }

    /// Decides and reserves an entry in one write transaction: `decide` sees the local facts and either refuses
    /// (nothing is written) or returns the entry to reserve. SQLite serialises writers, so two gates of this park
    /// can never both take the last local entry of a pass. The entry's signed assertion (of `type`) goes into the
    /// outbox in the same transaction. `offline` (the hub is known to be down): the entry is admitted at once and
    /// its assertion waits to be sent. Online: the entry stays `reserved` while the hub is asked, and the outbox does
    /// not send an assertion whose entry is reserved; a reservation that outlives its request (the node stopped
    /// before the hub answered) is resolved from the hub's log later (``staleReservations(before:)``).
    public func reserveEntry<Refusal: Error>(
        passID: String, day: CivilDay, hour: Int, type: String, offline: Bool,
        decide: @escaping @Sendable (GateFacts) -> Result<GateEntryRecord, Refusal>
    ) async throws -> Result<GateEntryRecord, Refusal> {
        try await gateWriter.write { db in
            let result = decide(try Self.gateFacts(passID: passID, day: day.description, hour: hour, db))
            if case .success(let entry) = result {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO gate_entries (entry_id, pass_id, gate, day, hour, entered_at, state, mode, heads) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        entry.entryID, entry.passID, entry.gate, entry.day.description, entry.hour, StoredTime.millis(entry.enteredAt),
                        offline ? "admitted" : "reserved", offline ? "offline" : nil, entry.heads,
                    ])
                try Self.enqueue(id: entry.entryID, type: type, jws: entry.jws, state: "pending", logIndex: nil, now: entry.enteredAt, db)
                if offline, let activates = entry.activates { try Self.saveKnowledge(passID, PassKnowledge(activatedOn: activates), db) }
            }
            return result
        }
    }

    /// What a gate decides an entry on, read in one statement (five lookups: the day's heads and this hour's, the
    /// day's exits, the pass's entries here, its knowledge and its stock state).
    static func gateFacts(passID: String, day: String, hour: Int, _ db: Database) throws -> GateFacts {
        // One row always: the pass's knowledge is left-joined to a constant row.
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT (SELECT COALESCE(SUM(heads), 0) FROM gate_heads WHERE day = ?1) AS today,
                            (SELECT COALESCE(SUM(heads), 0) FROM gate_heads WHERE day = ?1 AND hour = ?2) AS this_hour,
                            (SELECT COALESCE(SUM(count), 0) FROM gate_exits WHERE day = ?1) AS exits,
                            (SELECT COUNT(*) FROM gate_entries WHERE pass_id = ?3) AS entries_here,
                            (SELECT state FROM stock_codes WHERE pass_id = ?3) AS stock_state,
                            k.activated_on, COALESCE(k.minimum_generation, 0) AS minimum_generation, COALESCE(k.refunded, 0) AS refunded
                        FROM (SELECT 1) LEFT JOIN pass_knowledge k ON k.pass_id = ?3
                        """), arguments: [day, hour, passID])
        else { throw StoreError(.database, "the gate's facts query returned no row") }
        return GateFacts(
            knowledge: try knowledge(row), entriesHere: row["entries_here"], today: row["today"], thisHour: row["this_hour"], exitsToday: row["exits"],
            stockState: row["stock_state"])
    }

    /// The hub admitted the entry: it is counted, logged at `logIndex` (kept for the audit), and the pass activated.
    /// Its assertion, in the outbox since the reservation, is accepted at that index; a hub that gave no index is
    /// asked again (the assertion stays pending and is sent).
    public func admitOnline(_ entryID: String, logIndex: UInt64?, passID: String, activatedOn: CivilDay?) async throws {
        try await gateWriter.write { db in
            try db.cachedStatement(sql: "UPDATE gate_entries SET state = 'admitted', mode = 'online' WHERE entry_id = ?").execute(arguments: [entryID])
            if let activatedOn { try Self.saveKnowledge(passID, PassKnowledge(activatedOn: activatedOn), db) }
            if let logIndex {
                try db.cachedStatement(sql: "UPDATE outbox SET state = 'accepted', log_index = ? WHERE id = ? AND state = 'pending'").execute(
                    arguments: [Int64(logIndex), entryID])
            }
        }
    }

    /// The hub was unreachable: the entry stands on local state, and its assertion (queued with the reservation) is
    /// sent from the outbox now that the entry is no longer reserved.
    public func admitOffline(_ entryID: String, passID: String, activatedOn: CivilDay?) async throws {
        try await gateWriter.write { db in
            try db.cachedStatement(sql: "UPDATE gate_entries SET state = 'admitted', mode = 'offline' WHERE entry_id = ?").execute(arguments: [entryID])
            if let activatedOn { try Self.saveKnowledge(passID, PassKnowledge(activatedOn: activatedOn), db) }
        }
    }

    /// The hub refused (or never logged) the entry: the reservation and its queued assertion are dropped (and what
    /// the hub's reason teaches is kept).
    public func releaseEntry(_ entryID: String, passID: String, learned: PassKnowledge?) async throws {
        try await gateWriter.write { db in
            try db.cachedStatement(sql: "DELETE FROM gate_entries WHERE entry_id = ? AND state = 'reserved'").execute(arguments: [entryID])
            if db.changesCount > 0 {
                try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ? AND state = 'pending'").execute(arguments: [entryID])
            }
            if let learned { try Self.saveKnowledge(passID, learned, db) }
        }
    }

    /// Online reservations made before `before` that are still reserved, with their day and queued assertions: their
    /// request ended without an answer being recorded (the node stopped while the hub was asked).
    public func staleReservations(before: Date, limit: Int = 100) async throws -> [(entryID: String, passID: String, day: CivilDay, jws: String)] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT g.entry_id, g.pass_id, g.day, o.jws FROM gate_entries g JOIN outbox o ON o.id = g.entry_id
                    WHERE g.state = 'reserved' AND g.entered_at < ? ORDER BY g.entered_at LIMIT ?
                    """, arguments: [StoredTime.millis(before), limit]
            ).map { ($0["entry_id"], $0["pass_id"], try CivilDay($0["day"] as String), $0["jws"]) }
        }
    }

    /// Entries at this park's gates by mode, and of today.
    public func gateCounts(day: CivilDay) async throws -> (online: Int, offline: Int, today: Int) {
        try await pool.read { db in
            let online = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM gate_entries WHERE mode = 'online'") ?? 0
            let offline = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM gate_entries WHERE mode = 'offline'") ?? 0
            let today = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM gate_entries WHERE day = ?", arguments: [day.description]) ?? 0
            return (online, offline, today)
        }
    }
}
