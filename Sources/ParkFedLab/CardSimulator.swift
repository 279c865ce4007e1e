import Crypto
import Foundation
import NIOConcurrencyHelpers
import ParkFedCrypto
import ParkFedProtocol

/// A one-card as a card computes: it holds its own key (written at registration from the hub's `card_key`) and a
/// transaction counter that goes up by one for every cryptogram (`CardCryptogram`). Tests, the demo and the
/// benchmarks spend cards through it, as a park's card reader would through a real card.
public final class SimulatedCard: Sendable {
    public let id: String
    let key: SymmetricKey
    private let counter: NIOLockedValueBox<Int64>

    /// A card personalised with the key the hub answered when the card was registered.
    public init(id: String, cardKey: String, counter: Int64 = 0) throws {
        guard let bytes = Base64URL.decode(cardKey), bytes.count == 32 else { throw WireError("card_key is 32 bytes in base64url") }
        self.id = id
        self.key = SymmetricKey(data: bytes)
        self.counter = NIOLockedValueBox(counter)
    }

    /// A card from a registration's answer.
    public convenience init(_ view: CardView) throws {
        guard let key = view.cardKey else { throw WireError("the registration answered no card_key") }
        try self.init(id: view.cardID, cardKey: key)
    }

    /// What the card answers a reader at `park` asking it to authorise `operation`.
    public func proof(_ operation: CardCryptogram.Operation, amountMinor: Int64 = 0, park: String, requestID: String) -> CardProof {
        let next = counter.withLockedValue { value -> Int64 in
            value += 1
            return value
        }
        return CardProof(
            counter: next,
            cryptogram: CardCryptogram.compute(
                key: key, operation, cardID: id, counter: next, amountMinor: amountMinor,
                park: park, requestID: requestID))
    }
}
