import Foundation
import ParkFedDomain

/// A reseller the operator admitted: its row in `parks` (kind `reseller`: a settlement participant whose signing
/// key the hub holds), its name, webhook address and rates (the manifest entry, JSON).
public struct ResellerRecord: Sendable, Hashable {
    public var id: ParkID
    public var name: String
    public var status: ParkRecord.Status
    public var webhookURL: String?
    /// The reseller's entry of `partners/resellers.json`, as imported (JSON).
    public var body: String
}

/// An API key of a reseller: shown once, stored as the SHA-256 of its secret, revocable.
public struct ResellerKeyRecord: Sendable, Hashable {
    public var keyID: String
    public var reseller: ParkID
    public var secretHash: String
    public var label: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(keyID: String, reseller: ParkID, secretHash: String, label: String, createdAt: Date, revokedAt: Date?) {
        self.keyID = keyID
        self.reseller = reseller
        self.secretHash = secretHash
        self.label = label
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// One unit item of an OCTO booking: one head of a category, its pass id chosen when the booking is held (so that its
/// places are held by that id; the items of a group category share one pass), its code once confirmed.
public struct OctoUnitRecord: Sendable, Hashable {
    public var uuid: String
    public var position: Int
    public var category: String
    public var passID: String
    public var heads: Int
    public var retailMinor: Int64
    public var netMinor: Int64
    public var resellerReference: String?
    /// The holder's masked name, once confirmed.
    public var holderMasked: String?
    /// The pass code, once confirmed.
    public var code: String?

    public init(
        uuid: String, position: Int, category: String, passID: String, heads: Int, retailMinor: Int64, netMinor: Int64, resellerReference: String?,
        holderMasked: String? = nil, code: String? = nil
    ) {
        self.uuid = uuid
        self.position = position
        self.category = category
        self.passID = passID
        self.heads = heads
        self.retailMinor = retailMinor
        self.netMinor = netMinor
        self.resellerReference = resellerReference
        self.holderMasked = holderMasked
        self.code = code
    }
}

/// An OCTO booking as the hub keeps it. `status` is what was decided (`held`, `confirmed`, `cancelled`); OCTO's
/// `EXPIRED` and `REDEEMED` are derived when it is read (a hold past its expiry; passes entered).
public struct OctoBookingRecord: Sendable, Hashable {
    public var uuid: String
    public var reseller: ParkID
    /// The supplier reference and OCTO `id`: short, for a visitor to read out at a window.
    public var reference: String
    public var product: String
    public var day: CivilDay
    public var slot: String?
    public var availabilityID: String
    public var status: String
    public var expiresAt: Date?
    public var resellerReference: String?
    public var notes: String?
    /// The booking contact as shown back (masked; JSON of OCTO's contact), never a document number.
    public var contact: String?
    public var currency: String
    /// The hub's address as the reseller reached it when booking: the visitor pages' links are made on it.
    public var baseURL: String
    public var createdAt: Date
    public var updatedAt: Date
    public var confirmedAt: Date?
    public var cancelledAt: Date?
    public var cancelReason: String?
    /// `FULL`, `PARTIAL` or `NONE`, once cancelled.
    public var refund: String?
    public var units: [OctoUnitRecord]

    public init(
        uuid: String, reseller: ParkID, reference: String, product: String, day: CivilDay, slot: String?, availabilityID: String, status: String,
        expiresAt: Date?, resellerReference: String?, notes: String?, contact: String?, currency: String, baseURL: String, createdAt: Date,
        units: [OctoUnitRecord]
    ) {
        self.uuid = uuid
        self.reseller = reseller
        self.reference = reference
        self.product = product
        self.day = day
        self.slot = slot
        self.availabilityID = availabilityID
        self.status = status
        self.expiresAt = expiresAt
        self.resellerReference = resellerReference
        self.notes = notes
        self.contact = contact
        self.currency = currency
        self.baseURL = baseURL
        self.createdAt = createdAt
        updatedAt = createdAt
        self.units = units
    }

    /// A hold past its expiry.
    public func expired(now: Date) -> Bool { status == "held" && (expiresAt.map { $0 <= now } ?? false) }
}

/// A webhook to a reseller: its event, the booking, its attempts and delivery.
public struct OctoWebhookRecord: Sendable, Hashable {
    public var id: String
    public var reseller: ParkID
    public var bookingUUID: String
    public var event: String
    public var createdAt: Date
    public var attempts: Int
    public var nextAttemptAt: Date
    public var deliveredAt: Date?
    public var lastStatus: Int?
    public var lastError: String?
}

extension HubStore {
    static func registerResellerMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v18-resellers") { db in
            let ddl = """
                ALTER TABLE parks ADD COLUMN kind TEXT NOT NULL DEFAULT 'park';
                CREATE TABLE resellers (
                    id TEXT PRIMARY KEY REFERENCES parks(id),
                    name TEXT NOT NULL,
                    webhook_url TEXT,
                    body TEXT NOT NULL,
                    updated_at BIGINT NOT NULL
                );
                CREATE TABLE reseller_keys (
                    key_id TEXT PRIMARY KEY,
                    reseller TEXT NOT NULL REFERENCES resellers(id),
                    secret_hash TEXT NOT NULL,
                    label TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    revoked_at BIGINT
                );
                CREATE TABLE octo_bookings (
                    uuid TEXT PRIMARY KEY,
                    reseller TEXT NOT NULL REFERENCES resellers(id),
                    reference TEXT NOT NULL UNIQUE,
                    product TEXT NOT NULL,
                    day TEXT NOT NULL,
                    slot TEXT,
                    availability_id TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled')),
                    expires_at BIGINT,
                    reseller_reference TEXT,
                    notes TEXT,
                    contact TEXT,
                    currency TEXT NOT NULL,
                    base_url TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    confirmed_at BIGINT,
                    cancelled_at BIGINT,
                    cancel_reason TEXT,
                    refund TEXT
                );
                CREATE INDEX octo_bookings_by_reseller ON octo_bookings(reseller, created_at);
                CREATE INDEX octo_bookings_held ON octo_bookings(product, day, slot) WHERE status = 'held';
                CREATE TABLE octo_units (
                    uuid TEXT PRIMARY KEY,
                    booking_uuid TEXT NOT NULL REFERENCES octo_bookings(uuid),
                    position BIGINT NOT NULL,
                    category TEXT NOT NULL,
                    pass_id TEXT NOT NULL,
                    heads BIGINT NOT NULL,
                    retail_minor BIGINT NOT NULL,
                    net_minor BIGINT NOT NULL,
                    reseller_reference TEXT,
                    holder_masked TEXT,
                    code TEXT
                );
                CREATE INDEX octo_units_by_booking ON octo_units(booking_uuid, position);
                CREATE INDEX octo_units_by_pass ON octo_units(pass_id);
                CREATE TABLE octo_webhooks (
                    id TEXT PRIMARY KEY,
                    reseller TEXT NOT NULL,
                    booking_uuid TEXT NOT NULL,
                    event TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    next_attempt_at BIGINT NOT NULL,
                    delivered_at BIGINT,
                    last_status BIGINT,
                    last_error TEXT
                );
                CREATE INDEX octo_webhooks_due ON octo_webhooks(next_attempt_at) WHERE delivered_at IS NULL;
                """
            try await db.schema(sqlite: ddl.replacingOccurrences(of: "BIGINT", with: "INTEGER"), postgres: ddl)
        }
    }

    // MARK: Resellers and their keys

    /// Admits (or updates) a reseller: its `parks` row of kind `reseller`, its signing key (held by the hub), its
    /// entry. Refused when a park has the id.
    public func admitReseller(id: ParkID, name: String, webhookURL: String?, body: String, key: (kid: String, publicKey: String), now: Date)
        async throws
    {
        try await database.write { db in
            let at = StoredTime.millis(now)
            if let existing = try await SQLRow.fetchOne(db, sql: "SELECT kind FROM parks WHERE id = ?", arguments: [id.rawValue]) {
                guard (existing["kind"] as String) == "reseller" else { throw StoreError(.invalidState, "\(id) is a park's id, not a reseller's") }
                try await db.execute(sql: "UPDATE parks SET name = ? WHERE id = ?", arguments: [name, id.rawValue])
            } else {
                try await db.execute(
                    sql: "INSERT INTO parks (id, name, status, created_at, kind) VALUES (?, ?, 'active', ?, 'reseller')", arguments: [id.rawValue, name, at])
            }
            if try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signing_keys WHERE kid = ?", arguments: [key.kid]) == 0 {
                try await db.execute(
                    sql: "INSERT INTO signing_keys (kid, park_id, public_key, not_before) VALUES (?, ?, ?, ?)",
                    arguments: [key.kid, id.rawValue, key.publicKey, at])
            }
            try await db.execute(
                sql: """
                    INSERT INTO resellers (id, name, webhook_url, body, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET name = excluded.name, webhook_url = excluded.webhook_url, body = excluded.body, updated_at = excluded.updated_at
                    """, arguments: [id.rawValue, name, webhookURL, body, at])
        }
    }

    public func resellers() async throws -> [ResellerRecord] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT r.*, p.status FROM resellers r JOIN parks p ON p.id = r.id ORDER BY r.id").map(Self.resellerRecord)
        }
    }

    public func reseller(_ id: ParkID) async throws -> ResellerRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT r.*, p.status FROM resellers r JOIN parks p ON p.id = r.id WHERE r.id = ?", arguments: [id.rawValue])
                .map(Self.resellerRecord)
        }
    }

    static func resellerRecord(_ row: SQLRow) throws -> ResellerRecord {
        guard let status = ParkRecord.Status(rawValue: row["status"]) else { throw StoreError(.corrupt, "bad reseller status") }
        return ResellerRecord(id: try ParkID(row["id"] as String), name: row["name"], status: status, webhookURL: row["webhook_url"], body: row["body"])
    }

    public func addResellerKey(_ key: ResellerKeyRecord) async throws {
        try await database.write { db in
            guard try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM resellers WHERE id = ?", arguments: [key.reseller.rawValue]) == 1 else {
                throw StoreError(.notFound, "no reseller \(key.reseller)")
            }
            try await db.execute(
                sql: "INSERT INTO reseller_keys (key_id, reseller, secret_hash, label, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [key.keyID, key.reseller.rawValue, key.secretHash, key.label, StoredTime.millis(key.createdAt)])
        }
    }

    public func resellerKey(_ keyID: String) async throws -> ResellerKeyRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT * FROM reseller_keys WHERE key_id = ?", arguments: [keyID]).map(Self.resellerKeyRecord)
        }
    }

    public func resellerKeys(_ reseller: ParkID?) async throws -> [ResellerKeyRecord] {
        try await database.read { db in
            if let reseller {
                return try await SQLRow.fetchAll(
                    db, sql: "SELECT * FROM reseller_keys WHERE reseller = ? ORDER BY created_at, key_id", arguments: [reseller.rawValue]
                ).map(Self.resellerKeyRecord)
            }
            return try await SQLRow.fetchAll(db, sql: "SELECT * FROM reseller_keys ORDER BY reseller, created_at, key_id").map(Self.resellerKeyRecord)
        }
    }

    /// Revokes a key at once; `false` when there is no such key.
    public func revokeResellerKey(_ keyID: String, now: Date) async throws -> Bool {
        try await database.write { db in
            try await db.execute(
                sql: "UPDATE reseller_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ?", arguments: [StoredTime.millis(now), keyID]) == 1
        }
    }

    static func resellerKeyRecord(_ row: SQLRow) throws -> ResellerKeyRecord {
        ResellerKeyRecord(
            keyID: row["key_id"], reseller: try ParkID(row["reseller"] as String), secretHash: row["secret_hash"], label: row["label"],
            createdAt: StoredTime.date(row["created_at"] as Int64), revokedAt: StoredTime.date(row["revoked_at"] as Int64?))
    }

    // MARK: Bookings

    /// What holding a booking came to: the booking (new, or the one its uuid already names), or the places left
    /// when its slot cannot take it.
    public enum HoldOutcome: Sendable, Hashable {
        case held(OctoBookingRecord)
        case existing(OctoBookingRecord)
        case full(placesLeft: Int)
    }

    /// Holds a booking's places and records it, in one transaction: when its uuid is already known, the booking it
    /// names is returned unchanged (the uuid is the idempotency key); when the product is timed (`slotCapacity`),
    /// the heads sold and held in the slot that day plus the booking's must stay within it, and so must the places
    /// of the day at each park with a daily capacity (`dailyLimits`).
    public func holdBooking(_ booking: OctoBookingRecord, slotCapacity: Int?, dailyLimits: [DailyLimit] = [], now: Date) async throws -> HoldOutcome {
        try await database.write { db in
            if let existing = try await Self.booking(booking.uuid, db) { return .existing(existing) }
            let heads = booking.units.reduce(0) { $0 + $1.heads }
            if let capacity = slotCapacity, let slot = booking.slot {
                let taken = try await Self.slotHeads(product: booking.product, day: booking.day, slot: slot, now: now, excludingPass: nil, db)
                guard taken + heads <= capacity else { return .full(placesLeft: max(0, capacity - taken)) }
            }
            // The parks' places of the day (stop-sale at the daily capacity), shared with every other channel.
            if let (limit, used) = try await Self.overfull(dailyLimits, heads: heads, day: booking.day, now: now, excludingPass: nil, db) {
                return .full(placesLeft: max(0, limit.capacity - used))
            }
            let at = StoredTime.millis(now)
            try await db.execute(
                sql: """
                    INSERT INTO octo_bookings (uuid, reseller, reference, product, day, slot, availability_id, status, expires_at, reseller_reference,
                        notes, contact, currency, base_url, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'held', ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    booking.uuid, booking.reseller.rawValue, booking.reference, booking.product, booking.day.description, booking.slot,
                    booking.availabilityID, booking.expiresAt.map(StoredTime.millis), booking.resellerReference, booking.notes, booking.contact,
                    booking.currency, booking.baseURL, at, at,
                ])
            for unit in booking.units {
                try await db.execute(
                    sql: """
                        INSERT INTO octo_units (uuid, booking_uuid, position, category, pass_id, heads, retail_minor, net_minor, reseller_reference)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        unit.uuid, booking.uuid, unit.position, unit.category, unit.passID, unit.heads, unit.retailMinor, unit.netMinor,
                        unit.resellerReference,
                    ])
            }
            return .held(try await Self.booking(booking.uuid, db)!)
        }
    }

    /// Heads sold into a slot of a product on a day (passes sold, not refunded) and held there by bookings whose
    /// hold has not expired (their passes not yet sold): what a sale or a hold must fit beside.
    static func slotHeads(product: String, day: CivilDay, slot: String, now: Date, excludingPass: String?, _ db: any SQLConnection) async throws -> Int {
        let sold =
            try await Int.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(heads), 0) FROM passes
                    WHERE product = ? AND valid_from = ? AND slot = ? AND price_minor IS NOT NULL AND refunded_minor IS NULL AND id != ?
                    """, arguments: [product, day.description, slot, excludingPass ?? ""]) ?? 0
        let held =
            try await Int.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(u.heads), 0) FROM octo_units u JOIN octo_bookings b ON b.uuid = u.booking_uuid
                    WHERE b.status = 'held' AND b.product = ? AND b.day = ? AND b.slot = ? AND b.expires_at > ? AND u.pass_id != ?
                        AND NOT EXISTS (SELECT 1 FROM passes p WHERE p.id = u.pass_id AND p.price_minor IS NOT NULL)
                    """, arguments: [product, day.description, slot, StoredTime.millis(now), excludingPass ?? ""]) ?? 0
        return sold + held
    }

    /// Heads sold and held per slot of a product on each of `days`, for availability.
    public func slotUsage(product: String, days: [CivilDay], slots: [String], now: Date) async throws -> [String: Int] {
        try await database.read { db in
            var usage: [String: Int] = [:]
            for day in days {
                for slot in slots {
                    usage["\(day) \(slot)"] = try await Self.slotHeads(product: product, day: day, slot: slot, now: now, excludingPass: nil, db)
                }
            }
            return usage
        }
    }

    public func booking(_ uuid: String) async throws -> OctoBookingRecord? {
        try await database.read { db in try await Self.booking(uuid, db) }
    }

    /// The booking that holds `passID`, if a reseller sold it.
    public func booking(holdingPass passID: String) async throws -> OctoBookingRecord? {
        try await database.read { db in
            guard let uuid = try await String.fetchOne(db, sql: "SELECT booking_uuid FROM octo_units WHERE pass_id = ? LIMIT 1", arguments: [passID])
            else {
                return nil
            }
            return try await Self.booking(uuid, db)
        }
    }

    /// A reseller's bookings, newest first, filtered by references, product and day.
    public func bookings(
        reseller: ParkID?, resellerReference: String? = nil, reference: String? = nil, product: String? = nil, days: ClosedRange<CivilDay>? = nil,
        limit: Int = 500
    ) async throws -> [OctoBookingRecord] {
        try await database.read { db in
            var clauses: [String] = []
            var arguments: [SQLValue] = []
            if let reseller {
                clauses.append("reseller = ?")
                arguments.append((reseller.rawValue).sqlValue)
            }
            if let resellerReference {
                clauses.append("reseller_reference = ?")
                arguments.append((resellerReference).sqlValue)
            }
            if let reference {
                clauses.append("reference = ?")
                arguments.append((reference).sqlValue)
            }
            if let product {
                clauses.append("product = ?")
                arguments.append((product).sqlValue)
            }
            if let days {
                clauses.append("day >= ? AND day <= ?")
                arguments.append((days.lowerBound.description).sqlValue)
                arguments.append((days.upperBound.description).sqlValue)
            }
            let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            let uuids = try await String.fetchAll(
                db, sql: "SELECT uuid FROM octo_bookings \(filter) ORDER BY created_at DESC, uuid LIMIT \(max(1, min(limit, 5000)))",
                arguments: SQLArguments(values: arguments))
            var result: [OctoBookingRecord] = []
            for uuid in uuids { if let booking = try await Self.booking(uuid, db) { result.append(booking) } }
            return result
        }
    }

    static func booking(_ uuid: String, _ db: any SQLConnection) async throws -> OctoBookingRecord? {
        guard let row = try await SQLRow.fetchOne(db, sql: "SELECT * FROM octo_bookings WHERE uuid = ?", arguments: [uuid]) else { return nil }
        let units = try await SQLRow.fetchAll(db, sql: "SELECT * FROM octo_units WHERE booking_uuid = ? ORDER BY position", arguments: [uuid]).map { unit in
            OctoUnitRecord(
                uuid: unit["uuid"], position: Int(unit["position"] as Int64), category: unit["category"], passID: unit["pass_id"],
                heads: Int(unit["heads"] as Int64), retailMinor: unit["retail_minor"], netMinor: unit["net_minor"],
                resellerReference: unit["reseller_reference"], holderMasked: unit["holder_masked"], code: unit["code"])
        }
        var booking = OctoBookingRecord(
            uuid: row["uuid"], reseller: try ParkID(row["reseller"] as String), reference: row["reference"], product: row["product"],
            day: try CivilDay(row["day"] as String), slot: row["slot"], availabilityID: row["availability_id"], status: row["status"],
            expiresAt: StoredTime.date(row["expires_at"] as Int64?), resellerReference: row["reseller_reference"], notes: row["notes"],
            contact: row["contact"], currency: row["currency"], baseURL: row["base_url"], createdAt: StoredTime.date(row["created_at"] as Int64), units: units)
        booking.updatedAt = StoredTime.date(row["updated_at"] as Int64)
        booking.confirmedAt = StoredTime.date(row["confirmed_at"] as Int64?)
        booking.cancelledAt = StoredTime.date(row["cancelled_at"] as Int64?)
        booking.cancelReason = row["cancel_reason"]
        booking.refund = row["refund"]
        return booking
    }

    /// Writes a booking's decided state (status, expiry, references, notes, contact, times, cancellation) and its
    /// units' codes and holders, when it is still in the state `expecting` (nil: any): `false` otherwise, nothing
    /// written. A cancellation queues its `booking_update` webhook in the same transaction.
    public func updateBooking(_ booking: OctoBookingRecord, expecting status: String?, now: Date, webhook event: String? = nil) async throws -> Bool {
        try await database.write { db in
            guard let current = try await Self.booking(booking.uuid, db), status == nil || current.status == status else { return false }
            try await db.execute(
                sql: """
                    UPDATE octo_bookings SET status = ?, expires_at = ?, reseller_reference = ?, notes = ?, contact = ?, updated_at = ?,
                        confirmed_at = ?, cancelled_at = ?, cancel_reason = ?, refund = ?
                    WHERE uuid = ?
                    """,
                arguments: [
                    booking.status, booking.expiresAt.map(StoredTime.millis), booking.resellerReference, booking.notes, booking.contact,
                    StoredTime.millis(now), booking.confirmedAt.map(StoredTime.millis), booking.cancelledAt.map(StoredTime.millis), booking.cancelReason,
                    booking.refund, booking.uuid,
                ])
            for unit in booking.units {
                try await db.execute(
                    sql: "UPDATE octo_units SET reseller_reference = ?, holder_masked = ?, code = ? WHERE uuid = ? AND booking_uuid = ?",
                    arguments: [unit.resellerReference, unit.holderMasked, unit.code, unit.uuid, booking.uuid])
            }
            if let event {
                try await Self.queueWebhook(
                    id: "\(event):\(booking.uuid):\(StoredTime.millis(now))", reseller: booking.reseller.rawValue, bookingUUID: booking.uuid, event: event,
                    now: now, db)
            }
            return true
        }
    }

    /// The first counted entry of each pass, for OCTO's `REDEEMED` and `utcRedeemedAt`.
    public func firstEntries(_ passIDs: [String]) async throws -> [String: Date] {
        guard !passIDs.isEmpty else { return [:] }
        return try await database.read { db in
            var result: [String: Date] = [:]
            for passID in passIDs {
                let first: Int64?? = try await Int64?.fetchOne(
                    db, sql: "SELECT MIN(entered_at) FROM pass_entries WHERE pass_id = ? AND counted = 1", arguments: [passID])
                if let found = first, let at = found { result[passID] = StoredTime.date(at) as Date }
            }
            return result
        }
    }

    // MARK: Webhooks

    /// Queues a `booking_update` for the booking that sold `passID` when a reseller sold it (a no-op otherwise):
    /// called in the transaction that counts the pass's entry, so an entry and its webhook are kept together.
    static func queueRedemptionWebhook(passID: String, entryID: String, now: Date, _ db: any SQLConnection) async throws {
        guard
            let row = try await SQLRow.fetchOne(
                db, sql: "SELECT b.uuid, b.reseller FROM octo_units u JOIN octo_bookings b ON b.uuid = u.booking_uuid WHERE u.pass_id = ? LIMIT 1",
                arguments: [passID])
        else { return }
        try await queueWebhook(id: "redeemed:\(entryID)", reseller: row["reseller"], bookingUUID: row["uuid"], event: "booking_update", now: now, db)
    }

    static func queueWebhook(id: String, reseller: String, bookingUUID: String, event: String, now: Date, _ db: any SQLConnection) async throws {
        try await db.execute(
            sql: """
                INSERT INTO octo_webhooks (id, reseller, booking_uuid, event, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO NOTHING
                """, arguments: [id, reseller, bookingUUID, event, StoredTime.millis(now), StoredTime.millis(now)])
    }

    /// Webhooks not yet delivered whose next attempt is due.
    public func dueWebhooks(now: Date, limit: Int = 100) async throws -> [OctoWebhookRecord] {
        try await due("octo_webhooks", now: now, limit: limit).map(Self.webhookRecord)
    }

    /// Every webhook of a reseller (or all), newest first.
    public func webhooks(reseller: ParkID?, limit: Int = 200) async throws -> [OctoWebhookRecord] {
        try await database.read { db in
            if let reseller {
                return try await SQLRow.fetchAll(
                    db, sql: "SELECT * FROM octo_webhooks WHERE reseller = ? ORDER BY created_at DESC, id LIMIT \(limit)", arguments: [reseller.rawValue]
                ).map(Self.webhookRecord)
            }
            return try await SQLRow.fetchAll(db, sql: "SELECT * FROM octo_webhooks ORDER BY created_at DESC, id LIMIT \(limit)").map(Self.webhookRecord)
        }
    }

    /// Records an attempt: delivered (`status` 2xx), or failed with the next attempt's time.
    public func recordWebhookAttempt(_ id: String, status: Int?, error: String?, delivered: Bool, nextAttemptAt: Date, now: Date) async throws {
        try await recordAttempt("octo_webhooks", id: id, status: status, error: error, delivered: delivered, nextAttemptAt: nextAttemptAt, now: now)
    }

    static func webhookRecord(_ row: SQLRow) throws -> OctoWebhookRecord {
        OctoWebhookRecord(
            id: row["id"], reseller: try ParkID(row["reseller"] as String), bookingUUID: row["booking_uuid"], event: row["event"],
            createdAt: StoredTime.date(row["created_at"] as Int64), attempts: Int(row["attempts"] as Int64),
            nextAttemptAt: StoredTime.date(row["next_attempt_at"] as Int64), deliveredAt: StoredTime.date(row["delivered_at"] as Int64?),
            lastStatus: (row["last_status"] as Int64?).map(Int.init), lastError: row["last_error"])
    }

    // MARK: Outbound deliveries (webhooks, regulator pushes): one shape of queue

    /// Rows of an outbound queue (`octo_webhooks`, `regulator_pushes`) not delivered and due by `now`.
    func due(_ table: String, now: Date, limit: Int) async throws -> [SQLRow] {
        try await database.read { db in
            try await SQLRow.fetchAll(
                db, sql: "SELECT * FROM \(table) WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT \(limit)",
                arguments: [StoredTime.millis(now)])
        }
    }

    /// Records an attempt of an outbound queue's row: delivered, or failed with the next attempt's time.
    func recordAttempt(
        _ table: String, id: some SQLValueConvertible, status: Int?, error: String?, delivered: Bool, nextAttemptAt: Date, now: Date
    ) async throws {
        try await database.write { db in
            try await db.execute(
                sql: """
                    UPDATE \(table) SET attempts = attempts + 1, last_status = ?, last_error = ?, delivered_at = ?, next_attempt_at = ?
                    WHERE id = ? AND delivered_at IS NULL
                    """,
                arguments: [status.map { Int64($0) }, error, delivered ? StoredTime.millis(now) : nil, StoredTime.millis(nextAttemptAt), id])
        }
    }
}
