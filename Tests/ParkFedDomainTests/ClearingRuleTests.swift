import ParkFedDomain
import ParkFedTesting
import Testing

/// The pure rules of clearing after the batch: the settlement calendar, four eyes, disputes' reversals and matching
/// a bank statement.
@Suite struct ClearingRuleTests {
    static func day(_ text: String) -> CivilDay { try! CivilDay(text) }

    @Test func paymentsMoveOffWeekendsAndHolidaysAndOntoWorkingWeekendDays() throws {
        let calendar = try SettlementCalendar(
            holidays: Set(["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"].map(Self.day)),
            workingWeekendDays: [Self.day("2026-10-10")])
        #expect(SettlementCalendar.weekday(Self.day("2026-12-02")) == 3)  // a Wednesday
        #expect(calendar.paymentDay(for: Self.day("2026-12-02")) == Self.day("2026-12-03"))
        #expect(calendar.paymentDay(for: Self.day("2026-12-04")) == Self.day("2026-12-07"))  // Friday → Monday
        // The National Day week: the 30th's payment waits until Thursday the 8th.
        #expect(calendar.paymentDay(for: Self.day("2026-09-30")) == Self.day("2026-10-08"))
        // A Saturday worked as a bank day (调休) takes Friday's payments.
        #expect(calendar.paymentDay(for: Self.day("2026-10-09")) == Self.day("2026-10-10"))
        #expect(calendar.isBankDay(Self.day("2026-10-10")) && !calendar.isBankDay(Self.day("2026-10-11")))
        // Lag 0: due the same day when it is a bank day, else the next one; lag 2 counts bank days.
        #expect(try SettlementCalendar(paymentLagBankDays: 0).paymentDay(for: Self.day("2026-12-05")) == Self.day("2026-12-07"))
        #expect(try SettlementCalendar(paymentLagBankDays: 2).paymentDay(for: Self.day("2026-12-03")) == Self.day("2026-12-07"))
        #expect(throws: DomainError.self) { try SettlementCalendar(holidays: [Self.day("2026-10-10")], workingWeekendDays: [Self.day("2026-10-10")]) }
        #expect(throws: DomainError.self) { try SettlementCalendar(paymentLagBankDays: 11) }
    }

    @Test func whoeverRanABatchCannotReleaseIt() {
        #expect(FourEyes.refusal(approver: .clearing("C01"), runners: ["clearing:C01"])?.code == "four_eyes")
        #expect(FourEyes.refusal(approver: .clearing("C02"), runners: ["clearing:C01", "hub"]) == nil)
        #expect(FourEyes.refusal(approver: .hub, runners: [])?.kind == .forbidden)
        #expect(FourEyes.refusal(approver: .operator("O1"), runners: [])?.kind == .forbidden)
    }

    @Test func aReversalGivesEveryPartyBackExactlyWhatTheLineMovedFeeIncluded() throws {
        // Seeded and replayable: any amount and fee, the original plus its reversal nets to nothing for everyone.
        var random = SeededRandom(seed: 2112)
        for _ in 0..<500 {
            let amount = Int64(1 + random.next() % 10_000_000), bps = Int64(random.next() % 1_000)
            var netting = Netting(feeBasisPoints: bps)
            try netting.add(from: "P001", to: "P002", amountMinor: amount)
            let fee = netting.fee(on: amount)
            var reversal = Netting()
            for line in Disputes.reversal(from: "P001", to: "P002", amountMinor: amount, feeMinor: fee) {
                try reversal.add(from: line.from, to: line.to, amountMinor: line.amountMinor)
            }
            let original = netting.result(), back = reversal.result()
            for party in ["P001", "P002", Netting.hubParty] {
                #expect(original.position(party) + back.position(party) == 0, "amount \(amount) bps \(bps) \(party)")
            }
        }
        #expect(
            Disputes.reversal(from: "A1", to: "B1", amountMinor: 10_000, feeMinor: 100) == [
                .init(from: "B1", to: "A1", amountMinor: 9_900), .init(from: "hub", to: "A1", amountMinor: 100),
            ])
        #expect(Disputes.reversal(from: "A1", to: "B1", amountMinor: 10_000, feeMinor: 0) == [.init(from: "B1", to: "A1", amountMinor: 10_000)])
    }

    @Test func onlyAPartyOfTheLineDisputesItWithAReasonWithinTheWindow() {
        let day = Self.day("2026-12-01")
        func refusal(_ park: String, _ reason: String = "wrong amount", today: String = "2026-12-02") -> String? {
            Disputes.refusal(park: park, from: "P001", to: "P002", reason: reason, batchDay: day, today: Self.day(today), windowDays: 7)?.code
        }
        #expect(refusal("P001") == nil && refusal("P002") == nil)
        #expect(refusal("P003") == "not_your_line")
        #expect(refusal("P001", "  ") == "invalid_reason" && refusal("P001", String(repeating: "x", count: 501)) == "invalid_reason")
        #expect(refusal("P001", today: "2026-12-08") == nil && refusal("P001", today: "2026-12-09") == "dispute_window_closed")
    }

    @Test func aStatementEntryIsMatchedPartlyPaidOverpaidUnknownOrADuplicate() {
        let expected: [Reconciliation.Expected] = [
            .init(reference: "PF20261201-P001", batch: "S-2026-12-01", party: "P001", direction: .credit, amountMinor: 9_150),
            .init(reference: "PF20261201-P002", batch: "S-2026-12-01", party: "P002", direction: .debit, amountMinor: 10_840),
            .init(reference: "PF20261201-P003", batch: "S-2026-12-01", party: "P003", direction: .credit, amountMinor: 2_080),
            // A reference that is a prefix of another never takes its payment.
            .init(reference: "PF20261201-P00", batch: "S-2026-12-01", party: "P00", direction: .credit, amountMinor: 1),
        ]
        var received: [String: Int64] = [:], seen = Set<String>()
        let entries: [Reconciliation.Entry] = [
            .init(entryRef: "E1", direction: .credit, amountMinor: 9_150, texts: ["transfer PF20261201-P001 thanks"]),
            .init(entryRef: "E2", direction: .debit, amountMinor: 10_840, texts: ["PF20261201-P002"]),
            .init(entryRef: "E3", direction: .credit, amountMinor: 1_000, texts: ["PF20261201-P003"]),
            .init(entryRef: "E4", direction: .credit, amountMinor: 1_000, texts: ["PF20261201-P003"]),
            .init(entryRef: "E5", direction: .credit, amountMinor: 500, texts: ["PF20261201-P003"]),
            .init(entryRef: "E6", direction: .credit, amountMinor: 77, texts: ["rent"]),
            // The right reference in the wrong direction is not that payment.
            .init(entryRef: "E7", direction: .debit, amountMinor: 9_150, texts: ["PF20261201-P001"]),
            .init(entryRef: "E1", direction: .credit, amountMinor: 9_150, texts: ["PF20261201-P001"]),
        ]
        let matches = Reconciliation.match(entries, expected: expected, received: &received, seen: &seen)
        #expect(
            matches.map { "\($0.entry.entryRef) \($0.outcome.rawValue) \($0.receivedMinor)" } == [
                "E1 matched 9150", "E2 matched 10840", "E3 partly_paid 1000", "E4 partly_paid 2000", "E5 overpaid 2500", "E6 unknown 0",
                "E7 unknown 0", "E1 duplicate 0",
            ])
        #expect(received["PF20261201-P003"] == 2_500 && received["PF20261201-P00"] == nil)
        // A later import continues from what was received.
        var again = seen
        let later = Reconciliation.match(
            [.init(entryRef: "E1", direction: .credit, amountMinor: 9_150, texts: ["PF20261201-P001"])], expected: expected, received: &received, seen: &again)
        #expect(later.map(\.outcome) == [.duplicate])
        #expect(Reconciliation.Outcome.allExceptions == [.partlyPaid, .overpaid, .unknown])
    }
}

extension Reconciliation.Outcome {
    static var allExceptions: [Reconciliation.Outcome] { [.matched, .partlyPaid, .overpaid, .unknown, .duplicate].filter(\.isException) }
}
