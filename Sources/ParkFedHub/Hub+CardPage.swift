import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// A card holder's own balance page (`/c/<card>/<counter>/<cryptogram>`): opened only with the card's own proof, a
/// cryptogram of operation `balance` (amount 0, park `hub`, request id `balance`) that only the card (or its app)
/// and the hub can make. The counter is taken as for any card-present operation, so each link opens once: a link
/// left in a browser's history, or guessed, shows nothing.
extension Hub {
    /// What the balance page shows.
    public struct CardPage: Sendable {
        public enum State: String, Sendable { case shown, used }
        public var state: State
        public var cardID: String
        public var status: String
        public var currency: String
        public var principalMinor: Int64
        public var bonusMinor: Int64
        public var heldMinor: Int64
        public var availableMinor: Int64
        public var registeredBy: String
    }

    /// The park name of the cryptogram: the hub itself (the page is the hub's).
    public static let cardPagePark = "hub"
    public static let cardPageRequest = "balance"

    public static func cardPagePath(cardID: String, counter: Int64, cryptogram: String) -> String { "/c/\(cardID)/\(counter)/\(cryptogram)" }

    /// The page of a card link; nil when the link is not the card's (unknown card, malformed, wrong cryptogram): the
    /// page then says only that. A link whose counter was already taken says it was used, and shows no balance.
    public func cardPage(cardID: String, counter text: String, cryptogram: String, now: Date = Date()) async throws -> CardPage? {
        guard (try? Check.identifier(cardID, "card")) != nil, let counter = Int64(text), counter > 0, counter < Int64(1) << 53 else { return nil }
        let key = CardCryptogram.cardKey(issuerKey: cardIssuerKey, cardID: cardID)
        guard
            CardCryptogram.verify(
                cryptogram, key: key, .balance, cardID: cardID, counter: counter, amountMinor: 0, park: Self.cardPagePark, requestID: Self.cardPageRequest),
            try await store.card(cardID) != nil
        else { return nil }
        let state: CardPage.State
        let record: CardRecord
        do {
            (record, _, _) = try await Self.cardCall {
                try await store.updateCard(cardID, now: now) { account, _ in
                    try account.present(counter: counter)
                    return (CardEffect(), ())
                }
            }
            state = .shown
        } catch let refusal as Refusal where refusal.code == "card_not_present" {
            guard let current = try await store.card(cardID) else { return nil }
            record = current
            state = .used
        }
        let view = Self.view(record)
        return CardPage(
            state: state, cardID: cardID, status: view.status, currency: view.currency, principalMinor: view.principalMinor, bonusMinor: view.bonusMinor,
            heldMinor: view.heldMinor, availableMinor: view.availableMinor, registeredBy: record.registeredBy.rawValue)
    }
}
