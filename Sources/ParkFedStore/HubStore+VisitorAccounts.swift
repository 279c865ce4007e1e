import Foundation
import ParkFedDomain

/// A visitor's account at the shop: found by a keyed blind index of its e-mail or phone, which is kept only sealed
/// (field key ring) and masked; consent to the terms and the privacy policy recorded with their versions and time.
public struct VisitorAccountRecord: Sendable, Hashable {
    public var id: String
    public var contactKind: String
    public var contactIndex: String
    public var contactSealed: String
    public var contactMasked: String
    public var passwordHash: String?
    public var termsVersion: String
    public var privacyVersion: String
    public var consentedAt: Date
    public var createdAt: Date
    public var failedPasswords: Int
    public var lockedUntil: Date?

    public init(
        id: String, contactKind: String, contactIndex: String, contactSealed: String, contactMasked: String, passwordHash: String?, termsVersion: String,
        privacyVersion: String, consentedAt: Date, createdAt: Date, failedPasswords: Int = 0, lockedUntil: Date? = nil
    ) {
        self.id = id
        self.contactKind = contactKind
        self.contactIndex = contactIndex
        self.contactSealed = contactSealed
        self.contactMasked = contactMasked
        self.passwordHash = passwordHash
        self.termsVersion = termsVersion
        self.privacyVersion = privacyVersion
        self.consentedAt = consentedAt
        self.createdAt = createdAt
        self.failedPasswords = failedPasswords
        self.lockedUntil = lockedUntil
    }
}

/// A real-name holder an account keeps for its bookings (self, family), sealed as passes' holders are.
public struct VisitorHolderRecord: Sendable, Hashable {
    public var id: String
    public var account: String
    public var nameSealed: String
    public var idType: String
    public var idSealed: String
    public var nameMasked: String
    public var idMasked: String
    public var createdAt: Date

    public init(id: String, account: String, nameSealed: String, idType: String, idSealed: String, nameMasked: String, idMasked: String, createdAt: Date) {
        self.id = id
        self.account = account
        self.nameSealed = nameSealed
        self.idType = idType
        self.idSealed = idSealed
        self.nameMasked = nameMasked
        self.idMasked = idMasked
        self.createdAt = createdAt
    }
}

/// What checking a one-time code came to.
public enum VisitorCodeCheck: Sendable, Hashable {
    case accepted
    /// Wrong code: `left` attempts remain for it.
    case wrong(left: Int)
    /// No live code for the contact (never asked, expired, used, or out of attempts).
    case none
}

extension HubStore {
    static func registerVisitorAccountMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v23-visitor-accounts") { db in
            let ddl = """
                CREATE TABLE visitor_accounts (
                    id TEXT PRIMARY KEY,
                    contact_kind TEXT NOT NULL CHECK (contact_kind IN ('email', 'phone')),
                    contact_index TEXT NOT NULL UNIQUE,
                    contact_sealed TEXT NOT NULL,
                    contact_masked TEXT NOT NULL,
                    password_hash TEXT,
                    terms_version TEXT NOT NULL,
                    privacy_version TEXT NOT NULL,
                    consented_at BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    failed_passwords BIGINT NOT NULL DEFAULT 0,
                    locked_until BIGINT
                );
                CREATE TABLE visitor_codes (
                    contact_index TEXT NOT NULL,
                    purpose TEXT NOT NULL,
                    code_hash TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    used_at BIGINT
                );
                CREATE INDEX visitor_codes_by_contact ON visitor_codes(contact_index, created_at);
                CREATE TABLE visitor_sessions (
                    token_hash TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL
                );
                CREATE INDEX visitor_sessions_by_account ON visitor_sessions(account);
                CREATE TABLE visitor_holders (
                    id TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    name_sealed TEXT NOT NULL,
                    id_type TEXT NOT NULL,
                    id_sealed TEXT NOT NULL,
                    name_masked TEXT NOT NULL,
                    id_masked TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                );
                CREATE INDEX visitor_holders_by_account ON visitor_holders(account);
                CREATE TABLE visitor_events (
                    account TEXT NOT NULL,
                    action TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    at BIGINT NOT NULL
                );
                """
            try await db.schema(sqlite: ddl.replacingOccurrences(of: "BIGINT", with: "INTEGER"), postgres: ddl)
        }
    }

    // MARK: One-time codes

    /// How many codes were made for a contact since `since` (for the sending limits).
    public func visitorCodesSent(contactIndex: String, since: Date) async throws -> Int {
        try await database.read { db in
            try await Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM visitor_codes WHERE contact_index = ? AND created_at >= ?",
                arguments: [contactIndex, StoredTime.millis(since)]) ?? 0
        }
    }

    /// Stores a new code for a contact (an earlier live one of the same purpose stops working).
    public func addVisitorCode(contactIndex: String, purpose: String, codeHash: String, now: Date, expiresAt: Date) async throws {
        try await database.write { db in
            try await db.execute(
                sql: "UPDATE visitor_codes SET used_at = ? WHERE contact_index = ? AND purpose = ? AND used_at IS NULL",
                arguments: [StoredTime.millis(now), contactIndex, purpose])
            try await db.execute(
                sql: "INSERT INTO visitor_codes (contact_index, purpose, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [contactIndex, purpose, codeHash, StoredTime.millis(now), StoredTime.millis(expiresAt)])
        }
    }

    /// Checks a code against the contact's live one (one transaction): right, it is used up; wrong, an attempt is
    /// counted, and at `maximumAttempts` the code stops working.
    public func checkVisitorCode(contactIndex: String, purpose: String, codeHash: String, maximumAttempts: Int, now: Date) async throws -> VisitorCodeCheck {
        try await database.write { db in
            guard
                let row = try await SQLRow.fetchOne(
                    db,
                    sql: """
                        SELECT code_hash, attempts, created_at FROM visitor_codes
                        WHERE contact_index = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?
                        ORDER BY created_at DESC LIMIT 1
                        """, arguments: [contactIndex, purpose, StoredTime.millis(now), maximumAttempts])
            else { return .none }
            let created: Int64 = row["created_at"]
            if (row["code_hash"] as String) == codeHash {
                try await db.execute(
                    sql: "UPDATE visitor_codes SET used_at = ? WHERE contact_index = ? AND purpose = ? AND created_at = ?",
                    arguments: [StoredTime.millis(now), contactIndex, purpose, created])
                return .accepted
            }
            try await db.execute(
                sql: "UPDATE visitor_codes SET attempts = attempts + 1 WHERE contact_index = ? AND purpose = ? AND created_at = ?",
                arguments: [contactIndex, purpose, created])
            return .wrong(left: max(0, maximumAttempts - Int(row["attempts"] as Int64) - 1))
        }
    }

    // MARK: Accounts

    /// Creates an account, with its first session and the consent event, in one transaction; nil when the contact
    /// already has one.
    public func createVisitorAccount(_ account: VisitorAccountRecord, sessionHash: String, sessionExpires: Date, now: Date) async throws -> Bool {
        try await database.write { db in
            if try await SQLRow.fetchOne(db, sql: "SELECT id FROM visitor_accounts WHERE contact_index = ?", arguments: [account.contactIndex]) != nil {
                return false
            }
            try await db.execute(
                sql: """
                    INSERT INTO visitor_accounts (id, contact_kind, contact_index, contact_sealed, contact_masked, password_hash, terms_version,
                        privacy_version, consented_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    account.id, account.contactKind, account.contactIndex, account.contactSealed, account.contactMasked, account.passwordHash,
                    account.termsVersion, account.privacyVersion, StoredTime.millis(account.consentedAt), StoredTime.millis(account.createdAt),
                ])
            try await Self.insertSession(sessionHash, account: account.id, now: now, expires: sessionExpires, db)
            try await Self.visitorEvent(
                account.id, "consent", "terms \(account.termsVersion), privacy \(account.privacyVersion)", now: account.consentedAt, db)
            return true
        }
    }

    static func insertSession(_ hash: String, account: String, now: Date, expires: Date, _ db: any SQLConnection) async throws {
        try await db.execute(
            sql: "INSERT INTO visitor_sessions (token_hash, account, created_at, expires_at) VALUES (?, ?, ?, ?)",
            arguments: [hash, account, StoredTime.millis(now), StoredTime.millis(expires)])
    }

    static func visitorEvent(_ account: String, _ action: String, _ detail: String, now: Date, _ db: any SQLConnection) async throws {
        try await db.execute(
            sql: "INSERT INTO visitor_events (account, action, detail, at) VALUES (?, ?, ?, ?)", arguments: [account, action, detail, StoredTime.millis(now)])
    }

    public func visitorAccount(contactIndex: String) async throws -> VisitorAccountRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT * FROM visitor_accounts WHERE contact_index = ?", arguments: [contactIndex]).map(Self.visitorAccount)
        }
    }

    public func visitorAccount(id: String) async throws -> VisitorAccountRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT * FROM visitor_accounts WHERE id = ?", arguments: [id]).map(Self.visitorAccount)
        }
    }

    static func visitorAccount(_ row: SQLRow) -> VisitorAccountRecord {
        VisitorAccountRecord(
            id: row["id"], contactKind: row["contact_kind"], contactIndex: row["contact_index"], contactSealed: row["contact_sealed"],
            contactMasked: row["contact_masked"], passwordHash: row["password_hash"], termsVersion: row["terms_version"],
            privacyVersion: row["privacy_version"], consentedAt: StoredTime.date(row["consented_at"] as Int64),
            createdAt: StoredTime.date(row["created_at"] as Int64), failedPasswords: Int(row["failed_passwords"] as Int64),
            lockedUntil: StoredTime.date(row["locked_until"] as Int64?))
    }

    /// Opens a session for an account (a sign-in), recording it.
    public func openVisitorSession(_ hash: String, account: String, how: String, now: Date, expires: Date) async throws {
        try await database.write { db in
            try await db.execute(sql: "UPDATE visitor_accounts SET failed_passwords = 0, locked_until = NULL WHERE id = ?", arguments: [account])
            try await Self.insertSession(hash, account: account, now: now, expires: expires, db)
            try await Self.visitorEvent(account, "sign_in", how, now: now, db)
        }
    }

    /// Counts a failed password; at `limit` failures the account is locked until `lockUntil`.
    public func failVisitorPassword(_ account: String, limit: Int, lockUntil: Date, now: Date) async throws {
        try await database.write { db in
            try await db.execute(sql: "UPDATE visitor_accounts SET failed_passwords = failed_passwords + 1 WHERE id = ?", arguments: [account])
            try await db.execute(
                sql: "UPDATE visitor_accounts SET locked_until = ?, failed_passwords = 0 WHERE id = ? AND failed_passwords >= ?",
                arguments: [StoredTime.millis(lockUntil), account, limit])
            try await Self.visitorEvent(account, "password_failed", "", now: now, db)
        }
    }

    /// The account of a live session.
    public func visitorSession(_ hash: String, now: Date) async throws -> String? {
        try await database.read { db in
            try await String.fetchOne(
                db, sql: "SELECT account FROM visitor_sessions WHERE token_hash = ? AND expires_at > ?", arguments: [hash, StoredTime.millis(now)])
        }
    }

    public func closeVisitorSession(_ hash: String) async throws {
        try await database.write { db in try await db.execute(sql: "DELETE FROM visitor_sessions WHERE token_hash = ?", arguments: [hash]) }
    }

    /// Deletes an account with its holders and sessions (its contact's index goes too, so nothing links a later
    /// sign-up to it); the deletion itself is recorded without any personal data.
    public func deleteVisitorAccount(_ id: String, now: Date) async throws {
        try await database.write { db in
            try await db.execute(sql: "DELETE FROM visitor_holders WHERE account = ?", arguments: [id])
            try await db.execute(sql: "DELETE FROM visitor_sessions WHERE account = ?", arguments: [id])
            try await db.execute(sql: "DELETE FROM visitor_accounts WHERE id = ?", arguments: [id])
            try await Self.visitorEvent(id, "deleted", "", now: now, db)
        }
    }

    public func visitorEvents(_ account: String) async throws -> [(action: String, detail: String, at: Date)] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT action, detail, at FROM visitor_events WHERE account = ? ORDER BY at", arguments: [account]).map {
                ($0["action"], $0["detail"], StoredTime.date($0["at"] as Int64))
            }
        }
    }

    // MARK: Holders

    public func addVisitorHolder(_ holder: VisitorHolderRecord, limit: Int) async throws -> Bool {
        try await database.write { db in
            let count = try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM visitor_holders WHERE account = ?", arguments: [holder.account]) ?? 0
            guard count < limit else { return false }
            try await db.execute(
                sql: """
                    INSERT INTO visitor_holders (id, account, name_sealed, id_type, id_sealed, name_masked, id_masked, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    holder.id, holder.account, holder.nameSealed, holder.idType, holder.idSealed, holder.nameMasked, holder.idMasked,
                    StoredTime.millis(holder.createdAt),
                ])
            return true
        }
    }

    public func visitorHolders(_ account: String) async throws -> [VisitorHolderRecord] {
        try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT * FROM visitor_holders WHERE account = ? ORDER BY created_at, id", arguments: [account]).map {
                VisitorHolderRecord(
                    id: $0["id"], account: $0["account"], nameSealed: $0["name_sealed"], idType: $0["id_type"], idSealed: $0["id_sealed"],
                    nameMasked: $0["name_masked"], idMasked: $0["id_masked"], createdAt: StoredTime.date($0["created_at"] as Int64))
            }
        }
    }

    public func removeVisitorHolder(_ id: String, account: String) async throws -> Bool {
        try await database.write { db in
            try await db.execute(sql: "DELETE FROM visitor_holders WHERE id = ? AND account = ?", arguments: [id, account]) == 1
        }
    }
}
