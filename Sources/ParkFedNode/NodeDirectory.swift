import Foundation
import ParkFedPKI

/// The files of a node agent's data directory.
///
/// | file | what | mode |
/// |---|---|---|
/// | `ca.pem` | the federation root it trusts | 0644 |
/// | `node-key.pem` | TLS client key (P-256) | 0600 |
/// | `node-cert.pem` | TLS client certificate chain, `urn:parkfed:park:<id>` | 0644 |
/// | `signing-key.pem` | Ed25519 assertion-signing key (PKCS#8) | 0600 |
/// | `node.json` | park id, hub URL, hub signing key | 0644 |
/// | `node.sqlite` | trust-list cache, outbox, devices, sales and gate entries | 0600 |
/// | `holder-key` | HMAC key for digests of holders' ID numbers | 0600 |
/// | `lan-ca.pem` | the park-LAN CA that gates, windows and consoles trust (``LocalTLS``) | 0644 |
/// | `lan-ca-key.pem` | its key | 0600 |
/// | `lan-cert.pem`, `lan-key.pem` | the local API's server certificate chain and key | 0644, 0600 |
public struct NodeDirectory: Sendable {
    public let path: String

    public init(_ path: String) {
        self.path = (path as NSString).standardizingPath
    }

    public var caCertificate: String { file("ca.pem") }
    public var tlsKey: String { file("node-key.pem") }
    public var tlsCertificate: String { file("node-cert.pem") }
    public var signingKey: String { file("signing-key.pem") }
    public var configuration: String { file("node.json") }
    public var database: String { file("node.sqlite") }
    /// The park's secret for keyed digests of holders' ID numbers (made on first use).
    public var holderKey: String { file("holder-key") }

    /// The park-LAN CA: give this file to every gate, window, kiosk and console of the park.
    public var lanCA: String { file("lan-ca.pem") }
    public var lanCAKey: String { file("lan-ca-key.pem") }
    public var lanCertificate: String { file("lan-cert.pem") }
    public var lanKey: String { file("lan-key.pem") }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}

/// What a node agent remembers about its enrollment, in `node.json`.
public struct NodeConfiguration: Codable, Sendable, Hashable {
    public var park: String
    public var hubURL: String
    /// The hub's Ed25519 public key (raw, base64url) that signs trust lists.
    public var hubSigningKey: String
    public var hubSigningKid: String
    public var signingKid: String
    public var certificateSerial: String
    public var certificateNotBefore: Date
    public var certificateNotAfter: Date
    /// The park's capacity: entries per local day and per local hour (none when unset).
    public var capacityDaily: Int?
    public var capacityHourly: Int?
    /// People inside at once (瞬时承载量): an entry that would pass it waits (`capacity_full_now`).
    public var capacityInstantaneous: Int?
    /// The federation's time zone (Asia/Shanghai when unset).
    public var timeZone: String?
    /// Host names and IP addresses the local API is reached by on the park network, besides localhost.
    public var lanNames: [String]?
    /// Requests a second each device may make that reach the hub (20 when unset; 0: no limit).
    public var deviceHubCallsPerSecond: Double?

    enum CodingKeys: String, CodingKey {
        case park
        case hubURL = "hub_url"
        case hubSigningKey = "hub_signing_key"
        case hubSigningKid = "hub_signing_kid"
        case signingKid = "signing_kid"
        case certificateSerial = "certificate_serial"
        case certificateNotBefore = "certificate_not_before"
        case certificateNotAfter = "certificate_not_after"
        case capacityDaily = "capacity_daily"
        case capacityHourly = "capacity_hourly"
        case capacityInstantaneous = "capacity_instantaneous"
        case timeZone = "time_zone"
        case lanNames = "lan_names"
        case deviceHubCallsPerSecond = "device_hub_calls_per_second"
    }

    public static func load(_ directory: NodeDirectory) throws(NodeError) -> NodeConfiguration {
        guard let data = FileManager.default.contents(atPath: directory.configuration) else {
            throw NodeError(.notEnrolled, "no node configuration in \(directory.path); run `parkfed node enroll` first")
        }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(NodeConfiguration.self, from: data)
        } catch {
            throw NodeError(.invalidConfiguration, "\(directory.configuration) is not a valid node configuration: \(error)")
        }
    }

    public func save(_ directory: NodeDirectory) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try SecretFile.writePublic(String(decoding: try encoder.encode(self), as: UTF8.self) + "\n", to: directory.configuration)
    }

    /// When the agent renews its certificate: after two thirds of its lifetime.
    public var renewalDue: Date {
        certificateNotBefore.addingTimeInterval(certificateNotAfter.timeIntervalSince(certificateNotBefore) * 2 / 3)
    }
}
