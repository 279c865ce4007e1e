import Foundation
import ParkFedDomain

/// A park as the hub knows it.
public struct ParkRecord: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Codable { case active, revoked }
    public var id: ParkID
    public var name: String
    public var status: Status
    public var createdAt: Date
    public var revokedAt: Date?
    /// `reseller` for a reseller's settlement and signing identity (its keys are held by the hub); nil for a park.
    public var kind: String? = nil

    public var isReseller: Bool { kind == "reseller" }
}

/// A certificate the hub's CA issued.
public struct IssuedCertificateRecord: Sendable, Hashable {
    public var serial: String
    public var principal: Principal
    public var notBefore: Date
    public var notAfter: Date
    public var pem: String
    public var issuedAt: Date
    public var revokedAt: Date?

    public init(serial: String, principal: Principal, notBefore: Date, notAfter: Date, pem: String, issuedAt: Date, revokedAt: Date? = nil) {
        self.serial = serial
        self.principal = principal
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.pem = pem
        self.issuedAt = issuedAt
        self.revokedAt = revokedAt
    }
}

/// A park's assertion-signing key on the trust list.
public struct SigningKeyRecord: Sendable, Hashable, Codable {
    public var kid: String
    public var park: ParkID
    /// Raw Ed25519 public key, base64url.
    public var publicKey: String
    public var notBefore: Date
    public var notAfter: Date?
    public var revokedAt: Date?

    public init(kid: String, park: ParkID, publicKey: String, notBefore: Date, notAfter: Date?, revokedAt: Date? = nil) {
        self.kid = kid
        self.park = park
        self.publicKey = publicKey
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.revokedAt = revokedAt
    }
}

/// A signed trust list the hub has published.
public struct TrustListRecord: Sendable, Hashable {
    public var sequence: Int64
    public var issuedAt: Date
    public var contentHash: String
    public var jws: String
}

/// What the hub knows of a certificate presented on a connection.
public struct CertificateStanding: Sendable, Hashable {
    public var known: Bool
    public var revoked: Bool
    public var parkRevoked: Bool
}

/// Dates are stored as integer milliseconds since 1970, so that they compare exactly and read the same everywhere.
enum StoredTime {
    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
    static func date(_ millis: Int64?) -> Date? { millis.map { date($0) } }
}
