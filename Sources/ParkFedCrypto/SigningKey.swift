import Crypto
import Foundation

/// An Ed25519 public key that verifies federation signatures (park assertions, hub trust lists).
public struct VerifyingKey: Hashable, Sendable {
    public let rawRepresentation: Data

    public init(rawRepresentation: Data) throws(CryptoError) {
        guard rawRepresentation.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)) != nil else {
            throw CryptoError(.malformedKey, "an Ed25519 public key is 32 bytes")
        }
        self.rawRepresentation = rawRepresentation
    }

    /// Parses the base64url form used in JSON (JWK `x`).
    public init(base64URL: String) throws(CryptoError) {
        guard let raw = Base64URL.decode(base64URL) else {
            throw CryptoError(.malformedKey, "public key is not base64url")
        }
        try self.init(rawRepresentation: raw)
    }

    public var base64URL: String { Base64URL.encode(rawRepresentation) }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url): the key id (`kid`) the federation uses for this key.
    public var thumbprint: String {
        // Members in lexicographic order, no white space, as RFC 7638 §3 requires.
        let canonical = #"{"crv":"Ed25519","kty":"OKP","x":"\#(base64URL)"}"#
        return Base64URL.encode(SHA256.hash(data: Data(canonical.utf8)))
    }

    public func isValidSignature(_ signature: some DataProtocol, for message: some DataProtocol) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// An Ed25519 private key for federation signatures. Never logged: its description hides the key.
public struct SigningKey: Sendable, CustomStringConvertible {
    private let key: Curve25519.Signing.PrivateKey

    public init() { key = Curve25519.Signing.PrivateKey() }

    public init(rawRepresentation: Data) throws(CryptoError) {
        guard rawRepresentation.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation) else {
            throw CryptoError(.malformedKey, "an Ed25519 private key is 32 bytes")
        }
        self.key = key
    }

    /// The 32-byte seed. Handle with care: this is the secret.
    public var rawRepresentation: Data { key.rawRepresentation }

    public var publicKey: VerifyingKey {
        // A key made by swift-crypto always has a valid 32-byte public key.
        try! VerifyingKey(rawRepresentation: key.publicKey.rawRepresentation)
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    public var kid: String { publicKey.thumbprint }

    public func signature(for message: some DataProtocol) throws -> Data {
        try key.signature(for: message)
    }

    public var description: String { "SigningKey(kid: \(kid))" }
}
