import Crypto
import Foundation
import ParkFedDomain
import SwiftASN1
import X509

/// A PKCS#10 certificate signing request that has been parsed and whose signature has been checked.
///
/// Parsing alone does not check a CSR's signature (swift-certificates leaves that to the caller);
/// ``init(pem:)`` does both, so a value of this type always proves possession of the key.
public struct SigningRequest: Sendable {
    public let csr: CertificateSigningRequest

    /// Parses a PEM `CERTIFICATE REQUEST`, checks its signature and its key type (P-256, P-384 or Ed25519).
    public init(pem: String) throws(PKIError) {
        let document: PEMDocument
        do { document = try PEMDocument(pemString: pem) } catch {
            throw PKIError(.malformedPEM, "the CSR is not a PEM document")
        }
        guard document.discriminator == "CERTIFICATE REQUEST" || document.discriminator == "NEW CERTIFICATE REQUEST" else {
            throw PKIError(.malformedPEM, "expected a PEM 'CERTIFICATE REQUEST', found '\(document.discriminator)'")
        }
        let csr: CertificateSigningRequest
        do { csr = try CertificateSigningRequest(derEncoded: document.derBytes) } catch {
            throw PKIError(.malformedCSR, "the CSR is not a valid PKCS#10 request")
        }
        guard
            P256.Signing.PublicKey(csr.publicKey) != nil || P384.Signing.PublicKey(csr.publicKey) != nil
                || Curve25519.Signing.PublicKey(csr.publicKey) != nil
        else {
            throw PKIError(.unsupportedKey, "the CSR key must be P-256, P-384 or Ed25519")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw PKIError(.badCSRSignature, "the CSR's signature does not verify with its own public key")
        }
        self.csr = csr
    }

    public var publicKey: Certificate.PublicKey { csr.publicKey }

    /// The principals the CSR names, if any: SAN URIs `urn:parkfed:…` it requests, and its subject CN read as
    /// a park id. The CA never copies them; it only refuses a CSR that names someone else.
    public var namedParkIDs: Set<String> {
        var names: Set<String> = []
        for rdn in csr.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                let text = String(describing: attribute.value)
                if ParkID.isValid(text) { names.insert(text) }
            }
        }
        if let request = try? csr.attributes.extensionRequest,
            let san = try? request.extensions.subjectAlternativeNames
        {
            for name in san {
                if case .uniformResourceIdentifier(let uri) = name, let principal = Principal(uri: uri), case .park(let id) = principal {
                    names.insert(id.rawValue)
                }
            }
        }
        return names
    }

    /// Makes a P-256 CSR for a principal (what the node agent sends when it enrolls or renews).
    public static func make(for principal: Principal, key: P256.Signing.PrivateKey) throws -> String {
        let subject = try DistinguishedName {
            OrganizationalUnitName(principal.role.rawValue)
            CommonName(principal.id ?? principal.description)
        }
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames([.uniformResourceIdentifier(principal.uri)])
        }
        let csr = try CertificateSigningRequest(
            version: .v1,
            subject: subject,
            privateKey: .init(key),
            attributes: try .init([.init(ExtensionRequest(extensions: extensions))]),
            signatureAlgorithm: .ecdsaWithSHA256
        )
        return try csr.serializeAsPEM().pemString + "\n"
    }
}
