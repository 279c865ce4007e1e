/// The figures a tourism authority's daily and holiday forms ask of a park (and of the whole federation): visitors,
/// the day's peak of people inside, how many entries were real-name, refunds, entries on another park's pass, and
/// the flow per hour. Built from the counted entries, exits and refunds themselves (nothing is kept twice), so a
/// report can always be recomputed.
public struct VisitorFigures: Hashable, Sendable {
    public var visitors = 0
    public var exits = 0
    public var peakInside = 0
    public var realNameEntries = 0
    public var crossParkEntries = 0
    public var refunds = 0
    public var refundedMinor: Int64 = 0
    /// Heads entered in each local hour (0-23).
    public var hourly = Array(repeating: 0, count: 24)

    public init() {}

    /// The share of entries that were real-name, in basis points (nil without entries).
    public var realNameShareBasisPoints: Int? { visitors == 0 ? nil : realNameEntries * 10_000 / visitors }

    /// Figures of several days together (a holiday period): sums, and the highest of the peaks.
    public static func total(_ days: [VisitorFigures]) -> VisitorFigures {
        var total = VisitorFigures()
        for day in days {
            total.visitors += day.visitors
            total.exits += day.exits
            total.peakInside = max(total.peakInside, day.peakInside)
            total.realNameEntries += day.realNameEntries
            total.crossParkEntries += day.crossParkEntries
            total.refunds += day.refunds
            total.refundedMinor += day.refundedMinor
            for hour in 0..<24 { total.hourly[hour] += day.hourly[hour] }
        }
        return total
    }
}

/// Gathers entries, exits and refunds into ``VisitorFigures`` per park and day, and for the federation as a whole
/// (``federation``: people inside any park). The peak is taken over each day's events in time order.
public struct VisitorReportBuilder: Sendable {
    /// The key under which the federation's own figures are kept.
    public static let federation = "ALL"

    struct Event: Sendable {
        var at: Int64
        var order: Int
        var change: Int
    }

    var figures: [String: VisitorFigures] = [:]
    var events: [String: [Event]] = [:]
    var order = 0

    public init() {}

    static func key(_ park: String, _ day: CivilDay) -> String { "\(park) \(day)" }

    /// An admitted entry of `heads` at `park` at `at` (milliseconds, for order) in local `hour`; `crossPark`: the
    /// pass was issued by another park (or a reseller); `realName`: the pass carried a holder.
    public mutating func entry(park: String, day: CivilDay, hour: Int, at: Int64, heads: Int, crossPark: Bool, realName: Bool) {
        for scope in [park, Self.federation] {
            let key = Self.key(scope, day)
            var day = figures[key] ?? VisitorFigures()
            day.visitors += heads
            if realName { day.realNameEntries += heads }
            if crossPark { day.crossParkEntries += heads }
            day.hourly[min(23, max(0, hour))] += heads
            figures[key] = day
            events[key, default: []].append(Event(at: at, order: order, change: heads))
        }
        order += 1
    }

    /// People a gate counted leaving.
    public mutating func exit(park: String, day: CivilDay, at: Int64, count: Int) {
        for scope in [park, Self.federation] {
            let key = Self.key(scope, day)
            figures[key, default: VisitorFigures()].exits += count
            events[key, default: []].append(Event(at: at, order: order, change: -count))
        }
        order += 1
    }

    /// A refund by the park that sold the pass.
    public mutating func refund(park: String, day: CivilDay, amountMinor: Int64) {
        for scope in [park, Self.federation] {
            let key = Self.key(scope, day)
            figures[key, default: VisitorFigures()].refunds += 1
            figures[key, default: VisitorFigures()].refundedMinor += amountMinor
        }
    }

    /// Every park's (and the federation's) figures per day, by park then day.
    public func days() -> [(park: String, day: CivilDay, figures: VisitorFigures)] {
        figures.map { key, value -> (park: String, day: CivilDay, figures: VisitorFigures) in
            let parts = key.split(separator: " ")
            var figures = value
            let ordered = (events[key] ?? []).sorted { ($0.at, $0.order) < ($1.at, $1.order) }.map(\.change)
            figures.peakInside = Occupancy.peak(ordered)
            return (String(parts[0]), (try? CivilDay(String(parts[1]))) ?? CivilDay(dayNumber: 0), figures)
        }.sorted { ($0.park == Self.federation ? 1 : 0, $0.park, $0.day) < ($1.park == Self.federation ? 1 : 0, $1.park, $1.day) }
    }
}
