/// The settlement calendar: which days banks pay on, and when a business day's batch is paid.
///
/// A bank day is a weekday that is not a bank holiday, or a weekend day the calendar names as a working day (in
/// mainland China a holiday week is made up by working a weekend, 调休). A closed day's payments are due
/// `paymentLagBankDays` bank days after it (default 1: the next bank day), so a payment that would fall on a
/// holiday moves to the next bank day.
public struct SettlementCalendar: Sendable, Hashable {
    public var holidays: Set<CivilDay>
    public var workingWeekendDays: Set<CivilDay>
    public var paymentLagBankDays: Int

    public init(holidays: Set<CivilDay> = [], workingWeekendDays: Set<CivilDay> = [], paymentLagBankDays: Int = 1) throws(DomainError) {
        guard (0...10).contains(paymentLagBankDays) else { throw DomainError(.invalidCalendar, "the payment lag is 0-10 bank days") }
        guard holidays.isDisjoint(with: workingWeekendDays) else {
            throw DomainError(.invalidCalendar, "a day cannot be both a bank holiday and a working day")
        }
        self.holidays = holidays
        self.workingWeekendDays = workingWeekendDays
        self.paymentLagBankDays = paymentLagBankDays
    }

    /// 0 Sunday … 6 Saturday (1970-01-01, day number 0, was a Thursday).
    public static func weekday(_ day: CivilDay) -> Int { ((day.dayNumber + 4) % 7 + 7) % 7 }

    public func isBankDay(_ day: CivilDay) -> Bool {
        if holidays.contains(day) { return false }
        if workingWeekendDays.contains(day) { return true }
        let weekday = Self.weekday(day)
        return weekday != 0 && weekday != 6
    }

    /// The first bank day on or after `day`.
    public func bankDay(onOrAfter day: CivilDay) -> CivilDay {
        var candidate = day
        // At most a few weeks of holidays in a row; 60 days bounds a calendar that names every day a holiday.
        for _ in 0..<60 where !isBankDay(candidate) { candidate = candidate.adding(days: 1) }
        return candidate
    }

    /// The day a closed business day's payments are due: `paymentLagBankDays` bank days after it.
    public func paymentDay(for businessDay: CivilDay) -> CivilDay {
        var day = businessDay
        for _ in 0..<paymentLagBankDays { day = bankDay(onOrAfter: day.adding(days: 1)) }
        return bankDay(onOrAfter: day)
    }
}

/// Where a business day stands in clearing, in the order it moves: open (obligations still arrive), closed (a
/// draft batch), approved (released by a second clearing person), files issued (payment files exported),
/// reconciled (every position paid, by the bank statement or by hand), final (reconciled and no exception open).
public enum SettlementDayState: String, Sendable, Hashable, CaseIterable, Codable {
    case open, closed, approved
    case filesIssued = "files_issued"
    case reconciled, final
}
