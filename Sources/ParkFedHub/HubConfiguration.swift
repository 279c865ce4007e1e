import Foundation
import ParkFedProtocol

/// A hub's settings, kept in `hub.json` in its data directory.
public struct HubConfiguration: Codable, Sendable, Hashable {
    /// The federation's display name (the CA's organisation).
    public var federation: String
    /// DNS names and IP addresses the hub's TLS certificate is valid for.
    public var hubDNSNames: [String]
    public var hubIPAddresses: [String]
    /// Lifetime of a park certificate, in days (90 by default).
    public var parkCertificateDays: Int
    /// Lifetime of regulator and clearing certificates, in days.
    public var staffCertificateDays: Int
    /// How long an enrollment token is valid, in hours (24 by default).
    public var enrollmentTokenHours: Int

    public init(
        federation: String = "ParkFederation",
        hubDNSNames: [String] = ["localhost"],
        hubIPAddresses: [String] = ["127.0.0.1", "::1"],
        parkCertificateDays: Int = 90,
        staffCertificateDays: Int = 365,
        enrollmentTokenHours: Int = 24
    ) {
        self.federation = federation
        self.hubDNSNames = hubDNSNames
        self.hubIPAddresses = hubIPAddresses
        self.parkCertificateDays = parkCertificateDays
        self.staffCertificateDays = staffCertificateDays
        self.enrollmentTokenHours = enrollmentTokenHours
    }

    enum CodingKeys: String, CodingKey {
        case federation
        case hubDNSNames = "hub_dns_names"
        case hubIPAddresses = "hub_ip_addresses"
        case parkCertificateDays = "park_certificate_days"
        case staffCertificateDays = "staff_certificate_days"
        case enrollmentTokenHours = "enrollment_token_hours"
    }

    public func validate() throws(HubError) {
        guard !federation.trimmingCharacters(in: .whitespaces).isEmpty, federation.count <= 128 else {
            throw HubError(.invalidConfiguration, "federation name must be 1-128 characters")
        }
        guard (1...825).contains(parkCertificateDays), (1...825).contains(staffCertificateDays) else {
            throw HubError(.invalidConfiguration, "certificate lifetimes must be 1-825 days")
        }
        guard (1...24 * 30).contains(enrollmentTokenHours) else {
            throw HubError(.invalidConfiguration, "enrollment token lifetime must be 1-720 hours")
        }
        guard !hubDNSNames.isEmpty || !hubIPAddresses.isEmpty else {
            throw HubError(.invalidConfiguration, "the hub certificate needs at least one DNS name or IP address")
        }
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    static func load(path: String) throws(HubError) -> HubConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HubError(.notInitialized, "no hub configuration at \(path); run `parkfed hub init` first")
        }
        let configuration: HubConfiguration
        do { configuration = try JSONDecoder().decode(HubConfiguration.self, from: data) } catch {
            throw HubError(.invalidConfiguration, "\(path) is not a valid hub configuration: \(error)")
        }
        try configuration.validate()
        return configuration
    }
}
