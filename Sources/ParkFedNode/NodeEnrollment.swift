import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedPKI
import ParkFedProtocol
import ParkFedStore
import X509

/// The park's side of enrollment: make keys and a CSR, trade the one-time token for a certificate, keep the files.
public enum NodeEnrollment {
    /// Enrolls `park` with the hub at `hubURL`, trusting only the federation root in `caFile`.
    ///
    /// Writes the node directory: TLS key and certificate chain, Ed25519 signing key, `ca.pem`, `node.json`
    /// and the node database. Refuses to overwrite an enrolled node.
    @discardableResult
    public static func enroll(directory: NodeDirectory, hubURL: String, park: ParkID, token: String, caFile: String) async throws -> NodeConfiguration {
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: directory.configuration) {
            throw NodeError(.alreadyEnrolled, "\(directory.path) already holds an enrolled node")
        }
        try fileManager.createDirectory(atPath: directory.path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let caPEM = try SecretFile.read(caFile)
        _ = try Certificate.parseChain(pem: caPEM)

        let tlsKey = P256.Signing.PrivateKey()
        let signingKey = SigningKey()
        let csr = try SigningRequest.make(for: .park(park), key: tlsKey)
        let client = try HubClient(baseURL: hubURL, caFile: caFile, certificateFile: nil, keyFile: nil)
        let response: CertificateResponse
        do {
            response = try await client.json(
                .POST, "/v1/enrollments",
                body: EnrollmentRequest(token: token, csr: csr, signingKey: signingKey.publicKey.base64URL, park: park.rawValue),
                as: CertificateResponse.self)
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw error
        }
        let chain = try Certificate.parseChain(pem: response.certificateChain)
        guard chain[0].federationPrincipal == .park(park), chain[0].publicKey == .init(tlsKey.publicKey) else {
            throw NodeError(.badResponse, "the hub returned a certificate that is not for \(park) and this key")
        }
        try SecretFile.write(tlsKey.pemRepresentation, to: directory.tlsKey)
        try SecretFile.write(Ed25519PEM.privateKeyPEM(signingKey), to: directory.signingKey)
        try SecretFile.writePublic(caPEM, to: directory.caCertificate)
        try SecretFile.writePublic(response.certificateChain, to: directory.tlsCertificate)
        try SecretFile.write(Data(), to: directory.database)
        _ = try NodeStore(path: directory.database)
        let configuration = NodeConfiguration(
            park: park.rawValue, hubURL: hubURL, hubSigningKey: response.hubSigningKey, hubSigningKid: response.hubSigningKid,
            signingKid: signingKey.kid, certificateSerial: response.serial,
            certificateNotBefore: response.notBefore, certificateNotAfter: response.notAfter)
        try configuration.save(directory)
        return configuration
    }
}
