import Foundation
import ParkFedCrypto
import ParkFedDomain

/// The payload of the hub-signed trust list: every park, its signing keys and their status.
///
/// Published as a JWS (`typ: parkfed-trust-list+jwt`) signed with the hub's Ed25519 key. Node agents cache it
/// and refuse a list whose signature does not verify or whose sequence goes backwards.
public struct TrustList: Codable, Sendable, Hashable {
    public struct Key: Codable, Sendable, Hashable {
        public var kid: String
        public var alg: String
        /// Raw Ed25519 public key, base64url.
        public var publicKey: String
        public var notBefore: Date
        public var notAfter: Date?
        public var status: String

        public init(kid: String, publicKey: String, notBefore: Date, notAfter: Date?, status: String) {
            self.kid = kid
            self.alg = "EdDSA"
            self.publicKey = publicKey
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.status = status
        }

        enum CodingKeys: String, CodingKey {
            case kid, alg, status
            case publicKey = "public_key"
            case notBefore = "not_before"
            case notAfter = "not_after"
        }
    }

    public struct Park: Codable, Sendable, Hashable {
        public var park: String
        public var name: String
        public var status: String
        /// `reseller` for a reseller (its passes verify like a park's; it has no gates); absent for a park.
        public var kind: String?
        public var keys: [Key]

        public init(park: String, name: String, status: String, kind: String? = nil, keys: [Key]) {
            self.park = park
            self.name = name
            self.status = status
            self.kind = kind
            self.keys = keys
        }
    }

    public var federation: String
    public var sequence: Int64
    public var issuedAt: Date
    public var parks: [Park]
    /// The hub's X25519 public key (raw, base64url) to which parks seal holders' real-name data (HPKE).
    public var holderSealKey: String?

    public init(federation: String, sequence: Int64, issuedAt: Date, parks: [Park], holderSealKey: String? = nil) {
        self.holderSealKey = holderSealKey
        self.federation = federation
        self.sequence = sequence
        self.issuedAt = issuedAt
        self.parks = parks
    }

    enum CodingKeys: String, CodingKey {
        case federation, sequence, parks
        case issuedAt = "issued_at"
        case holderSealKey = "holder_seal_key"
    }

    public static let jwsType = "parkfed-trust-list+jwt"

    /// Verifies a trust-list JWS with the hub's key and decodes it.
    public static func verify(jws compact: String, hubKey: VerifyingKey) throws -> (TrustList, JWS) {
        let jws = try JWS(compact: compact)
        try jws.verify(with: hubKey)
        guard jws.header.typ == jwsType else { throw CryptoError(.malformedJWS, "not a trust list (typ \(jws.header.typ ?? "none"))") }
        return (try StrictJSON.decoder.decode(TrustList.self, from: jws.payload), jws)
    }

    /// The active key with this kid, if the list trusts it at `date`.
    public func activeKey(kid: String, at date: Date) -> (park: String, key: Key)? {
        for park in parks where park.status == "active" {
            for key in park.keys where key.kid == kid && key.status == "active" && key.notBefore <= date && (key.notAfter.map { date < $0 } ?? true) {
                return (park.park, key)
            }
        }
        return nil
    }
}
