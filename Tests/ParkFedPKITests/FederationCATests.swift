import Crypto
import Foundation
import ParkFedDomain
import ParkFedCrypto
import ParkFedPKI
import ParkFedTesting
import SwiftASN1
import Testing
import X509

@Suite struct FederationCATests {
    @Test func issuedCertificatesCarryOnlyWhatTheCAChose() throws {
        let ca = try FederationCA.create(federationName: "Test")
        let key = P256.Signing.PrivateKey()
        let certificate = try ca.issueClientCertificate(for: .park(try ParkID("P001")), publicKey: .init(key.publicKey))
        #expect(certificate.federationPrincipal == .park(try ParkID("P001")))
        #expect(try certificate.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        #expect(ca.certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
    }

    @Test func aCSRMustProveItsKeyAndMayNameAPark() throws {
        let key = P256.Signing.PrivateKey()
        let pem = try SigningRequest.make(for: .park(try ParkID("P002")), key: key)
        let request = try SigningRequest(pem: pem)
        #expect(request.namedParkIDs == ["P002"])
        #expect(request.publicKey == .init(key.publicKey))
        // Swap in another key: the signature no longer verifies.
        let csr = request.csr
        let forged = try CertificateSigningRequest(
            version: csr.version, subject: csr.subject, publicKey: .init(P256.Signing.PrivateKey().publicKey),
            attributes: csr.attributes, signatureAlgorithm: csr.signatureAlgorithm, signature: csr.signature)
        #expect(throws: PKIError.self) { try SigningRequest(pem: try forged.serializeAsPEM().pemString) }
    }

    @Test func ed25519KeysRoundTripThroughPKCS8PEMThatOpensslReads() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let key = ParkFedCrypto.SigningKey()
        let path = directory.file("k.pem")
        try SecretFile.write(Ed25519PEM.privateKeyPEM(key), to: path)
        #expect(try Ed25519PEM.parsePrivateKey(pem: try SecretFile.read(path)).publicKey == key.publicKey)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let openssl = try await ExternalTool.run("openssl", ["pkey", "-in", path, "-pubout"])
        #expect(openssl.succeeded)
        #expect(try Ed25519PEM.parsePublicKey(pem: openssl.stdout) == key.publicKey)
    }
}
