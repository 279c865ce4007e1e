/// Multilateral netting of a business day's obligations (TigerBeetle-style explicit invariants):
///
/// - gross: the sum of every obligation;
/// - per ordered pair (from → to) the gross and the count; per unordered pair the bilateral net;
/// - per party the multilateral net position, receivers positive, and the positions sum to exactly zero;
/// - net total: the sum of the positive positions (what actually moves), never more than the gross.
///
/// Optional hub fees are charged per obligation in basis points of its amount, rounded down (so a fee never exceeds
/// its share), paid by the receiving park to the party ``hubParty``.
public struct Netting: Sendable {
    /// The party that receives hub fees in positions.
    public static let hubParty = "hub"

    public struct PairKey: Hashable, Sendable, Comparable {
        public let from: String
        public let to: String
        public static func < (a: PairKey, b: PairKey) -> Bool { (a.from, a.to) < (b.from, b.to) }
    }

    public struct Pair: Hashable, Sendable {
        public let from: String
        public let to: String
        public var grossMinor: Int64
        public var count: Int
        public var feeMinor: Int64
    }

    public let feeBasisPoints: Int64
    private(set) var pairs: [PairKey: Pair] = [:]

    public init(feeBasisPoints: Int64 = 0) {
        precondition((0...10_000).contains(feeBasisPoints), "fees are 0-10000 basis points")
        self.feeBasisPoints = feeBasisPoints
    }

    /// The fee on one obligation: `amount × bps / 10000`, rounded down.
    public func fee(on amountMinor: Int64) -> Int64 { amountMinor * feeBasisPoints / 10_000 }

    /// Adds one obligation: `from` owes `to` `amountMinor` (positive).
    public mutating func add(from: String, to: String, amountMinor: Int64) throws(DomainError) {
        try add(from: from, to: to, grossMinor: amountMinor, count: 1, feeMinor: fee(on: amountMinor))
    }

    /// Adds an already aggregated group of obligations of one ordered pair (their count and their fees, each
    /// fee computed per obligation).
    public mutating func add(from: String, to: String, grossMinor: Int64, count: Int, feeMinor: Int64) throws(DomainError) {
        guard from != to else { throw DomainError(.invalidAmount, "an obligation from \(from) to itself") }
        guard grossMinor > 0, count > 0, feeMinor >= 0, feeMinor <= grossMinor else {
            throw DomainError(.invalidAmount, "obligations are positive and fees within them")
        }
        let key = PairKey(from: from, to: to)
        var pair = pairs[key] ?? Pair(from: from, to: to, grossMinor: 0, count: 0, feeMinor: 0)
        let (gross, overflow) = pair.grossMinor.addingReportingOverflow(grossMinor)
        guard !overflow else { throw DomainError(.overflow, "gross between \(from) and \(to) overflows") }
        pair.grossMinor = gross
        pair.count += count
        pair.feeMinor += feeMinor
        pairs[key] = pair
    }

    /// The netted result.
    public func result() -> NettingResult {
        let sortedPairs = pairs.values.sorted { PairKey(from: $0.from, to: $0.to) < PairKey(from: $1.from, to: $1.to) }
        var positions: [String: Int64] = [:]
        var gross: Int64 = 0, fees: Int64 = 0, count = 0
        var bilateral: [PairKey: Int64] = [:]
        for pair in sortedPairs {
            gross += pair.grossMinor
            fees += pair.feeMinor
            count += pair.count
            positions[pair.from, default: 0] -= pair.grossMinor
            positions[pair.to, default: 0] += pair.grossMinor - pair.feeMinor
            if pair.feeMinor > 0 { positions[Self.hubParty, default: 0] += pair.feeMinor }
            // Bilateral: keyed by the ordered (low, high) names; positive means low owes high.
            let (low, high) = pair.from < pair.to ? (pair.from, pair.to) : (pair.to, pair.from)
            bilateral[PairKey(from: low, to: high), default: 0] += pair.from == low ? pair.grossMinor : -pair.grossMinor
        }
        let bilateralLines = bilateral.sorted { $0.key < $1.key }.compactMap { key, net -> NettingResult.Bilateral? in
            guard net != 0 else { return nil }
            return net > 0 ? .init(from: key.from, to: key.to, netMinor: net) : .init(from: key.to, to: key.from, netMinor: -net)
        }
        let result = NettingResult(
            pairs: sortedPairs, bilateral: bilateralLines,
            positions: positions.sorted { $0.key < $1.key }.map { .init(party: $0.key, netMinor: $0.value) },
            grossMinor: gross, feeMinor: fees, obligationCount: count)
        // Invariants: conservation, and netting never moves more than the gross.
        precondition(result.positions.reduce(0) { $0 + $1.netMinor } == 0, "net positions must sum to zero")
        precondition(result.netMinor <= result.grossMinor, "the net total cannot exceed the gross")
        return result
    }
}

/// What netting gives: gross per ordered pair, bilateral nets, and each party's multilateral position.
public struct NettingResult: Hashable, Sendable {
    public struct Bilateral: Hashable, Sendable {
        public let from: String
        public let to: String
        public let netMinor: Int64
    }
    public struct Position: Hashable, Sendable {
        public let party: String
        /// Receivers positive, payers negative.
        public let netMinor: Int64
    }
    public let pairs: [Netting.Pair]
    public let bilateral: [Bilateral]
    public let positions: [Position]
    public let grossMinor: Int64
    public let feeMinor: Int64
    public let obligationCount: Int

    /// What moves after netting: the sum of what the receivers get.
    public var netMinor: Int64 { positions.reduce(0) { $0 + max(0, $1.netMinor) } }

    /// 1 − net / gross (0 when there is nothing to net).
    public var reduction: Double { grossMinor == 0 ? 0 : 1 - Double(netMinor) / Double(grossMinor) }

    public func position(_ party: String) -> Int64 { positions.first { $0.party == party }?.netMinor ?? 0 }
}
