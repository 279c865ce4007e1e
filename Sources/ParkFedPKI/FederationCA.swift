import Crypto
import Foundation
import ParkFedDomain
import SwiftASN1
import X509

/// The federation's root certificate authority (P-256 ECDSA).
///
/// The CA builds every issued certificate's extensions itself: the principal as SAN URI, the key usages, and
/// the extended key usage. It never copies extensions a CSR asks for.
public struct FederationCA: Sendable {
    public let certificate: Certificate
    let privateKey: P256.Signing.PrivateKey

    public init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) throws(PKIError) {
        guard certificate.publicKey == Certificate.PublicKey(privateKey.publicKey) else {
            throw PKIError(.malformedCertificate, "the CA key does not match the CA certificate")
        }
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Creates a new self-signed root, valid for `years` years.
    public static func create(federationName: String, now: Date = Date(), years: Int = 10) throws -> FederationCA {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName(federationName)
            CommonName("\(federationName) Root CA")
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(Double(years) * 365 * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: .init(key)
        )
        return try FederationCA(certificate: certificate, privateKey: key)
    }

    /// Loads the CA from its PEM files.
    public static func load(certificatePEM: String, keyPEM: String) throws -> FederationCA {
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        return try FederationCA(certificate: certificate, privateKey: key)
    }

    public var keyPEM: String { privateKey.pemRepresentation }

    /// Issues a client certificate that carries `principal` as SAN URI `urn:parkfed:<principal>`.
    ///
    /// - Parameters:
    ///   - principal: who the certificate speaks for; the only identity the hub reads from it.
    ///   - publicKey: the subject's key, from a CSR whose signature was checked.
    ///   - validity: lifetime in seconds (90 days by default for parks).
    public func issueClientCertificate(
        for principal: Principal,
        displayName: String? = nil,
        publicKey: Certificate.PublicKey,
        now: Date = Date(),
        validity: TimeInterval = 90 * 86_400,
        notValidBefore: Date? = nil
    ) throws -> Certificate {
        let subject = try DistinguishedName {
            OrganizationName(organizationName)
            OrganizationalUnitName(principal.role.rawValue)
            CommonName(principal.id ?? principal.description)
        }
        let start = notValidBefore ?? now.addingTimeInterval(-60)
        return try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: publicKey,
            notValidBefore: start,
            notValidAfter: now.addingTimeInterval(validity),
            issuer: certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
                SubjectAlternativeNames([.uniformResourceIdentifier(principal.uri)])
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(privateKey)
        )
    }

    /// Issues a TLS server certificate for the given DNS names and IP addresses: the hub's (`principal` `.hub`), or
    /// a node agent's for its park network (`.park`, signed by the park's own LAN CA).
    public func issueServerCertificate(
        publicKey: Certificate.PublicKey,
        dnsNames: [String],
        ipAddresses: [String],
        principal: Principal = .hub,
        now: Date = Date(),
        validity: TimeInterval = 365 * 86_400
    ) throws -> Certificate {
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for address in ipAddresses {
            guard let bytes = IPAddressBytes.parse(address) else {
                throw PKIError(.malformedCertificate, "not an IP address: \(address)")
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        names.append(.uniformResourceIdentifier(principal.uri))
        let subject = try DistinguishedName {
            OrganizationName(organizationName)
            OrganizationalUnitName(principal.description)
            CommonName(dnsNames.first ?? principal.description)
        }
        return try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(privateKey)
        )
    }

    private var organizationName: String {
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.organizationName {
                if let text = String(describing: attribute.value) as String? { return text }
            }
        }
        return "ParkFederation"
    }
}

/// Parses dotted IPv4 and the few IPv6 forms the hub needs (`::1`).
public enum IPAddressBytes {
    public static func parse(_ text: String) -> [UInt8]? {
        if text == "::1" { return Array(repeating: 0, count: 15) + [1] }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }
}
