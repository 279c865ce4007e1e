/// Which of a park's two capacities (《景区最大承载量核定导则》) a figure is held against.
public enum CapacityMeasure: String, Sendable, Codable, CaseIterable, Hashable {
    /// Visitors of one day (日承载量): places sold for the day, or heads that entered, whichever is more.
    case daily
    /// People inside at once (瞬时承载量): heads admitted today less exits counted.
    case instantaneous
}

/// How full a park is against one capacity. Ordered: `normal < warning < full`.
public enum CapacityLevel: String, Sendable, Codable, CaseIterable, Hashable, Comparable {
    case normal, warning, full

    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    public var rank: Int {
        switch self {
        case .normal: 0
        case .warning: 1
        case .full: 2
        }
    }
}

/// The one rule for early warning and stop-sale: a park is at `warning` from a share of a capacity (80 % by default,
/// in basis points), `full` at the capacity itself; at a full daily capacity sales for that day stop on every channel
/// and resume when refunds free places.
public struct CapacityWatch: Sendable, Hashable {
    /// The share of a capacity at which operators and regulators are warned, in basis points (8000 = 80 %).
    public let warnBasisPoints: Int

    /// Warning at 80 %.
    public static let standard = CapacityWatch(unchecked: 8000)

    init(unchecked: Int) { warnBasisPoints = unchecked }

    public init(warnBasisPoints: Int) throws(DomainError) {
        guard (1...10_000).contains(warnBasisPoints) else {
            throw DomainError(.invalidCapacity, "the warning share is 1 to 10000 basis points (0.01 % to 100 %)")
        }
        self.warnBasisPoints = warnBasisPoints
    }

    /// The level of `used` against `capacity` (nil or 0: no capacity set, always normal).
    public func level(used: Int, capacity: Int?) -> CapacityLevel {
        guard let capacity, capacity > 0 else { return .normal }
        if used >= capacity { return .full }
        // Integer arithmetic: 4 of 5 at 8000 bp is a warning exactly (4 × 10000 ≥ 5 × 8000).
        return Int64(used) * 10_000 >= Int64(capacity) * Int64(warnBasisPoints) ? .warning : .normal
    }

    /// A day's places used at a park: the places sold for it, or the heads that entered (passes sold for other days
    /// come in too), whichever is more.
    public static func dailyUsed(sold: Int, entered: Int) -> Int { max(sold, entered) }

    /// Whether a sale of `heads` more places fits the day's capacity (nil: none set).
    public static func admitsSale(heads: Int, used: Int, capacity: Int?) -> Bool {
        guard let capacity else { return true }
        return used + heads <= capacity
    }

    /// The share of `capacity` used, in basis points (nil without a capacity), for reports and gauges.
    public static func shareBasisPoints(used: Int, capacity: Int?) -> Int? {
        guard let capacity, capacity > 0 else { return nil }
        return Int(Int64(used) * 10_000 / Int64(capacity))
    }
}
