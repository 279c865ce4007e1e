import Foundation
import Logging
import ParkFedCrypto
import ParkFedPKI
import ParkFedStore
import X509
import Crypto

/// The files of a hub's data directory.
///
/// | file | what | mode |
/// |---|---|---|
/// | `ca.pem` | federation root certificate, the trust anchor parks need | 0644 |
/// | `ca-key.pem` | root CA private key (P-256) | 0600 |
/// | `hub-cert.pem` | hub TLS certificate chain | 0644 |
/// | `hub-key.pem` | hub TLS private key | 0600 |
/// | `hub-signing-key.pem` | hub Ed25519 key for trust lists, checkpoints, batches | 0600 |
/// | `hub-signing-pub.pem` | its public key | 0644 |
/// | `hub.json` | hub configuration (its `store` URL may hold a database password; `$PARKFED_HUB_STORE` keeps it out of the file) | 0600 |
/// | `hub.sqlite` | the hub database (WAL) | 0600 |
/// | `holder-seal-key` | X25519 private key parks seal real-name data to (HPKE) | 0600 |
/// | `field-keys.json` | AES-256-GCM keys (by id) for personal fields at rest, and the blind-index key | 0600 |
public struct HubDirectory: Sendable {
    public let path: String

    public init(_ path: String) {
        self.path = (path as NSString).standardizingPath
    }

    public var caCertificate: String { file("ca.pem") }
    public var caKey: String { file("ca-key.pem") }
    public var tlsCertificate: String { file("hub-cert.pem") }
    public var tlsKey: String { file("hub-key.pem") }
    public var signingKey: String { file("hub-signing-key.pem") }
    public var signingPublicKey: String { file("hub-signing-pub.pem") }
    public var configuration: String { file("hub.json") }
    public var database: String { file("hub.sqlite") }
    public var holderSealKey: String { file("holder-seal-key") }
    public var fieldKeys: String { file("field-keys.json") }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Creates a new federation in an empty (or absent) directory: root CA, hub TLS certificate, hub signing key,
    /// configuration and database. Refuses to overwrite an existing hub.
    @discardableResult
    public static func initialize(at path: String, configuration: HubConfiguration, now: Date = Date()) async throws -> HubDirectory {
        let directory = HubDirectory(path)
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: directory.caCertificate) || fileManager.fileExists(atPath: directory.database) {
            throw HubError(.alreadyInitialized, "\(directory.path) already holds a hub; refusing to overwrite it")
        }
        do {
            try fileManager.createDirectory(atPath: directory.path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw HubError(.io, "cannot create \(directory.path): \(error)")
        }
        try configuration.validate()
        let ca = try FederationCA.create(federationName: configuration.federation, now: now)
        let tlsKey = P256.Signing.PrivateKey()
        let tlsCertificate = try ca.issueServerCertificate(
            publicKey: .init(tlsKey.publicKey), dnsNames: configuration.hubDNSNames, ipAddresses: configuration.hubIPAddresses, now: now)
        let signingKey = SigningKey()

        try SecretFile.write(ca.keyPEM, to: directory.caKey)
        try SecretFile.write(tlsKey.pemRepresentation, to: directory.tlsKey)
        try SecretFile.write(Ed25519PEM.privateKeyPEM(signingKey), to: directory.signingKey)
        try SecretFile.writePublic(try ca.certificate.pemString(), to: directory.caCertificate)
        try SecretFile.writePublic(try tlsCertificate.pemString() + ca.certificate.pemString(), to: directory.tlsCertificate)
        try SecretFile.writePublic(Ed25519PEM.publicKeyPEM(signingKey.publicKey), to: directory.signingPublicKey)
        try SecretFile.write(Data(try configuration.encoded()), to: directory.configuration)
        // Create the database with owner-only permissions before SQLite opens it (a PostgreSQL store has no file).
        if configuration.store == nil { try SecretFile.write(Data(), to: directory.database) }
        let store = try await HubStore(database: HubDatabase.open(configuration.store, sqliteFile: directory.database, logger: Logger(label: "parkfed.hub")))
        try await store.setMeta("federation", configuration.federation)
        try await store.setMeta("hub_signing_kid", signingKey.kid)
        await store.close()
        return directory
    }
}
