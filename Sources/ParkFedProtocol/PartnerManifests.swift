import Foundation
import ParkFedDomain

/// `partners/federation.json`: the example federation the demo and tests use.
public struct FederationManifest: Codable, Sendable, Hashable {
    public var federation: String
    public var currency: String
    public var timeZone: String
    public var parks: [String]
    /// The settlement account, calendar and dispute window (optional: without it no payment file can be made).
    public var settlement: SettlementProfile?

    enum CodingKeys: String, CodingKey {
        case federation, currency, parks, settlement
        case timeZone = "time_zone"
    }
}

/// `partners/parks/<id>.json`: one park of the federation.
public struct ParkManifest: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case scenicArea = "scenic_area", themePark = "theme_park", museum, exhibitionHall = "exhibition_hall" }
    public struct Capacity: Codable, Sendable, Hashable {
        public var daily: Int
        public var hourly: Int
        /// People inside at once (瞬时承载量), when the park has one.
        public var instantaneous: Int?
    }

    public var id: ParkID
    public var name: String
    public var kind: Kind
    public var city: String
    public var capacity: Capacity
    /// The account the park is paid into and pays from (optional: a park without one gets no payment line).
    public var bank: BankAccount?
}

/// The example federation read from a `partners/` directory, validated.
public struct PartnerCatalog: Sendable {
    public var manifest: FederationManifest
    public var parks: [ParkManifest]

    /// Decodes and validates the catalogue from its files, which `read` supplies by name (`federation.json`,
    /// `parks/P001.json`); reading them is the caller's (the hub's `PartnerCatalog.load(directory:)`).
    public static func decode(_ read: (String) throws -> Data) throws -> PartnerCatalog {
        let manifest: FederationManifest
        do { manifest = try StrictJSON.decode(FederationManifest.self, from: try read("federation.json")) } catch {
            throw WireError("partners/federation.json: \(error)")
        }
        _ = try Currency(manifest.currency)
        guard TimeZone(identifier: manifest.timeZone) != nil else { throw WireError("federation.json: unknown time zone \(manifest.timeZone)") }
        guard !manifest.parks.isEmpty, Set(manifest.parks).count == manifest.parks.count else {
            throw WireError("federation.json: parks must be a non-empty list without repeats")
        }
        try manifest.settlement?.validate()
        var parks: [ParkManifest] = []
        for id in manifest.parks {
            guard ParkID.isValid(id) else { throw WireError("federation.json: \(id.debugDescription) is not a park id") }
            let park: ParkManifest
            do { park = try StrictJSON.decode(ParkManifest.self, from: try read("parks/\(id).json")) } catch {
                throw WireError("partners/parks/\(id).json: \(error)")
            }
            guard park.id.rawValue == id else { throw WireError("partners/parks/\(id).json: id is \(park.id), not \(id)") }
            guard park.capacity.daily > 0, park.capacity.hourly > 0, park.capacity.hourly <= park.capacity.daily,
                park.capacity.instantaneous.map({ (1...park.capacity.daily).contains($0) }) ?? true
            else {
                throw WireError("partners/parks/\(id).json: capacities must be positive, hourly <= daily and instantaneous <= daily")
            }
            try park.bank?.validate("partners/parks/\(id).json bank")
            parks.append(park)
        }
        return PartnerCatalog(manifest: manifest, parks: parks)
    }
}
