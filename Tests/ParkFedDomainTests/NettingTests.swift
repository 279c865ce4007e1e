import ParkFedDomain
import ParkFedTesting
import Testing

@Suite struct NettingTests {
    @Test func threeParksNetIntoPositionsThatSumToZero() throws {
        var netting = Netting()
        try netting.add(from: "P001", to: "P002", amountMinor: 10_000)
        try netting.add(from: "P002", to: "P001", amountMinor: 4_000)
        try netting.add(from: "P002", to: "P003", amountMinor: 6_000)
        try netting.add(from: "P003", to: "P001", amountMinor: 1_000)
        let result = netting.result()
        #expect(result.grossMinor == 21_000 && result.obligationCount == 4)
        #expect(result.position("P001") == -5_000 && result.position("P002") == 0 && result.position("P003") == 5_000)
        #expect(result.netMinor == 5_000)
        #expect(abs(result.reduction - (1 - 5_000.0 / 21_000)) < 1e-12)
        #expect(result.bilateral.map { "\($0.from)→\($0.to) \($0.netMinor)" } == ["P001→P002 6000", "P003→P001 1000", "P002→P003 6000"])
    }

    @Test func hubFeesArePerObligationRoundedDownAndPaidByTheReceiver() throws {
        var netting = Netting(feeBasisPoints: 50)  // 0.5 %
        try netting.add(from: "P001", to: "P002", amountMinor: 9_999)  // 49.995 → 49
        try netting.add(from: "P001", to: "P002", amountMinor: 10_000)  // 50
        let result = netting.result()
        #expect(result.feeMinor == 99)
        #expect(result.position("P001") == -19_999 && result.position("P002") == 19_900 && result.position(Netting.hubParty) == 99)
    }

    @Test func refusesSelfObligationsAndNonPositiveAmounts() {
        var netting = Netting()
        #expect(throws: DomainError.self) { try netting.add(from: "P001", to: "P001", amountMinor: 1) }
        #expect(throws: DomainError.self) { try netting.add(from: "P001", to: "P002", amountMinor: 0) }
    }

    /// Property: for random days, positions sum to zero, net ≤ gross, and each position is what the party receives
    /// minus what it pays, whatever the order the obligations come in.
    @Test(arguments: 0..<200) func randomDaysConserveMoneyAndDoNotDependOnOrder(seed: Int) throws {
        var random = SeededRandom(seed: UInt64(seed))
        let parks = (0..<Int(random.next() % 8 + 2)).map { "P\(100 + $0)" }
        let bps = Int64(random.next() % 3 == 0 ? random.next() % 200 : 0)
        var obligations: [(String, String, Int64)] = []
        for _ in 0..<Int(random.next() % 300) {
            let from = parks[Int(random.next() % UInt64(parks.count))]
            var to = parks[Int(random.next() % UInt64(parks.count))]
            if to == from { to = parks[(parks.firstIndex(of: from)! + 1) % parks.count] }
            obligations.append((from, to, Int64(random.next() % 1_000_000 + 1)))
        }
        var forward = Netting(feeBasisPoints: bps), backward = Netting(feeBasisPoints: bps)
        for (from, to, amount) in obligations { try forward.add(from: from, to: to, amountMinor: amount) }
        for (from, to, amount) in obligations.reversed() { try backward.add(from: from, to: to, amountMinor: amount) }
        let result = forward.result()
        #expect(result == backward.result())
        #expect(result.positions.reduce(0) { $0 + $1.netMinor } == 0)
        #expect(result.netMinor <= result.grossMinor)
        for park in parks {
            let received = obligations.filter { $0.1 == park }.reduce(Int64(0)) { $0 + $1.2 - forward.fee(on: $1.2) }
            let paid = obligations.filter { $0.0 == park }.reduce(Int64(0)) { $0 + $1.2 }
            #expect(result.position(park) == received - paid)
        }
    }
}
