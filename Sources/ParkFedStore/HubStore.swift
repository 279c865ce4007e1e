import Foundation
import ParkFedDomain

/// The hub's durable state in one SQLite file (WAL): parks, enrollment tokens, issued certificates, signing keys
/// and published trust lists.
///
/// Every method is one transaction. Methods that decide (enrollment, revocation) check and write in the same
/// transaction, so two concurrent callers cannot both use one token.
public final class HubStore: Sendable {
    public let path: String
    let database: any SQLDatabase
    /// Write transactions committed on the embedded SQLite store so far (nil on PostgreSQL): with group commit,
    /// fewer than the writes.
    public var sqliteCommits: Int? { (database as? SQLiteDatabase)?.commits }
    /// The business day (federation time zone) a moment belongs to: obligations are settled by these.
    let businessDay: @Sendable (Date) -> CivilDay
    /// Hub fee on each obligation, in basis points, rounded down (0: no fees).
    public let feeBasisPoints: Int64

    /// The store in a SQLite file.
    public convenience init(path: String, businessDay: @escaping @Sendable (Date) -> CivilDay = HubStore.utcDay, feeBasisPoints: Int64 = 0) async throws {
        try await self.init(database: SQLiteDatabase(path: path), businessDay: businessDay, feeBasisPoints: feeBasisPoints)
    }

    /// The store on `database` (SQLite or PostgreSQL), migrated to the current schema.
    public init(database: any SQLDatabase, businessDay: @escaping @Sendable (Date) -> CivilDay = HubStore.utcDay, feeBasisPoints: Int64 = 0) async throws {
        self.businessDay = businessDay
        self.feeBasisPoints = feeBasisPoints
        self.database = database
        path = (database as? SQLiteDatabase)?.path ?? "(\(database.dialect.rawValue))"
        try await database.migrate(Self.migrator.migrations)
    }

    /// Closes the database (its threads or connections); the store cannot be used after this.
    public func close() async { await database.close() }

    public static let utcDay: @Sendable (Date) -> CivilDay = { CivilDay(dayNumber: Int(($0.timeIntervalSince1970 / 86_400).rounded(.down))) }

    /// Which database this store is on.
    public var dialect: SQLDialect { database.dialect }

    static var migrator: SQLMigrator {
        var migrator = SQLMigrator()
        migrator.registerMigration("v1-fabric") { db in
            try await db.schema(
                sqlite: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE parks (
                        id TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    CREATE TABLE enrollment_tokens (
                        token_hash TEXT PRIMARY KEY,
                        park_id TEXT NOT NULL,
                        park_name TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        used_at INTEGER
                    );
                    CREATE TABLE certificates (
                        serial TEXT PRIMARY KEY,
                        principal TEXT NOT NULL,
                        not_before INTEGER NOT NULL,
                        not_after INTEGER NOT NULL,
                        pem TEXT NOT NULL,
                        issued_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    CREATE INDEX certificates_by_principal ON certificates(principal);
                    CREATE TABLE signing_keys (
                        kid TEXT PRIMARY KEY,
                        park_id TEXT NOT NULL REFERENCES parks(id),
                        public_key TEXT NOT NULL UNIQUE,
                        not_before INTEGER NOT NULL,
                        not_after INTEGER,
                        revoked_at INTEGER
                    );
                    CREATE TABLE trust_lists (
                        sequence INTEGER PRIMARY KEY,
                        issued_at INTEGER NOT NULL,
                        content_hash TEXT NOT NULL,
                        jws TEXT NOT NULL
                    );
                    """,
                postgres: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE parks (
                        id TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
                        created_at BIGINT NOT NULL,
                        revoked_at BIGINT
                    );
                    CREATE TABLE enrollment_tokens (
                        token_hash TEXT PRIMARY KEY,
                        park_id TEXT NOT NULL,
                        park_name TEXT NOT NULL,
                        created_at BIGINT NOT NULL,
                        expires_at BIGINT NOT NULL,
                        used_at BIGINT
                    );
                    CREATE TABLE certificates (
                        serial TEXT PRIMARY KEY,
                        principal TEXT NOT NULL,
                        not_before BIGINT NOT NULL,
                        not_after BIGINT NOT NULL,
                        pem TEXT NOT NULL,
                        issued_at BIGINT NOT NULL,
                        revoked_at BIGINT
                    );
                    CREATE INDEX certificates_by_principal ON certificates(principal);
                    CREATE TABLE signing_keys (
                        kid TEXT PRIMARY KEY,
                        park_id TEXT NOT NULL REFERENCES parks(id),
                        public_key TEXT NOT NULL UNIQUE,
                        not_before BIGINT NOT NULL,
                        not_after BIGINT,
                        revoked_at BIGINT
                    );
                    CREATE TABLE trust_lists (
                        sequence BIGINT PRIMARY KEY,
                        issued_at BIGINT NOT NULL,
                        content_hash TEXT NOT NULL,
                        jws TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2-log") { db in
            try await db.schema(
                sqlite: """
                    CREATE TABLE log_entries (
                        idx INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        park_id TEXT NOT NULL,
                        type TEXT NOT NULL,
                        kid TEXT NOT NULL,
                        issued_at INTEGER NOT NULL,
                        accepted_at INTEGER NOT NULL,
                        jws TEXT NOT NULL,
                        leaf_hash BLOB NOT NULL
                    );
                    CREATE INDEX log_entries_by_park ON log_entries(park_id, idx);
                    CREATE TABLE checkpoints (
                        tree_size INTEGER PRIMARY KEY,
                        root_hash BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        note TEXT NOT NULL
                    );
                    """,
                postgres: """
                    CREATE TABLE log_entries (
                        idx BIGINT PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        park_id TEXT NOT NULL,
                        type TEXT NOT NULL,
                        kid TEXT NOT NULL,
                        issued_at BIGINT NOT NULL,
                        accepted_at BIGINT NOT NULL,
                        jws TEXT NOT NULL,
                        leaf_hash BYTEA NOT NULL
                    );
                    CREATE INDEX log_entries_by_park ON log_entries(park_id, idx);
                    CREATE TABLE checkpoints (
                        tree_size BIGINT PRIMARY KEY,
                        root_hash BYTEA NOT NULL,
                        created_at BIGINT NOT NULL,
                        note TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v3-cards") { db in
            try await db.schema(
                sqlite: """
                    CREATE TABLE promotions (
                        id TEXT PRIMARY KEY,
                        park_id TEXT NOT NULL,
                        pay_minor INTEGER NOT NULL CHECK (pay_minor > 0),
                        bonus_minor INTEGER NOT NULL CHECK (bonus_minor >= 0),
                        ratio_principal INTEGER,
                        ratio_bonus INTEGER,
                        bonus_owed_by_loader INTEGER NOT NULL,
                        currency TEXT NOT NULL
                    );
                    CREATE TABLE cards (
                        id TEXT PRIMARY KEY,
                        kind TEXT NOT NULL CHECK (kind IN ('ic', 'wristband', 'virtual')),
                        registered_by TEXT NOT NULL,
                        member_id TEXT,
                        state TEXT NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE ledger_postings (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        txn TEXT NOT NULL,
                        account TEXT NOT NULL,
                        debit INTEGER NOT NULL CHECK (debit >= 0),
                        credit INTEGER NOT NULL CHECK (credit >= 0),
                        at INTEGER NOT NULL
                    );
                    CREATE INDEX ledger_by_account ON ledger_postings(account, seq);
                    CREATE TABLE obligations (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        from_park TEXT NOT NULL,
                        to_park TEXT NOT NULL,
                        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
                        reason TEXT NOT NULL,
                        reference TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        settled_batch TEXT
                    );
                    """,
                postgres: """
                    CREATE TABLE promotions (
                        id TEXT PRIMARY KEY,
                        park_id TEXT NOT NULL,
                        pay_minor BIGINT NOT NULL CHECK (pay_minor > 0),
                        bonus_minor BIGINT NOT NULL CHECK (bonus_minor >= 0),
                        ratio_principal BIGINT,
                        ratio_bonus BIGINT,
                        bonus_owed_by_loader BIGINT NOT NULL,
                        currency TEXT NOT NULL
                    );
                    CREATE TABLE cards (
                        id TEXT PRIMARY KEY,
                        kind TEXT NOT NULL CHECK (kind IN ('ic', 'wristband', 'virtual')),
                        registered_by TEXT NOT NULL,
                        member_id TEXT,
                        state TEXT NOT NULL,
                        updated_at BIGINT NOT NULL
                    );
                    CREATE TABLE ledger_postings (
                        seq BIGSERIAL PRIMARY KEY,
                        txn TEXT NOT NULL,
                        account TEXT NOT NULL,
                        debit BIGINT NOT NULL CHECK (debit >= 0),
                        credit BIGINT NOT NULL CHECK (credit >= 0),
                        at BIGINT NOT NULL
                    );
                    CREATE INDEX ledger_by_account ON ledger_postings(account, seq);
                    CREATE TABLE obligations (
                        seq BIGSERIAL PRIMARY KEY,
                        from_park TEXT NOT NULL,
                        to_park TEXT NOT NULL,
                        amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
                        reason TEXT NOT NULL,
                        reference TEXT NOT NULL,
                        created_at BIGINT NOT NULL,
                        settled_batch TEXT
                    );
                    """)
        }
        migrator.registerMigration("v4-card-authorisations") { db in
            // Authorisations live in their own rows so that a card's state stays small however long it is used:
            // an operation loads the card's lots, its open holds, and the one request it is about.
            try await db.schema(
                sqlite: """
                    CREATE TABLE card_authorisations (
                        card_id TEXT NOT NULL REFERENCES cards(id),
                        request_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        body TEXT NOT NULL,
                        PRIMARY KEY (card_id, request_id)
                    );
                    CREATE INDEX card_authorisations_open ON card_authorisations(card_id, state);
                    """,
                postgres: """
                    CREATE TABLE card_authorisations (
                        card_id TEXT NOT NULL REFERENCES cards(id),
                        request_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        body TEXT NOT NULL,
                        PRIMARY KEY (card_id, request_id)
                    );
                    CREATE INDEX card_authorisations_open ON card_authorisations(card_id, state);
                    """)
        }
        registerPassMigrations(&migrator)
        registerSettlementMigrations(&migrator)
        registerRegulatorMigrations(&migrator)
        registerMemberMigrations(&migrator)
        registerPassVariantMigrations(&migrator)
        registerRegulatorLogMigration(&migrator)
        registerPassAllocationMigration(&migrator)
        registerMemberCodeMigration(&migrator)
        migrator.registerMigration("v14-readmission-tokens") { db in
            try await db.schema(
                sqlite: "ALTER TABLE enrollment_tokens ADD COLUMN readmit INTEGER NOT NULL DEFAULT 0;",
                postgres: "ALTER TABLE enrollment_tokens ADD COLUMN readmit BIGINT NOT NULL DEFAULT 0;")
        }
        registerTrustEpochMigration(&migrator)
        registerClearingMigration(&migrator)
        registerVisitorLinkMigration(&migrator)
        registerResellerMigration(&migrator)
        registerOccupancyMigration(&migrator)
        registerCapacityWatchMigration(&migrator)
        registerRetentionMigration(&migrator)
        registerMemberErasureMigration(&migrator)
        registerVisitorAccountMigration(&migrator)
        registerShopOrderMigration(&migrator)
        registerShopRefundMigration(&migrator)
        registerLogTileMigration(&migrator)
        registerCapacityCounterMigration(&migrator)
        registerCompactCardMigration(&migrator)
        registerLogQueueMigration(&migrator)
        return migrator
    }

    // MARK: Enrollment tokens

    /// Stores a token by its hash only; the token itself is never written.
    /// `readmit`: the token re-admits a park that was revoked (the operator's decision, with new keys; the
    /// revoked certificates and signing keys stay revoked).
    public func addEnrollmentToken(hash: String, park: ParkID, name: String, now: Date, expiresAt: Date, readmit: Bool = false) async throws {
        try await database.write { db in
            try await db.execute(
                sql: "INSERT INTO enrollment_tokens (token_hash, park_id, park_name, created_at, expires_at, readmit) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [hash, park.rawValue, name, StoredTime.millis(now), StoredTime.millis(expiresAt), readmit ? 1 : 0])
        }
    }

    /// The token's row when it is known, unspent, unexpired and for the park the request names.
    static func usableToken(_ db: any SQLConnection, tokenHash: String, requestedParks: Set<String>, now: Date) async throws -> SQLRow {
        guard let row = try await SQLRow.fetchOne(db, sql: "SELECT * FROM enrollment_tokens WHERE token_hash = ?", arguments: [tokenHash]) else {
            throw StoreError(.tokenUnknown, "the enrollment token is not known to this hub")
        }
        if row["used_at"] as Int64? != nil {
            throw StoreError(.tokenUsed, "the enrollment token has already been used")
        }
        if StoredTime.millis(now) >= row["expires_at"] as Int64 {
            throw StoreError(.tokenExpired, "the enrollment token has expired")
        }
        let park: String = row["park_id"]
        if let other = requestedParks.first(where: { $0 != park }) {
            throw StoreError(.tokenForOtherPark, "the token is for park \(park), not \(other)")
        }
        return row
    }

    /// Enrolls a park in one transaction: checks and spends the token, makes the park active, records the issued
    /// certificate and the park's signing key. `issue` runs inside the transaction, after the token checks,
    /// and builds the certificate for the token's park.
    ///
    /// - Parameter requestedPark: the park the request says it is (body field or CSR names); must match the token's.
    public func enroll(
        tokenHash: String,
        requestedParks: Set<String>,
        signingKey: (kid: String, publicKey: String),
        now: Date,
        issue: @Sendable (ParkID, String) throws -> IssuedCertificateRecord
    ) async throws -> (park: ParkRecord, certificate: IssuedCertificateRecord) {
        // Decided on a read first: a guessed, spent or expired token never takes the write lock (on PostgreSQL
        // that would stall every gate and card write behind a stranger's attempts).
        _ = try await database.read { db in try await Self.usableToken(db, tokenHash: tokenHash, requestedParks: requestedParks, now: now) }
        return try await database.write { db in
            let row = try await Self.usableToken(db, tokenHash: tokenHash, requestedParks: requestedParks, now: now)
            let parkID = try ParkID(row["park_id"] as String)
            let parkName: String = row["park_name"]
            let readmit = (row["readmit"] as Int64) == 1
            if let status = try await String.fetchOne(db, sql: "SELECT status FROM parks WHERE id = ?", arguments: [parkID.rawValue]),
                status == ParkRecord.Status.revoked.rawValue, !readmit
            {
                throw StoreError(.parkRevoked, "park \(parkID) has been revoked from the federation: the operator re-admits it with a re-admission token")
            }
            if let owner = try await String.fetchOne(
                db, sql: "SELECT park_id FROM signing_keys WHERE kid = ? OR public_key = ?", arguments: [signingKey.kid, signingKey.publicKey])
            {
                throw StoreError(.keyInUse, "that signing key is already registered (to \(owner))")
            }
            try await db.execute(sql: "UPDATE enrollment_tokens SET used_at = ? WHERE token_hash = ?", arguments: [StoredTime.millis(now), tokenHash])
            try await db.execute(
                sql: """
                    INSERT INTO parks (id, name, status, created_at) VALUES (?, ?, 'active', ?)
                    ON CONFLICT(id) DO UPDATE SET name = excluded.name\(readmit ? ", status = 'active'" : "")
                    """,
                arguments: [parkID.rawValue, parkName, StoredTime.millis(now)])
            let certificate = try issue(parkID, parkName)
            try await Self.insert(certificate, db)
            try await db.execute(
                sql: "INSERT INTO signing_keys (kid, park_id, public_key, not_before, not_after) VALUES (?, ?, ?, ?, NULL)",
                arguments: [signingKey.kid, parkID.rawValue, signingKey.publicKey, StoredTime.millis(now)])
            let park = try await Self.park(parkID, db)!
            return (park, certificate)
        }
    }

    // MARK: Certificates

    public func recordCertificate(_ certificate: IssuedCertificateRecord) async throws {
        try await database.write { db in try await Self.insert(certificate, db) }
    }

    static func insert(_ certificate: IssuedCertificateRecord, _ db: any SQLConnection) async throws {
        try await db.execute(
            sql: "INSERT INTO certificates (serial, principal, not_before, not_after, pem, issued_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                certificate.serial, certificate.principal.description, StoredTime.millis(certificate.notBefore),
                StoredTime.millis(certificate.notAfter), certificate.pem, StoredTime.millis(certificate.issuedAt),
            ])
    }

    /// Whether a presented certificate is one the hub issued, and whether it or its park has been revoked.
    public func standing(ofSerial serial: String) async throws -> CertificateStanding {
        try await database.read { db in
            guard
                let row = try await SQLRow.fetchOne(
                    db,
                    sql: """
                        SELECT c.revoked_at AS cert_revoked, p.status AS park_status
                        FROM certificates c LEFT JOIN parks p ON c.principal = 'park:' || p.id
                        WHERE c.serial = ?
                        """,
                    arguments: [serial])
            else { return CertificateStanding(known: false, revoked: false, parkRevoked: false) }
            return CertificateStanding(
                known: true,
                revoked: (row["cert_revoked"] as Int64?) != nil,
                parkRevoked: (row["park_status"] as String?) == ParkRecord.Status.revoked.rawValue)
        }
    }

    /// Renews: records the new certificate for the same principal, only while the old one stands.
    public func renew(oldSerial: String, issue: @Sendable () throws -> IssuedCertificateRecord) async throws -> IssuedCertificateRecord {
        try await database.write { db in
            let standing = try await SQLRow.fetchOne(db, sql: "SELECT revoked_at FROM certificates WHERE serial = ?", arguments: [oldSerial])
            guard let standing, (standing["revoked_at"] as Int64?) == nil else {
                throw StoreError(.notFound, "the presented certificate is not current")
            }
            let certificate = try issue()
            try await Self.insert(certificate, db)
            // The renewed certificate is retired: a copied old key cannot keep speaking for the principal.
            try await db.execute(
                sql: "UPDATE certificates SET revoked_at = ? WHERE serial = ? AND revoked_at IS NULL",
                arguments: [StoredTime.millis(certificate.issuedAt), oldSerial])
            return certificate
        }
    }

    public func certificates(of principal: Principal) async throws -> [IssuedCertificateRecord] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT * FROM certificates WHERE principal = ? ORDER BY issued_at", arguments: [principal.description]).map {
                row in
                IssuedCertificateRecord(
                    serial: row["serial"], principal: principal,
                    notBefore: StoredTime.date(row["not_before"] as Int64), notAfter: StoredTime.date(row["not_after"] as Int64),
                    pem: row["pem"], issuedAt: StoredTime.date(row["issued_at"] as Int64),
                    revokedAt: StoredTime.date(row["revoked_at"] as Int64?))
            }
        }
    }

    // MARK: Revocation

    /// Revokes a park: its status, every certificate it holds and every signing key. Returns how many
    /// certificates were revoked. Takes effect on the next request the park makes.
    @discardableResult
    public func revokePark(_ park: ParkID, now: Date) async throws -> Int {
        try await database.write { db in
            guard try await Self.park(park, db) != nil else { throw StoreError(.notFound, "no park \(park) in this federation") }
            let at = StoredTime.millis(now)
            try await db.execute(sql: "UPDATE parks SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [at, park.rawValue])
            try await db.execute(sql: "UPDATE signing_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE park_id = ?", arguments: [at, park.rawValue])
            return try await db.execute(
                sql: "UPDATE certificates SET revoked_at = ? WHERE principal = ? AND revoked_at IS NULL", arguments: [at, Principal.park(park).description])
        }
    }

    /// Revokes every certificate of a principal (regulator or clearing staff). Returns how many.
    @discardableResult
    public func revokeCertificates(of principal: Principal, now: Date) async throws -> Int {
        try await database.write { db in
            return try await db.execute(
                sql: "UPDATE certificates SET revoked_at = ? WHERE principal = ? AND revoked_at IS NULL",
                arguments: [StoredTime.millis(now), principal.description])
        }
    }

    /// An enrollment token as the operator sees it (never the token itself: only its hash is stored).
    public struct EnrollmentTokenRecord: Sendable, Hashable {
        public var park: String
        public var name: String
        public var createdAt: Date
        public var expiresAt: Date
        public var usedAt: Date?
        public var readmit: Bool
    }

    /// The latest enrollment tokens, newest first.
    public func enrollmentTokens(limit: Int = 200) async throws -> [EnrollmentTokenRecord] {
        try await database.read { db in
            try await SQLRow.fetchAll(
                db, sql: "SELECT park_id, park_name, created_at, expires_at, used_at, readmit FROM enrollment_tokens ORDER BY created_at DESC LIMIT ?",
                arguments: [limit]
            ).map { row in
                EnrollmentTokenRecord(
                    park: row["park_id"], name: row["park_name"], createdAt: StoredTime.date(row["created_at"] as Int64),
                    expiresAt: StoredTime.date(row["expires_at"] as Int64), usedAt: StoredTime.date(row["used_at"] as Int64?),
                    readmit: (row["readmit"] as Int64) != 0)
            }
        }
    }

    // MARK: Parks and keys

    public func parks() async throws -> [ParkRecord] {
        try await database.read { db in try await SQLRow.fetchAll(db, sql: "SELECT * FROM parks ORDER BY id").map(Self.parkRecord) }
    }

    public func signingKeys() async throws -> [SigningKeyRecord] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY park_id, not_before, kid").map { row in
                SigningKeyRecord(
                    kid: row["kid"], park: try ParkID(row["park_id"] as String), publicKey: row["public_key"],
                    notBefore: StoredTime.date(row["not_before"] as Int64), notAfter: StoredTime.date(row["not_after"] as Int64?),
                    revokedAt: StoredTime.date(row["revoked_at"] as Int64?))
            }
        }
    }

    static func park(_ id: ParkID, _ db: any SQLConnection) async throws -> ParkRecord? {
        try await SQLRow.fetchOne(db, sql: "SELECT * FROM parks WHERE id = ?", arguments: [id.rawValue]).map(parkRecord)
    }

    static func parkRecord(_ row: SQLRow) throws -> ParkRecord {
        guard let status = ParkRecord.Status(rawValue: row["status"]) else { throw StoreError(.corrupt, "bad park status") }
        return ParkRecord(
            id: try ParkID(row["id"] as String), name: row["name"], status: status,
            createdAt: StoredTime.date(row["created_at"] as Int64), revokedAt: StoredTime.date(row["revoked_at"] as Int64?),
            kind: (row["kind"] as String?).flatMap { $0 == "park" ? nil : $0 })
    }

    // MARK: Trust lists

    public func latestTrustList() async throws -> TrustListRecord? {
        try await database.read { db in try await Self.latestTrustList(db) }
    }

    static func latestTrustList(_ db: any SQLConnection) async throws -> TrustListRecord? {
        try await SQLRow.fetchOne(db, sql: "SELECT * FROM trust_lists ORDER BY sequence DESC LIMIT 1").map { row in
            TrustListRecord(
                sequence: row["sequence"], issuedAt: StoredTime.date(row["issued_at"] as Int64),
                contentHash: row["content_hash"], jws: row["jws"])
        }
    }

    /// Publishes a new trust list when its content changed: returns the latest one if its `contentHash` equals
    /// the given one, else signs (via `sign`, with the next sequence number) and stores a new one.
    public func publishTrustList(
        contentHash: String,
        now: Date,
        sign: @Sendable (_ sequence: Int64) throws -> String
    ) async throws -> TrustListRecord {
        // The common case, nothing changed, is a read: a trust-list fetch never takes the write lock (which, on
        // PostgreSQL, every gate and card write of every hub process waits for).
        if let latest = try await database.read({ db in try await Self.latestTrustList(db) }), latest.contentHash == contentHash { return latest }
        return try await database.write { db in
            let latest = try await Self.latestTrustList(db)
            if let latest, latest.contentHash == contentHash { return latest }
            let sequence = (latest?.sequence ?? 0) + 1
            let jws = try sign(sequence)
            try await db.execute(
                sql: "INSERT INTO trust_lists (sequence, issued_at, content_hash, jws) VALUES (?, ?, ?, ?)",
                arguments: [sequence, StoredTime.millis(now), contentHash, jws])
            return TrustListRecord(sequence: sequence, issuedAt: now, contentHash: contentHash, jws: jws)
        }
    }

    // MARK: Meta

    public func setMeta(_ key: String, _ value: String) async throws {
        try await database.write { db in
            try await db.execute(
                sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", arguments: [key, value])
        }
    }

    public func meta(_ key: String) async throws -> String? {
        try await database.read { db in try await String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    /// `SELECT 1`, for readiness probes.
    public func ping() async throws {
        _ = try await database.read { db in try await Int.fetchOne(db, sql: "SELECT 1") }
    }
}
