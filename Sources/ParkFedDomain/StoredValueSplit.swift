/// How a one-card spend is taken from the card's two balances: principal (cash paid in) and bonus (promotion).
///
/// Rules (SPEC.md, one-card stored value):
/// 1. The spend is split in the deduction ratio `principal : bonus`: the promotion's operator-set ratio when there
///    is one (the classic "load 1000 get 200, deduct 8:2"), otherwise the load's own ratio, which is the ratio of the
///    card's balances (1000 : 200).
/// 2. The bonus part is rounded down; the rounding goes to the principal, so the parts always add up to the spend.
/// 3. When one balance cannot cover its part, the rest comes from the other balance.
/// 4. A spend larger than both balances together is refused; nothing is taken.
///
/// Pinned figures: balances 1000 + 200, ratio 8:2, spend 100 → 80 principal + 20 bonus;
/// balances 1000 + 200, load's ratio, spend 120 → 100 principal + 20 bonus.
public struct StoredValueSplit: Hashable, Sendable {
    public let principal: Int64
    public let bonus: Int64

    public var total: Int64 { principal + bonus }

    /// A deduction ratio `principal : bonus`, both non-negative, not both zero.
    public struct Ratio: Hashable, Sendable, Codable {
        public let principal: Int64
        public let bonus: Int64

        public init(principal: Int64, bonus: Int64) throws(DomainError) {
            guard principal >= 0, bonus >= 0, principal + bonus > 0, principal <= 1_000_000, bonus <= 1_000_000 else {
                throw DomainError(.invalidSplit, "a deduction ratio is two non-negative whole numbers up to 1,000,000, not both zero")
            }
            self.principal = principal
            self.bonus = bonus
        }
    }

    /// Splits `amount` against balances `principalBalance` and `bonusBalance`.
    ///
    /// - Parameter ratio: the operator-set deduction ratio; `nil` uses the ratio of the balances (the load's own).
    public static func split(amount: Int64, principalBalance: Int64, bonusBalance: Int64, ratio: Ratio?) throws(DomainError) -> StoredValueSplit {
        guard amount > 0 else { throw DomainError(.invalidAmount, "a spend must be a positive amount") }
        guard principalBalance >= 0, bonusBalance >= 0 else { throw DomainError(.invalidAmount, "balances cannot be negative") }
        let (available, overflow) = principalBalance.addingReportingOverflow(bonusBalance)
        guard !overflow else { throw DomainError(.overflow, "balances overflow") }
        guard amount <= available else {
            throw DomainError(.insufficientBalance, "the spend of \(amount) exceeds the card's balance of \(available)")
        }
        let weights = ratio.map { ($0.principal, $0.bonus) } ?? (principalBalance, bonusBalance)
        // bonus share = floor(amount × bonus weight / total weight), computed without overflow.
        let totalWeight = UInt64(weights.0 + weights.1)
        let product = UInt64(amount).multipliedFullWidth(by: UInt64(weights.1))
        var bonus = Int64(totalWeight.dividingFullWidth(product).quotient)
        var principal = amount - bonus
        // One part short: take the rest from the other part.
        if bonus > bonusBalance {
            principal += bonus - bonusBalance
            bonus = bonusBalance
        }
        if principal > principalBalance {
            bonus += principal - principalBalance
            principal = principalBalance
        }
        assert(principal + bonus == amount, "a split adds up to the spend")
        assert(principal >= 0 && bonus >= 0 && principal <= principalBalance && bonus <= bonusBalance, "a split never overdraws a balance")
        return StoredValueSplit(principal: principal, bonus: bonus)
    }
}
