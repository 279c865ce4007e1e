import ParkFedDomain
import ParkFedTesting
import Testing

@Suite struct StoredValueSplitTests {
    @Test func loadOneThousandGetTwoHundredDeductEightToTwo() throws {
        let split = try StoredValueSplit.split(amount: 100, principalBalance: 1000, bonusBalance: 200, ratio: .init(principal: 8, bonus: 2))
        #expect(split.principal == 80 && split.bonus == 20)
    }

    @Test func theLoadsOwnRatioByDefault() throws {
        let split = try StoredValueSplit.split(amount: 120, principalBalance: 1000, bonusBalance: 200, ratio: nil)
        #expect(split.principal == 100 && split.bonus == 20)
    }

    @Test func roundingGoesToThePrincipal() throws {
        // 7 at 1000:200 → bonus 7/6 = 1.17 → 1; principal 6.
        let split = try StoredValueSplit.split(amount: 7, principalBalance: 1000, bonusBalance: 200, ratio: nil)
        #expect(split.principal == 6 && split.bonus == 1)
        let tiny = try StoredValueSplit.split(amount: 1, principalBalance: 1000, bonusBalance: 200, ratio: nil)
        #expect(tiny.principal == 1 && tiny.bonus == 0)
    }

    @Test func whenOnePartRunsOutTheRestComesFromTheOther() throws {
        let bonusShort = try StoredValueSplit.split(amount: 100, principalBalance: 500, bonusBalance: 5, ratio: .init(principal: 8, bonus: 2))
        #expect(bonusShort.principal == 95 && bonusShort.bonus == 5)
        let principalShort = try StoredValueSplit.split(amount: 100, principalBalance: 30, bonusBalance: 200, ratio: .init(principal: 8, bonus: 2))
        #expect(principalShort.principal == 30 && principalShort.bonus == 70)
    }

    @Test func aSpendLargerThanTheBalanceIsRefused() {
        #expect(throws: DomainError.self) { try StoredValueSplit.split(amount: 1201, principalBalance: 1000, bonusBalance: 200, ratio: nil) }
        #expect(throws: DomainError.self) { try StoredValueSplit.split(amount: 0, principalBalance: 1000, bonusBalance: 200, ratio: nil) }
        #expect(throws: DomainError.self) { try StoredValueSplit.Ratio(principal: 0, bonus: 0) }
    }

    /// Seeded (the failing seed is in the test's name): `swift test --filter partsAlwaysAddUpAndNeverOverdraw` replays.
    @Test(arguments: 0..<10) func partsAlwaysAddUpAndNeverOverdraw(seed: Int) throws {
        var generator = SeededRandom(seed: UInt64(seed))
        for _ in 0..<500 {
            let principal = Int64.random(in: 0...1_000_000, using: &generator)
            let bonus = Int64.random(in: 0...300_000, using: &generator)
            guard principal + bonus > 0 else { continue }
            let amount = Int64.random(in: 1...(principal + bonus), using: &generator)
            let ratio =
                Bool.random(using: &generator)
                ? try StoredValueSplit.Ratio(principal: Int64.random(in: 0...10, using: &generator), bonus: Int64.random(in: 1...10, using: &generator))
                : nil
            let split = try StoredValueSplit.split(amount: amount, principalBalance: principal, bonusBalance: bonus, ratio: ratio)
            #expect(split.total == amount)
            #expect(split.principal >= 0 && split.principal <= principal)
            #expect(split.bonus >= 0 && split.bonus <= bonus)
        }
    }
}
