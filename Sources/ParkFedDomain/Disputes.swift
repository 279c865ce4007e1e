import Foundation

/// A park's dispute of one obligation line of a closed batch, and what accepting it does.
///
/// Only a party of the line (the park that owes or the park owed) may dispute it, once, within `windowDays` after
/// the batch's day. An accepted dispute never changes the closed batch: it adds adjustment lines to the next open
/// day that reverse the original exactly, fee included: the receiver gives back what it got (amount − fee) and the
/// hub gives back its fee, so the payer is whole again and every position still sums to zero.
public enum Disputes {
    /// The last day (inclusive, federation time) a line of `batchDay` can be disputed.
    public static func lastDay(batchDay: CivilDay, windowDays: Int) -> CivilDay { batchDay.adding(days: windowDays) }

    /// Why `park` may not dispute a line `from` → `to` of the batch of `batchDay` on `today`, or nil.
    public static func refusal(park: String, from: String, to: String, reason: String, batchDay: CivilDay, today: CivilDay, windowDays: Int)
        -> Refusal?
    {
        guard park == from || park == to else {
            return Refusal(.forbidden, code: "not_your_line", title: "Only a party of the line disputes it", detail: "\(park) is neither \(from) nor \(to)")
        }
        guard today <= lastDay(batchDay: batchDay, windowDays: windowDays) else {
            return Refusal(
                .conflict, code: "dispute_window_closed", title: "Too late to dispute",
                detail: "lines of \(batchDay) could be disputed until \(lastDay(batchDay: batchDay, windowDays: windowDays))")
        }
        return reasonRefusal(reason, title: "A dispute needs a reason")
    }

    /// The one rule for the reasons clearing steps carry (a dispute, its decision, an exception's resolution):
    /// 3-500 characters once trimmed; nil when `reason` meets it.
    public static func reasonRefusal(_ reason: String, title: String) -> Refusal? {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count >= 3, trimmed.count <= 500 else { return Refusal(.invalid, code: "invalid_reason", title: title, detail: "3-500 characters") }
        return nil
    }

    /// One adjustment line: `from` owes `to` `amountMinor` (positive), with no fee of its own.
    public struct Line: Sendable, Hashable {
        public let from: String
        public let to: String
        public let amountMinor: Int64
        public init(from: String, to: String, amountMinor: Int64) {
            self.from = from
            self.to = to
            self.amountMinor = amountMinor
        }
    }

    /// The lines that reverse an obligation `from` → `to` of `amountMinor` on which the hub charged `feeMinor`.
    public static func reversal(from: String, to: String, amountMinor: Int64, feeMinor: Int64) -> [Line] {
        var lines: [Line] = []
        if amountMinor - feeMinor > 0 { lines.append(Line(from: to, to: from, amountMinor: amountMinor - feeMinor)) }
        if feeMinor > 0 { lines.append(Line(from: Netting.hubParty, to: from, amountMinor: feeMinor)) }
        return lines
    }
}
