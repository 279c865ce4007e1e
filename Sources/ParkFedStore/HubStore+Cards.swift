import Foundation
import ParkFedDomain

/// A promotion a park offers on loads: pay X, get Y bonus, optionally its own deduction ratio.
public struct PromotionRecord: Sendable, Hashable, Codable {
    public var id: String
    public var park: ParkID
    public var payMinor: Int64
    public var bonusMinor: Int64
    public var ratio: StoredValueSplit.Ratio?
    public var bonusOwedByLoader: Bool
    public var currency: String

    public init(id: String, park: ParkID, payMinor: Int64, bonusMinor: Int64, ratio: StoredValueSplit.Ratio?, bonusOwedByLoader: Bool, currency: String) {
        self.id = id
        self.park = park
        self.payMinor = payMinor
        self.bonusMinor = bonusMinor
        self.ratio = ratio
        self.bonusOwedByLoader = bonusOwedByLoader
        self.currency = currency
    }
}

/// A card as stored: who registered it, and its domain state.
public struct CardRecord: Sendable, Hashable {
    public var account: CardAccount
    public var kind: String
    public var registeredBy: ParkID
    public var memberID: String?
}

/// One line of a card statement.
public struct StatementLine: Sendable, Hashable, Codable {
    public var transaction: String
    public var account: String
    public var debit: Int64
    public var credit: Int64
    public var at: Date
}

extension HubStore {
    public func upsertPromotion(_ promotion: PromotionRecord) async throws {
        try await database.write { db in
            try await db.execute(
                sql: """
                    INSERT INTO promotions (id, park_id, pay_minor, bonus_minor, ratio_principal, ratio_bonus, bonus_owed_by_loader, currency)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET park_id = excluded.park_id, pay_minor = excluded.pay_minor, bonus_minor = excluded.bonus_minor,
                        ratio_principal = excluded.ratio_principal, ratio_bonus = excluded.ratio_bonus,
                        bonus_owed_by_loader = excluded.bonus_owed_by_loader, currency = excluded.currency
                    """,
                arguments: [
                    promotion.id, promotion.park.rawValue, promotion.payMinor, promotion.bonusMinor, promotion.ratio?.principal,
                    promotion.ratio?.bonus, promotion.bonusOwedByLoader, promotion.currency,
                ])
        }
    }

    public func promotion(_ id: String) async throws -> PromotionRecord? {
        try await database.read { db in
            try await SQLRow.fetchOne(db, sql: "SELECT * FROM promotions WHERE id = ?", arguments: [id]).map { row in
                let ratio: StoredValueSplit.Ratio? =
                    if let principal = row["ratio_principal"] as Int64?, let bonus = row["ratio_bonus"] as Int64? {
                        try StoredValueSplit.Ratio(principal: principal, bonus: bonus)
                    } else { nil }
                return PromotionRecord(
                    id: row["id"], park: try ParkID(row["park_id"] as String), payMinor: row["pay_minor"], bonusMinor: row["bonus_minor"],
                    ratio: ratio, bonusOwedByLoader: row["bonus_owed_by_loader"], currency: row["currency"])
            }
        }
    }

    /// Registers a card; registering the same card again by the same park is a no-op. Returns the stored card.
    public func registerCard(id: String, kind: String, park: ParkID, memberID: String?, now: Date) async throws -> CardRecord {
        try await database.write(entities: [Self.cardEntity(id)]) { db in
            if let existing = try await Self.card(id, db) {
                guard existing.registeredBy == park, existing.kind == kind else {
                    throw StoreError(.cardConflict, "card \(id) is already registered")
                }
                return existing
            }
            let account = CardAccount(id: id)
            try await db.execute(
                sql: "INSERT INTO cards (id, kind, registered_by, member_id, core, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, kind, park.rawValue, memberID, Data(account.compactCore()), StoredTime.millis(now)])
            return CardRecord(account: account, kind: kind, registeredBy: park, memberID: memberID)
        }
    }

    /// A card with its lots and open holds (and `request`'s authorisation, when given).
    public func card(_ id: String, request: String? = nil) async throws -> CardRecord? {
        try await database.read { db in try await Self.card(id, request: request, db) }
    }

    /// Every authorisation of a card, open or not (for audits and tests; operations never need them all).
    public func authorisations(card id: String) async throws -> [CardAccount.Authorisation] {
        try await database.read { db in
            try await Data.fetchAll(db, sql: "SELECT record FROM card_authorisations WHERE card_id = ? ORDER BY request_id", arguments: [id]).map {
                try CardAccount.Authorisation(compact: $0)
            }
        }
    }

    /// The entity a card's writes lock (``SQLDatabase/write(entities:_:)``): its row and its authorisations are
    /// written only under it; what else a card operation writes are appended rows (ledger lines, obligations) and
    /// running totals, which commute. Closing a day takes the whole database, so an obligation never lands in a
    /// day being closed.
    static func cardEntity(_ id: String) -> String { "card:\(id)" }

    /// Runs one operation on a card in one write transaction: reads its state, applies `operation`, checks the
    /// card's invariants, stores the new state, and records the ledger postings and obligations the operation made.
    /// SQLite serialises writers, so two parks spending one card can never both take the last of it.
    /// A thrown error rolls everything back.
    public func updateCard<T: Sendable>(
        _ id: String, request: String? = nil, now: Date,
        _ operation: @Sendable (inout CardAccount, CardRecord) throws -> (CardEffect, T)
    ) async throws -> (CardRecord, CardEffect, T) {
        let day = businessDay(now)
        return try await database.write(entities: [Self.cardEntity(id)]) { db in
            guard var record = try await Self.card(id, request: request, db) else { throw StoreError(.notFound, "no card \(id)") }
            var account = record.account
            let (effect, value) = try operation(&account, record)
            try account.checkInvariants()
            record.account = account
            try await Self.save(account, now: now, db)
            try await Self.record(effect, now: now, day: day, fees: feeBasisPoints, db)
            return (record, effect, value)
        }
    }

    /// Runs an operation on two cards at once (moving a lost card's balance).
    public func updateCards(
        _ first: String, _ second: String, now: Date,
        _ operation: @Sendable (inout CardAccount, inout CardAccount) throws -> CardEffect
    ) async throws -> CardEffect {
        let day = businessDay(now)
        return try await database.write(entities: [Self.cardEntity(first), Self.cardEntity(second)]) { db in
            guard let a = try await Self.card(first, request: nil, db), let b = try await Self.card(second, request: nil, db) else {
                throw StoreError(.notFound, "no such card")
            }
            var one = a.account, two = b.account
            let effect = try operation(&one, &two)
            try one.checkInvariants()
            try two.checkInvariants()
            for account in [one, two] { try await Self.save(account, now: now, db) }
            try await Self.record(effect, now: now, day: day, fees: feeBasisPoints, db)
            return effect
        }
    }

    static func record(_ effect: CardEffect, now: Date, day: CivilDay, fees: Int64, _ db: any SQLConnection) async throws {
        let at = StoredTime.millis(now)
        // Every line in one statement: one round trip on a server, however many lines the operation made.
        let values = effect.transactions.flatMap { transaction in
            transaction.postings.flatMap { line in ([transaction.reference, line.account, line.debit, line.credit, at] as SQLArguments).values }
        }
        try await db.insertRows(into: "ledger_postings", columns: ["txn", "account", "debit", "credit", "at"], values: values)
        for item in effect.obligations { try await Self.recordObligation(item, assertionID: nil, at: now, day: day, feeBasisPoints: fees, db) }
    }

    /// The ledger lines of a card's accounts, oldest first.
    public func statement(card id: String) async throws -> [StatementLine] {
        try await database.read { db in
            try await SQLRow.fetchAll(
                db, sql: "SELECT * FROM ledger_postings WHERE account IN (?, ?) ORDER BY seq",
                arguments: [LedgerAccount.cardPrincipal(id), LedgerAccount.cardBonus(id)]
            ).map { row in
                StatementLine(
                    transaction: row["txn"], account: row["account"], debit: row["debit"], credit: row["credit"],
                    at: StoredTime.date(row["at"] as Int64))
            }
        }
    }

    /// Total debits and credits of the whole ledger, and each account's balance (credits − debits).
    public func ledgerTotals() async throws -> (debits: Int64, credits: Int64, balances: [String: Int64]) {
        try await database.read { db in
            var balances: [String: Int64] = [:]
            var debits: Int64 = 0, credits: Int64 = 0
            for row in try await SQLRow.fetchAll(db, sql: "SELECT account, SUM(debit) AS d, SUM(credit) AS c FROM ledger_postings GROUP BY account") {
                let d: Int64 = row["d"], c: Int64 = row["c"]
                debits += d
                credits += c
                balances[row["account"]] = c - d
            }
            return (debits, credits, balances)
        }
    }

    /// Every obligation not yet in a settlement batch.
    /// Obligations of the days not closed yet (the next batch's), in order.
    public func unsettledObligations() async throws -> [Obligation] {
        try await database.read { db in
            let closed = try await Self.lastClosedDay(db)?.description ?? ""
            return try await SQLRow.fetchAll(db, sql: "SELECT * FROM obligations WHERE period > ? ORDER BY seq", arguments: [closed]).map { row in
                Obligation(
                    from: try ParkID(row["from_park"] as String), to: try ParkID(row["to_park"] as String),
                    amountMinor: row["amount_minor"], reason: row["reason"], reference: row["reference"])
            }
        }
    }

    static func card(_ id: String, _ db: any SQLConnection) async throws -> CardRecord? {
        try await card(id, request: nil, db)
    }

    /// The card's row, its open holds and `request`'s authorisation, in one statement (one round trip on a server).
    static func card(_ id: String, request: String?, _ db: any SQLConnection) async throws -> CardRecord? {
        let rows = try await SQLRow.fetchAll(
            db,
            sql: """
                SELECT c.kind, c.registered_by, c.member_id, c.core, a.record FROM cards c
                LEFT JOIN (
                    SELECT card_id, record FROM card_authorisations WHERE card_id = ? AND state = 'held'
                    UNION ALL
                    SELECT card_id, record FROM card_authorisations WHERE card_id = ? AND request_id = ? AND state <> 'held'
                ) a ON a.card_id = c.id
                WHERE c.id = ?
                """, arguments: [id, id, request, id])
        guard let first = rows.first else { return nil }
        var account = try CardAccount(compactCore: first["core"] as Data)
        for row in rows {
            guard let record = row["record"] as Data? else { continue }
            let authorisation = try CardAccount.Authorisation(compact: record)
            account.authorisations[authorisation.requestID] = authorisation
        }
        return CardRecord(
            account: account, kind: first["kind"], registeredBy: try ParkID(first["registered_by"] as String), memberID: first["member_id"])
    }

    /// Writes the card's lots and status, and every authorisation it holds in memory (its open holds and the one
    /// the operation was about), each in its own row.
    static func save(_ account: CardAccount, now: Date, _ db: any SQLConnection) async throws {
        try await db.execute(
            sql: "UPDATE cards SET core = ?, updated_at = ? WHERE id = ?", arguments: [Data(account.compactCore()), StoredTime.millis(now), account.id])
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO card_authorisations (card_id, request_id, state, record) VALUES (?, ?, ?, ?)
                ON CONFLICT(card_id, request_id) DO UPDATE SET state = excluded.state, record = excluded.record
                """)
        for authorisation in account.authorisations.values {
            try await upsert.execute(arguments: [account.id, authorisation.requestID, authorisation.state.rawValue, Data(authorisation.compact())])
        }
    }

    /// v28: the card's state and its authorisations as compact records (``CardAccount/compactCore()``) instead of
    /// JSON documents; every stored card and authorisation is converted, and the JSON columns dropped.
    static func registerCompactCardMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v28-compact-cards") { db in
            try await db.schema(
                sqlite: "ALTER TABLE cards ADD COLUMN core BLOB; ALTER TABLE card_authorisations ADD COLUMN record BLOB;",
                postgres: "ALTER TABLE cards ADD COLUMN core BYTEA; ALTER TABLE card_authorisations ADD COLUMN record BYTEA;")
            for row in try await SQLRow.fetchAll(db, sql: "SELECT id, state FROM cards") {
                var account = try JSONDecoder().decode(CardAccount.self, from: Data((row["state"] as String).utf8))
                account.authorisations = [:]
                try await db.execute(sql: "UPDATE cards SET core = ? WHERE id = ?", arguments: [Data(account.compactCore()), row["id"] as String])
            }
            for row in try await SQLRow.fetchAll(db, sql: "SELECT card_id, request_id, body FROM card_authorisations") {
                let authorisation = try JSONDecoder().decode(CardAccount.Authorisation.self, from: Data((row["body"] as String).utf8))
                try await db.execute(
                    sql: "UPDATE card_authorisations SET record = ? WHERE card_id = ? AND request_id = ?",
                    arguments: [Data(authorisation.compact()), row["card_id"] as String, row["request_id"] as String])
            }
            try await db.schema(
                sqlite: "ALTER TABLE cards DROP COLUMN state; ALTER TABLE card_authorisations DROP COLUMN body;",
                postgres: """
                    ALTER TABLE cards DROP COLUMN state; ALTER TABLE card_authorisations DROP COLUMN body;
                    ALTER TABLE cards ALTER COLUMN core SET NOT NULL; ALTER TABLE card_authorisations ALTER COLUMN record SET NOT NULL;
                    """)
        }
    }
}
