import Crypto
import Foundation

/// Real-name data sealed by a park to the hub (HPKE, RFC 9180: X25519, HKDF-SHA256, ChaCha20-Poly1305), so that it
/// can travel inside an assertion that other parks and the log see: only the hub, holding the private key, reads it.
/// The sealed form is `h1.<base64url encapsulated key>.<base64url ciphertext>`.
public enum HolderSealing {
    static let suite = HPKE.Ciphersuite.Curve25519_SHA256_ChachaPoly
    static let info = Data("parkfed holder v1".utf8)

    /// Seals `plaintext` to the hub's public key (raw 32 bytes, base64url); `purpose` is bound as associated data.
    public static func seal(_ plaintext: Data, to publicKey: String, purpose: String) throws -> String {
        guard let raw = Base64URL.decode(publicKey) else { throw CryptoError(.malformedKey, "the hub's sealing key is not base64url") }
        let key = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw)
        var sender = try HPKE.Sender(recipientKey: key, ciphersuite: suite, info: info)
        let ciphertext = try sender.seal(plaintext, authenticating: Data(purpose.utf8))
        return "h1." + Base64URL.encode(sender.encapsulatedKey) + "." + Base64URL.encode(ciphertext)
    }

    /// Opens a sealed value with the hub's private key; fails on any changed byte or another purpose.
    public static func open(_ sealed: String, with privateKey: Curve25519.KeyAgreement.PrivateKey, purpose: String) throws -> Data {
        let parts = sealed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "h1", let encapsulated = Base64URL.decode(parts[1]), let ciphertext = Base64URL.decode(parts[2]) else {
            throw CryptoError(.malformedSealed, "not a sealed holder value")
        }
        var recipient = try HPKE.Recipient(privateKey: privateKey, ciphersuite: suite, info: info, encapsulatedKey: encapsulated)
        return try recipient.open(ciphertext, authenticating: Data(purpose.utf8))
    }
}
