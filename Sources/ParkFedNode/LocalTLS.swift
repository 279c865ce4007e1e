import Crypto
import Foundation
import NIOSSL
import ParkFedDomain
import ParkFedPKI
import X509

/// The node agent's TLS on the park network. The park's LAN is the park's own trust domain, so the node makes its
/// own LAN CA (`lan-ca.pem`, the one file gates, windows, kiosks and the operator's console are given to trust;
/// its key never leaves the node's data directory) and from it a server certificate for the names the node is
/// reached by (`localhost`, `127.0.0.1`, `::1` and `lan_names` in `node.json`). The federation CA is not used: it
/// vouches for principals between parks, not for a park's host names. Device bearer tokens then travel only inside
/// TLS, where nothing else on the LAN can read them.
public enum LocalTLS {
    /// Names every node certificate covers.
    public static let defaultNames = ["localhost", "127.0.0.1", "::1"]
    /// A server certificate lives a year and is re-made at start when it has under 30 days left or lacks a name.
    static let validity: TimeInterval = 365 * 86_400
    static let renewBefore: TimeInterval = 30 * 86_400

    /// Makes the LAN CA if there is none and a server certificate if the current one is missing, expiring or does not
    /// cover `names`; returns the server TLS configuration (TLS 1.2 or later, HTTP/1.1).
    public static func configuration(directory: NodeDirectory, park: ParkID, names: [String], now: Date = Date()) throws -> TLSConfiguration {
        let names = Array(Set(defaultNames + names)).sorted()
        try ensureCertificate(directory: directory, park: park, names: names, now: now)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(directory.lanCertificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: directory.lanKey, format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        return tls
    }

    static func ensureCertificate(directory: NodeDirectory, park: ParkID, names: [String], now: Date) throws {
        let fileManager = FileManager.default
        let ca: FederationCA
        if fileManager.fileExists(atPath: directory.lanCA), fileManager.fileExists(atPath: directory.lanCAKey) {
            ca = try FederationCA.load(
                certificatePEM: try String(contentsOfFile: directory.lanCA, encoding: .utf8),
                keyPEM: try SecretFile.read(directory.lanCAKey))
        } else {
            ca = try FederationCA.create(federationName: "Park \(park) LAN", now: now)
            try SecretFile.write(ca.keyPEM, to: directory.lanCAKey)
            try SecretFile.writePublic(try ca.certificate.pemString(), to: directory.lanCA)
            try? fileManager.removeItem(atPath: directory.lanCertificate)
        }
        if let chain = try? String(contentsOfFile: directory.lanCertificate, encoding: .utf8),
            let leaf = chain.components(separatedBy: "-----END CERTIFICATE-----").first,
            let certificate = try? Certificate(pemEncoded: leaf + "-----END CERTIFICATE-----\n"),
            certificate.issuer == ca.certificate.subject,
            certificate.notValidAfter.timeIntervalSince(now) > renewBefore,
            Set(names).isSubset(of: coveredNames(certificate))
        {
            return
        }
        let key = P256.Signing.PrivateKey()
        let ipAddresses = names.filter { IPAddressBytes.parse($0) != nil }
        let certificate = try ca.issueServerCertificate(
            publicKey: .init(key.publicKey), dnsNames: names.filter { IPAddressBytes.parse($0) == nil }, ipAddresses: ipAddresses,
            principal: .park(park), now: now, validity: validity)
        try SecretFile.write(key.pemRepresentation, to: directory.lanKey)
        try SecretFile.writePublic(try certificate.pemString() + ca.certificate.pemString(), to: directory.lanCertificate)
    }

    /// The DNS names and IP addresses (in the text form they were given) a certificate covers.
    static func coveredNames(_ certificate: Certificate) -> Set<String> {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        var covered: Set<String> = []
        for name in names {
            switch name {
            case .dnsName(let dns): covered.insert(dns)
            case .ipAddress(let octets):
                let bytes = Array(octets.bytes)
                if bytes.count == 4 { covered.insert(bytes.map(String.init).joined(separator: ".")) }
                if bytes == Array(repeating: 0, count: 15) + [1] { covered.insert("::1") }
            default: break
            }
        }
        return covered
    }
}
