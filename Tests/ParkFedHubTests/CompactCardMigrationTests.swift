import Foundation
import Logging
import ParkFedDomain
import ParkFedHub
import ParkFedTesting
import Testing

@testable import ParkFedStore

/// v28 stores the card's state as compact records: a hub upgraded from v27 reads every card and authorisation it
/// stored as JSON exactly as before, and keeps no JSON column behind (on SQLite and on PostgreSQL).
@Suite struct CompactCardMigrationTests {
    @Test func cardsStoredAsJSONBeforeV28ReadTheSameAfterTheUpgrade() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let url = try await TestStore.newDatabase()
        let database = try HubDatabase.open(url, sqliteFile: scratch.file("hub.sqlite"), logger: Logger(label: "test"))
        try await database.migrate(Array(HubStore.migrator.migrations.prefix { $0.name != "v28-compact-cards" }))

        // Two cards as v27 wrote them: the card's JSON without authorisations, each authorisation's JSON in its row.
        let (p1, p2) = (try ParkID("P001"), try ParkID("P002"))
        let now = Date(timeIntervalSince1970: 1_790_000_000.25)
        var card = CardAccount(id: "C1")
        _ = try card.load(loadID: "L1", park: p1, principal: 10_000, bonus: 2_000, ratio: .init(principal: 8, bonus: 2))
        try card.present(counter: 9)
        _ = try card.hold(requestID: "R1", park: p2, amount: 1_000, now: now, lifetime: 300)
        _ = try card.capture(requestID: "R1", park: p2, now: now)
        _ = try card.refund(requestID: "R1", refundID: "F1", park: p2, amount: 100)
        _ = try card.hold(requestID: "R2", park: p2, amount: 500, now: now, lifetime: 300)
        var blocked = CardAccount(id: "C2")
        blocked.block()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await database.write { db in
            for account in [card, blocked] {
                var core = account
                core.authorisations = [:]
                try await db.execute(
                    sql: "INSERT INTO cards (id, kind, registered_by, member_id, state, updated_at) VALUES (?, 'ic', 'P001', NULL, ?, 0)",
                    arguments: [account.id, String(decoding: try encoder.encode(core), as: UTF8.self)])
                for authorisation in account.authorisations.values {
                    try await db.execute(
                        sql: "INSERT INTO card_authorisations (card_id, request_id, state, body) VALUES (?, ?, ?, ?)",
                        arguments: [
                            account.id, authorisation.requestID, authorisation.state.rawValue,
                            String(decoding: try encoder.encode(authorisation), as: UTF8.self),
                        ])
                }
            }
        }

        let store = try await HubStore(database: database)
        #expect(try await store.card("C1", request: "R1")?.account == card)
        #expect(try await store.card("C1")?.account.authorisations.keys.sorted() == ["R2"], "only open holds are read without a request")
        #expect(try await store.card("C2")?.account == blocked)
        #expect(try await store.authorisations(card: "C1") == card.authorisations.values.sorted { $0.requestID < $1.requestID })
        // The JSON columns are gone; the upgraded card takes operations as any other.
        let columns = try await database.read { db in
            try await SQLRow.fetchAll(db, sql: "SELECT * FROM cards WHERE id = 'C1'").first?.columns ?? []
        }
        #expect(columns.contains("core") && !columns.contains("state"), "\(columns)")
        let (_, effect, _) = try await store.updateCard("C1", request: "R2", now: now) { account, _ in
            (try account.capture(requestID: "R2", park: p2, now: now), ())
        }
        #expect(effect.obligations.map(\.amountMinor) == [500])
        #expect(try await store.card("C1")?.account.principalBalance == card.principalBalance - 400)
        await store.close()
        if let url { await TestStore.dropDatabase(url) }
    }
}
