/// People inside a park now: the heads its gates admitted today less the exits they counted (never below zero, as
/// a counting gate may count someone who came in before midnight), and the rule at the instantaneous capacity
/// (瞬时承载量): an entry whose heads would pass it waits.
public struct Occupancy: Hashable, Sendable {
    public var entries: Int
    public var exits: Int

    public init(entries: Int, exits: Int) {
        self.entries = entries
        self.exits = exits
    }

    public var inside: Int { max(0, entries - exits) }

    /// Whether `heads` more fit under `capacity` (nil: no instantaneous capacity set).
    public func admits(heads: Int, capacity: Int?) -> Bool {
        guard let capacity else { return true }
        return inside + heads <= capacity
    }

    /// The most inside in each local hour over a day's events in time order (`hour` 0-23, entries positive heads,
    /// exits negative): the hours after the last event keep the last figure only up to `untilHour`.
    public static func hourlyPeaks(_ events: [(hour: Int, change: Int)], untilHour: Int = 23) -> [Int] {
        var peaks = Array(repeating: 0, count: 24)
        var inside = 0, hour = 0
        for event in events {
            let at = min(23, max(0, event.hour))
            while hour < at {
                hour += 1
                peaks[hour] = max(peaks[hour], inside)
            }
            inside = max(0, inside + event.change)
            peaks[at] = max(peaks[at], inside)
        }
        while hour < min(23, max(0, untilHour)) {
            hour += 1
            peaks[hour] = max(peaks[hour], inside)
        }
        return peaks
    }

    /// The highest number inside over a day's events in time order (entries positive heads, exits negative).
    public static func peak(_ changes: [Int]) -> Int {
        var inside = 0, peak = 0
        for change in changes {
            inside = max(0, inside + change)
            peak = max(peak, inside)
        }
        return peak
    }
}
