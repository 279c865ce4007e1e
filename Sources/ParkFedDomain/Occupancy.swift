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
