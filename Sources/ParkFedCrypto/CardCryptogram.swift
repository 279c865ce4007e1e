import Crypto
import Foundation

/// Card-present proof for the one-card (一卡通), as an EMV card's ARQC or a PBOC/T-Union e-purse's TAC works.
///
/// Every card has its own 32-byte key, diversified from the federation's card-issuer master key that only the hub
/// holds: `K_card = HMAC-SHA256(K_issuer, "parkfed-card-key-v1|" + card id)`. The key is written into the card (IC
/// card, wristband) or the holder's app (virtual card) when the card is registered, and never leaves it again. For
/// every operation that spends or moves value the card computes a cryptogram over what it is asked to authorise:
///
///     message    = "parkfed-card-v1" LF operation LF card id LF counter LF amount (minor units) LF park LF request id
///     cryptogram = base64url(first 16 bytes of HMAC-SHA256(K_card, message))
///
/// `counter` is the card's application transaction counter: it increases by at least one for every cryptogram, and
/// the hub refuses one that is not above the highest it has accepted (a replay). Only the card and the hub can make
/// a cryptogram, so no park can spend, refund or move a card that is not in front of it.
public enum CardCryptogram {
    /// What a cryptogram authorises.
    public enum Operation: String, Sendable, CaseIterable {
        /// A hold (spend authorisation) of `amount` at `park`.
        case hold
        /// A refund of `amount` onto the card, at the spending park.
        case refund
        /// Moving the whole balance of a damaged card to its replacement (amount 0).
        case move
        /// Showing the card to be recognised as its member's (amount 0).
        case identify
        /// Opening the holder's own balance page (amount 0, park `hub`, request id `balance`): the app or a
        /// reader makes a fresh link each time, and a link opens once.
        case balance
    }

    /// The card's own key, diversified from the issuer master key.
    public static func cardKey(issuerKey: SymmetricKey, cardID: String) -> SymmetricKey {
        SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data("parkfed-card-key-v1|\(cardID)".utf8), using: issuerKey)))
    }

    /// The exact bytes the card authenticates.
    public static func message(_ operation: Operation, cardID: String, counter: Int64, amountMinor: Int64, park: String, requestID: String) -> Data {
        Data(["parkfed-card-v1", operation.rawValue, cardID, String(counter), String(amountMinor), park, requestID].joined(separator: "\n").utf8)
    }

    /// The cryptogram a card with `key` computes.
    public static func compute(
        key: SymmetricKey, _ operation: Operation, cardID: String, counter: Int64, amountMinor: Int64, park: String,
        requestID: String
    ) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: message(operation, cardID: cardID, counter: counter, amountMinor: amountMinor, park: park, requestID: requestID), using: key)
        return Base64URL.encode(Data(mac).prefix(16))
    }

    /// Whether `cryptogram` is the one the card with `key` computes for these fields (constant-time comparison).
    public static func verify(
        _ cryptogram: String, key: SymmetricKey, _ operation: Operation, cardID: String, counter: Int64, amountMinor: Int64,
        park: String, requestID: String
    ) -> Bool {
        guard cryptogram.utf8.count == 22, let given = Base64URL.decode(cryptogram), given.count == 16 else { return false }
        let expected = Data(
            HMAC<SHA256>.authenticationCode(
                for: message(operation, cardID: cardID, counter: counter, amountMinor: amountMinor, park: park, requestID: requestID), using: key)
        ).prefix(16)
        return zip(expected, given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
