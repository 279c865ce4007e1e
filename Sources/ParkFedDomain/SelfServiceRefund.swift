import Foundation

/// A visitor's own refund request for a ticket bought at the shop: decided at once where the product's refund rule
/// settles it, otherwise left to the seller's staff.
///
/// - Refused: the pass was refunded already, or the rule gives nothing back now (`unused_pass_only` once used).
/// - Automatic: the pass is unused and its visit has not begun (a timed ticket's slot, or its first valid day), or it
///   is partly used, still valid, and the rule gives back exactly the unused parks' allocations.
/// - Review: an unused ticket whose visit has begun or whose validity has ended (a no-show, a late request): the rule
///   says what would be due, the seller decides whether to give it.
///
/// The amount is always the rule's (``ComboPass/refundDue()``), the one the hub accepts in a `pass.refunded`.
public enum SelfServiceRefund {
    public enum Decision: Hashable, Sendable {
        case automatic(amountMinor: Int64, reason: String)
        case review(amountMinor: Int64, reason: String)
        case refused(code: String, detail: String)
    }

    /// Decides `pass`'s refund at `now`, its visit beginning at `visitStart`, `today` the federation's business day.
    public static func decide(_ pass: ComboPass, visitStart: Date, today: CivilDay, now: Date) -> Decision {
        guard !pass.refunded else { return .refused(code: "already_refunded", detail: "this ticket was refunded already") }
        let due: Money
        do { due = try pass.refundDue() } catch { return .refused(code: "not_refundable", detail: error.message) }
        guard due.minorUnits > 0 else {
            return .refused(code: "nothing_due", detail: "under the product's rule nothing is refunded once the ticket has been used")
        }
        let ended = today > pass.usableUntil
        if pass.usedTotal == 0 {
            if ended { return .review(amountMinor: due.minorUnits, reason: "expired") }
            return now < visitStart
                ? .automatic(amountMinor: due.minorUnits, reason: "before_visit") : .review(amountMinor: due.minorUnits, reason: "visit_started")
        }
        return ended ? .review(amountMinor: due.minorUnits, reason: "expired") : .automatic(amountMinor: due.minorUnits, reason: "partly_used")
    }
}
