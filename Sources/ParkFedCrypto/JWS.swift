import Foundation

/// JWS compact serialisation (RFC 7515) signed with Ed25519 (`alg: EdDSA`, RFC 8037).
///
/// Any JOSE library can verify what ``sign(payload:kid:type:with:)`` produces. Verification accepts only
/// `EdDSA`: the algorithm is never taken from the token to choose a weaker check.
public struct JWS: Sendable, Hashable {
    /// The protected header of a federation JWS.
    public struct Header: Codable, Sendable, Hashable {
        public var alg: String
        public var kid: String?
        public var typ: String?

        public init(alg: String = "EdDSA", kid: String?, typ: String?) {
            self.alg = alg
            self.kid = kid
            self.typ = typ
        }
    }

    /// The compact form: `header.payload.signature`.
    public let compact: String
    public let header: Header
    /// The decoded payload bytes (not yet verified until ``verify(with:)`` passes).
    public let payload: Data
    let signingInput: Data
    let signature: Data

    /// Parses the compact form without verifying it.
    public init(compact: String) throws(CryptoError) {
        var text = compact
        typealias Parts = (header: Header, payload: Data, signature: Data, signingInput: Data)
        let result: Result<Parts, CryptoError> = text.withUTF8 { bytes in
            Result { () throws(CryptoError) -> Parts in
                guard let firstDot = bytes.firstIndex(of: UInt8(ascii: ".")),
                    let secondDot = bytes[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")),
                    bytes[(secondDot + 1)...].firstIndex(of: UInt8(ascii: ".")) == nil
                else { throw CryptoError(.malformedJWS, "a compact JWS has three parts separated by '.'") }
                let headerPart = UnsafeBufferPointer(rebasing: bytes[..<firstDot])
                let payloadPart = UnsafeBufferPointer(rebasing: bytes[(firstDot + 1)..<secondDot])
                let signaturePart = UnsafeBufferPointer(rebasing: bytes[(secondDot + 1)...])
                guard let headerBytes = Base64URL.decode(utf8: headerPart) else { throw CryptoError(.malformedJWS, "JWS header is not base64url") }
                guard let payload = Base64URL.decode(utf8: payloadPart) else { throw CryptoError(.malformedJWS, "JWS payload is not base64url") }
                guard let signature = Base64URL.decode(utf8: signaturePart) else { throw CryptoError(.malformedJWS, "JWS signature is not base64url") }
                let header = try HeaderCache.shared.header(for: String(decoding: headerPart, as: UTF8.self), bytes: headerBytes)
                return (header, payload, signature, Data(UnsafeBufferPointer(rebasing: bytes[..<secondDot])))
            }
        }
        let parsed = try result.get()
        guard parsed.header.alg == "EdDSA" else { throw CryptoError(.unsupportedAlgorithm, "only alg EdDSA is accepted, not \(parsed.header.alg)") }
        self.compact = compact
        self.header = parsed.header
        self.payload = parsed.payload
        self.signature = parsed.signature
        self.signingInput = parsed.signingInput
    }

    /// Many assertions share one header (same key, same type): decode each distinct header once.
    final class HeaderCache: @unchecked Sendable {
        static let shared = HeaderCache()
        private let lock = NSLock()
        private var headers: [String: Header] = [:]

        func header(for segment: String, bytes: Data) throws(CryptoError) -> Header {
            if let cached = lock.withLock({ headers[segment] }) { return cached }
            let header: Header
            do { header = try JSONDecoder().decode(Header.self, from: bytes) } catch {
                throw CryptoError(.malformedJWS, "JWS header is not the expected JSON object")
            }
            lock.withLock {
                if headers.count > 10_000 { headers.removeAll() }
                headers[segment] = header
            }
            return header
        }
    }

    /// Signs `payload` as a compact JWS with header `{"alg":"EdDSA","kid":…,"typ":…}`.
    public static func sign(payload: Data, kid: String?, type: String?, with key: SigningKey) throws -> JWS {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let header = try encoder.encode(Header(kid: kid, typ: type))
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        let signature = try key.signature(for: Data(signingInput.utf8))
        return try JWS(compact: signingInput + "." + Base64URL.encode(signature))
    }

    /// Whether the signature is valid for `key`.
    public func isSigned(by key: VerifyingKey) -> Bool {
        signature.count == 64 && key.isValidSignature(signature, for: signingInput)
    }

    /// Verifies the signature with `key`; throws `bad_signature` otherwise.
    public func verify(with key: VerifyingKey) throws(CryptoError) {
        guard isSigned(by: key) else { throw CryptoError(.badSignature, "JWS signature does not verify") }
    }
}
