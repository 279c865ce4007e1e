import Crypto
import Foundation

/// Encryption of personal fields at rest (ID numbers, phones) with AES-256-GCM, and keyed blind indexes for exact
/// lookups without decrypting.
///
/// A sealed field is `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`: the key id names the key in the key ring so
/// that keys can be rotated (old fields stay readable; new ones use the current key). The key ring lives outside the
/// database file. The field's purpose (e.g. `member.id_number`) is bound as associated data, so a value sealed for
/// one column cannot be moved into another.
public struct FieldKeyRing: Sendable {
    public struct Key: Sendable {
        public let id: String
        let key: SymmetricKey

        public init(id: String, rawRepresentation: Data) throws(CryptoError) {
            guard rawRepresentation.count == 32, (1...32).contains(id.utf8.count), id.utf8.allSatisfy({ $0 != UInt8(ascii: ".") }) else {
                throw CryptoError(.malformedKey, "a field key is 32 bytes with a 1-32 character id without '.'")
            }
            self.id = id
            key = SymmetricKey(data: rawRepresentation)
        }

        public static func generate(id: String) throws(CryptoError) -> Key {
            try Key(id: id, rawRepresentation: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
        }
    }

    /// The key new fields are sealed with.
    public let current: Key
    let all: [String: Key]
    /// The key of blind indexes (HMAC-SHA256); it does not rotate with the encryption keys, or lookups would break.
    let indexKey: SymmetricKey

    public init(current: Key, previous: [Key] = [], indexKey: Data) throws(CryptoError) {
        guard indexKey.count == 32 else { throw CryptoError(.malformedKey, "the blind-index key is 32 bytes") }
        var all = Dictionary(previous.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        all[current.id] = current
        self.current = current
        self.all = all
        self.indexKey = SymmetricKey(data: indexKey)
    }

    /// Seals `plaintext` for `purpose` with the current key.
    public func seal(_ plaintext: String, purpose: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: current.key, authenticating: Data(purpose.utf8))
        guard let combined = box.combined else { throw CryptoError(.malformedKey, "AES-GCM produced no combined form") }
        return "v1.\(current.id).\(Base64URL.encode(combined))"
    }

    /// Opens a sealed field; fails for an unknown key id, another purpose, or any changed byte.
    public func open(_ sealed: String, purpose: String) throws -> String {
        let parts = sealed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let key = all[String(parts[1])], let combined = Base64URL.decode(parts[2]) else {
            throw CryptoError(.unknownKey, "not a sealed field of a known key")
        }
        let box = try AES.GCM.SealedBox(combined: combined)
        let plaintext = try AES.GCM.open(box, using: key.key, authenticating: Data(purpose.utf8))
        return String(decoding: plaintext, as: UTF8.self)
    }

    /// A keyed, deterministic digest for exact lookups (`purpose` separates columns): base64url HMAC-SHA256.
    public func blindIndex(_ value: String, purpose: String) -> String {
        var mac = HMAC<SHA256>(key: indexKey)
        mac.update(data: Data(purpose.utf8))
        mac.update(data: [0])
        mac.update(data: Data(value.utf8))
        return Base64URL.encode(Data(mac.finalize()))
    }
}
