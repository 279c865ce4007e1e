import Foundation

/// Days and hours in the federation's time zone (Asia/Shanghai by default): pass validity, capacity and
/// business days are all counted in local time.
public struct BusinessCalendar: Sendable, Hashable {
    public let timeZone: TimeZone

    public init(timeZone identifier: String = "Asia/Shanghai") throws(DomainError) {
        guard let zone = TimeZone(identifier: identifier) else { throw DomainError(.invalidTimeZone, "unknown time zone \(identifier)") }
        timeZone = zone
    }

    /// The local calendar day of `date`.
    public func day(of date: Date) -> CivilDay {
        let seconds = Int((date.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: date))).rounded(.down))
        return CivilDay(dayNumber: Int((Double(seconds) / 86_400).rounded(.down)))
    }

    /// Minutes since local midnight of `date`.
    public func minuteOfDay(_ date: Date) -> Int {
        let seconds = Int((date.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: date))).rounded(.down))
        return ((seconds % 86_400) + 86_400) % 86_400 / 60
    }

    /// The local hour (0-23) of `date`.
    public func hour(of date: Date) -> Int {
        let seconds = Int((date.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: date))).rounded(.down))
        return ((seconds % 86_400) + 86_400) % 86_400 / 3600
    }
}
