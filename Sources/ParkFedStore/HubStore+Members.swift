import Foundation
import ParkFedDomain

/// A federation member as stored: personal fields sealed (field key ring), a blind index of the document, masked forms.
public struct MemberRecord: Sendable, Hashable {
    public var id: String
    public var idType: String
    public var idIndex: String
    public var idSealed: String
    public var nameSealed: String
    public var phoneSealed: String
    public var idMasked: String
    public var nameMasked: String
    public var phoneMasked: String
    public var consentVersion: String
    public var consentedAt: Date
    public var enrolledBy: String
    /// Bumped by each re-issue of the member's code secret (a lost phone); 0 for a new member.
    public var codeGeneration: Int

    public init(
        id: String, idType: String, idIndex: String, idSealed: String, nameSealed: String, phoneSealed: String, idMasked: String,
        nameMasked: String, phoneMasked: String, consentVersion: String, consentedAt: Date, enrolledBy: String, codeGeneration: Int = 0
    ) {
        self.codeGeneration = codeGeneration
        self.id = id
        self.idType = idType
        self.idIndex = idIndex
        self.idSealed = idSealed
        self.nameSealed = nameSealed
        self.phoneSealed = phoneSealed
        self.idMasked = idMasked
        self.nameMasked = nameMasked
        self.phoneMasked = phoneMasked
        self.consentVersion = consentVersion
        self.consentedAt = consentedAt
        self.enrolledBy = enrolledBy
    }
}

extension HubStore {
    static func registerMemberMigrations(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v9-members") { db in
            try await db.schema(
                sqlite: """
                    CREATE TABLE members (
                        id TEXT PRIMARY KEY,
                        id_type TEXT NOT NULL,
                        id_index TEXT NOT NULL UNIQUE,
                        id_sealed TEXT NOT NULL,
                        name_sealed TEXT NOT NULL,
                        phone_sealed TEXT NOT NULL,
                        id_masked TEXT NOT NULL,
                        name_masked TEXT NOT NULL,
                        phone_masked TEXT NOT NULL,
                        consent_version TEXT NOT NULL,
                        consented_at INTEGER NOT NULL,
                        enrolled_by TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE member_links (
                        member_id TEXT NOT NULL REFERENCES members(id),
                        park TEXT NOT NULL,
                        local_number TEXT NOT NULL,
                        linked_at INTEGER NOT NULL,
                        PRIMARY KEY (park, local_number)
                    );
                    CREATE INDEX member_links_by_member ON member_links(member_id, park);
                    CREATE TABLE member_code_uses (
                        member_id TEXT NOT NULL,
                        step INTEGER NOT NULL,
                        park TEXT NOT NULL,
                        used_at INTEGER NOT NULL,
                        PRIMARY KEY (member_id, step)
                    );
                    """,
                postgres: """
                    CREATE TABLE members (
                        id TEXT PRIMARY KEY,
                        id_type TEXT NOT NULL,
                        id_index TEXT NOT NULL UNIQUE,
                        id_sealed TEXT NOT NULL,
                        name_sealed TEXT NOT NULL,
                        phone_sealed TEXT NOT NULL,
                        id_masked TEXT NOT NULL,
                        name_masked TEXT NOT NULL,
                        phone_masked TEXT NOT NULL,
                        consent_version TEXT NOT NULL,
                        consented_at BIGINT NOT NULL,
                        enrolled_by TEXT NOT NULL,
                        created_at BIGINT NOT NULL
                    );
                    CREATE TABLE member_links (
                        member_id TEXT NOT NULL REFERENCES members(id),
                        park TEXT NOT NULL,
                        local_number TEXT NOT NULL,
                        linked_at BIGINT NOT NULL,
                        PRIMARY KEY (park, local_number)
                    );
                    CREATE INDEX member_links_by_member ON member_links(member_id, park);
                    CREATE TABLE member_code_uses (
                        member_id TEXT NOT NULL,
                        step BIGINT NOT NULL,
                        park TEXT NOT NULL,
                        used_at BIGINT NOT NULL,
                        PRIMARY KEY (member_id, step)
                    );
                    """)
        }
    }

    /// Enrolls a member once: an existing member with the same document index is returned instead (`existing`).
    /// Enrolls a new member, or finds the member the document already belongs to (`existing`). A new member's
    /// `localNumber` at the enrolling park is linked in the same transaction, and a number already linked to someone
    /// else refuses the whole enrollment (`memberConflict`) before anything is written. An existing member is not
    /// linked here: that needs the member's code, which the caller checks first.
    public func enrollMember(_ member: MemberRecord, linking localNumber: String? = nil, now: Date) async throws -> (MemberRecord, existing: Bool) {
        try await database.write { db in
            if let row = try await SQLRow.fetchOne(db, sql: "SELECT * FROM members WHERE id_index = ?", arguments: [member.idIndex]) {
                return (Self.member(row), true)
            }
            if let localNumber {
                if try await String.fetchOne(
                    db, sql: "SELECT member_id FROM member_links WHERE park = ? AND local_number = ?",
                    arguments: [member.enrolledBy, localNumber]) != nil
                {
                    throw StoreError(.memberConflict, "\(member.enrolledBy)'s number \(localNumber) is linked to another member")
                }
            }
            try await db.execute(
                sql: """
                    INSERT INTO members (id, id_type, id_index, id_sealed, name_sealed, phone_sealed, id_masked, name_masked, phone_masked,
                        consent_version, consented_at, enrolled_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    member.id, member.idType, member.idIndex, member.idSealed, member.nameSealed, member.phoneSealed, member.idMasked,
                    member.nameMasked, member.phoneMasked, member.consentVersion, StoredTime.millis(member.consentedAt),
                    member.enrolledBy, StoredTime.millis(now),
                ])
            if let localNumber {
                try await db.execute(
                    sql: "INSERT INTO member_links (member_id, park, local_number, linked_at) VALUES (?, ?, ?, ?)",
                    arguments: [member.id, member.enrolledBy, localNumber, StoredTime.millis(now)])
            }
            return (member, false)
        }
    }

    public func member(_ id: String) async throws -> MemberRecord? {
        try await database.read { db in try await SQLRow.fetchOne(db, sql: "SELECT * FROM members WHERE id = ?", arguments: [id]).map(Self.member) }
    }

    /// Links a park's local member number; a number already linked to another member is refused.
    public func linkMember(_ id: String, park: String, localNumber: String, now: Date) async throws {
        try await database.write { db in
            guard try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM members WHERE id = ?", arguments: [id]) == 1 else {
                throw StoreError(.notFound, "no member \(id)")
            }
            if let other = try await String.fetchOne(
                db, sql: "SELECT member_id FROM member_links WHERE park = ? AND local_number = ?", arguments: [park, localNumber])
            {
                guard other == id else { throw StoreError(.memberConflict, "\(park)'s number \(localNumber) is linked to another member") }
                return
            }
            try await db.execute(
                sql: "INSERT INTO member_links (member_id, park, local_number, linked_at) VALUES (?, ?, ?, ?)",
                arguments: [id, park, localNumber, StoredTime.millis(now)])
        }
    }

    /// Records the use of a member code step; false when that step was already used (a replayed screenshot).
    public func useMemberCode(_ id: String, step: Int64, park: String, now: Date) async throws -> Bool {
        try await database.write { db in
            try await db.execute(
                sql: "INSERT INTO member_code_uses (member_id, step, park, used_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [id, step, park, StoredTime.millis(now)]) == 1
        }
    }

    public func memberLinks(_ id: String, park: String) async throws -> [String] {
        try await database.read { db in
            try await String.fetchAll(
                db, sql: "SELECT local_number FROM member_links WHERE member_id = ? AND park = ? ORDER BY local_number", arguments: [id, park])
        }
    }

    static func member(_ row: SQLRow) -> MemberRecord {
        MemberRecord(
            id: row["id"], idType: row["id_type"], idIndex: row["id_index"], idSealed: row["id_sealed"], nameSealed: row["name_sealed"],
            phoneSealed: row["phone_sealed"], idMasked: row["id_masked"], nameMasked: row["name_masked"], phoneMasked: row["phone_masked"],
            consentVersion: row["consent_version"], consentedAt: StoredTime.date(row["consented_at"] as Int64), enrolledBy: row["enrolled_by"],
            codeGeneration: row["code_generation"])
    }

    /// Member codes can be re-issued (a lost phone): each re-issue starts a new code generation, whose secret the
    /// hub derives afresh, so every code of the older secret stops working.
    static func registerMemberCodeMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v12-member-code-generation") { db in
            try await db.schema(
                sqlite: "ALTER TABLE members ADD COLUMN code_generation INTEGER NOT NULL DEFAULT 0",
                postgres: "ALTER TABLE members ADD COLUMN code_generation BIGINT NOT NULL DEFAULT 0")
        }
    }

    /// Starts the member's next code generation; returns it.
    public func nextMemberCodeGeneration(_ id: String) async throws -> Int {
        try await database.write { db in
            guard try await db.execute(sql: "UPDATE members SET code_generation = code_generation + 1 WHERE id = ?", arguments: [id]) == 1 else {
                throw StoreError(.notFound, "no member \(id)")
            }
            return try await Int.fetchOne(db, sql: "SELECT code_generation FROM members WHERE id = ?", arguments: [id]) ?? 0
        }
    }
}
