import Foundation
import ParkFedDomain
import ParkFedProtocol

/// The park's side of early warning and stop-sale: its own people inside now against the instantaneous capacity
/// (counted here, so it warns while offline too), and the hub's levels (``CapacityStatus``): the days whose sales
/// stopped because a park's daily capacity is full. Online, the hub decides every sale against the day's places;
/// offline, the node refuses a sale for a day the hub last said had stopped.
extension NodeAgent {
    /// What the node status and the console show of capacity.
    public struct CapacityNow: Codable, Sendable, Hashable {
        public var occupancy: OccupancyView
        /// The park's level against its instantaneous capacity, counted here.
        public var insideLevel: CapacityLevel
        /// The park's levels as the hub's statements set them (today and ahead).
        public var levels: [CapacityStatus.Level]
        /// `park day` pairs whose sales stopped, every park's (a combo covers other parks).
        public var salesStopped: [String]
        public var warnBasisPoints: Int

        enum CodingKeys: String, CodingKey {
            case occupancy, levels
            case insideLevel = "inside_level"
            case salesStopped = "sales_stopped"
            case warnBasisPoints = "warn_basis_points"
        }
    }

    /// Reads the hub's capacity levels (`GET /v1/capacity`).
    public func refreshCapacity() async throws(NodeError) {
        let status = try await tracked { (hub: HubClient) async throws(NodeError) in
            try await hub.json(.GET, "/v1/capacity", body: Optional<String>.none, as: CapacityStatus.self)
        }
        capacityLevels.withLockedValue { $0 = status }
        metrics.capacity(stopped: status.salesStopped.count)
    }

    func capacityNow(now: Date) async -> CapacityNow {
        let day = calendar.day(of: now)
        let occupancy = occupancyView((try? await store.occupancy(day: day)) ?? Occupancy(entries: 0, exits: 0), day: day)
        let status = capacityLevels.withLockedValue({ $0 })
        let watch = status.flatMap { try? CapacityWatch(warnBasisPoints: $0.warnBasisPoints) } ?? .standard
        let insideLevel = watch.level(used: occupancy.inside, capacity: occupancy.capacityNow)
        metrics.insideLevel(insideLevel)
        return CapacityNow(
            occupancy: occupancy, insideLevel: insideLevel,
            levels: status?.levels.filter { $0.park == park.rawValue } ?? [], salesStopped: status?.salesStopped ?? [],
            warnBasisPoints: watch.warnBasisPoints)
    }

    /// Offline, a sale of `product` for `day` is refused when the hub last said one of its parks stopped that day's
    /// sales (online the hub decides).
    func refuseOfflineIfStopped(_ product: ComboProduct, day: CivilDay) throws {
        let stopped = Set(capacityLevels.withLockedValue({ $0 })?.salesStopped ?? [])
        if let park = product.members.map(\.park).first(where: { stopped.contains("\($0) \(day)") }) {
            throw Self.soldOut(park: park.rawValue, day: day.description)
        }
    }

    static func soldOut(park: String, day: String, detail: String? = nil) -> Refusal {
        problem(.conflict, "sold_out", "Sold out", detail ?? "\(park) is full on \(day): sales of that day stopped (daily capacity)")
    }
}
