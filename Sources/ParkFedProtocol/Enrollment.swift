import Foundation
import ParkFedDomain

/// `POST /v1/enrollments`: a park trades a one-time token and a CSR for its certificate.
public struct EnrollmentRequest: Codable, Sendable {
    public var token: String
    /// PEM of a PKCS#10 certificate signing request (P-256, P-384 or Ed25519 key).
    public var csr: String
    /// The park's Ed25519 assertion-signing public key: raw 32 bytes, base64url.
    public var signingKey: String
    /// Optional: the park the caller believes the token is for; refused if it is not the token's park.
    public var park: String?

    public init(token: String, csr: String, signingKey: String, park: String? = nil) {
        self.token = token
        self.csr = csr
        self.signingKey = signingKey
        self.park = park
    }

    enum CodingKeys: String, CodingKey {
        case token, csr, park
        case signingKey = "signing_key"
    }
}

/// The hub's answer to an enrollment or a renewal.
public struct CertificateResponse: Codable, Sendable {
    public var principal: String
    /// PEM: the issued certificate, then the federation root.
    public var certificateChain: String
    public var serial: String
    public var notBefore: Date
    public var notAfter: Date
    /// Present on enrollment: the kid of the registered signing key (RFC 7638 thumbprint).
    public var signingKid: String?
    /// The hub's Ed25519 public key (raw, base64url) that signs trust lists, checkpoints and batches.
    public var hubSigningKey: String
    public var hubSigningKid: String

    public init(
        principal: String, certificateChain: String, serial: String, notBefore: Date, notAfter: Date,
        signingKid: String?, hubSigningKey: String, hubSigningKid: String
    ) {
        self.principal = principal
        self.certificateChain = certificateChain
        self.serial = serial
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.signingKid = signingKid
        self.hubSigningKey = hubSigningKey
        self.hubSigningKid = hubSigningKid
    }

    enum CodingKeys: String, CodingKey {
        case principal, serial
        case certificateChain = "certificate_chain"
        case notBefore = "not_before"
        case notAfter = "not_after"
        case signingKid = "signing_kid"
        case hubSigningKey = "hub_signing_key"
        case hubSigningKid = "hub_signing_kid"
    }
}

/// `POST /v1/certificates/renewals`, under the current certificate.
public struct RenewalRequest: Codable, Sendable {
    public var csr: String
    public init(csr: String) { self.csr = csr }
}

/// `GET /v1/whoami`.
public struct WhoAmIResponse: Codable, Sendable, Hashable {
    public var principal: String
    public init(principal: String) { self.principal = principal }
}

/// `GET /healthz` and `/readyz`.
public struct HealthResponse: Codable, Sendable, Hashable {
    public var status: String
    public var checks: [String: String]
    public init(status: String, checks: [String: String] = [:]) {
        self.status = status
        self.checks = checks
    }
}

/// `POST /v1/operator/enrollment-tokens`: a one-time token for a park (shown once).
public struct OperatorTokenRequest: Codable, Sendable {
    public var park: String
    public var name: String
    /// Re-admits a revoked park (a new certificate and signing key; the old ones stay revoked).
    public var readmit: Bool?

    public init(park: String, name: String, readmit: Bool? = nil) {
        self.park = park
        self.name = name
        self.readmit = readmit
    }
}

public struct OperatorTokenResponse: Codable, Sendable {
    public var token: String
    public var park: String
    public var expiresAt: Date

    public init(token: String, park: String, expiresAt: Date) {
        self.token = token
        self.park = park
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case token, park
        case expiresAt = "expires_at"
    }
}

/// `POST /v1/operator/parks/{park}/revocation`: the park's certificates and keys revoked at once.
public struct OperatorRevocationResponse: Codable, Sendable {
    public var park: String
    public var certificates: Int

    public init(park: String, certificates: Int) {
        self.park = park
        self.certificates = certificates
    }
}
