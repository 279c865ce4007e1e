/// Double-entry bookkeeping in integer minor units.
///
/// Every movement of money is a ``LedgerTransaction`` whose postings balance: total debits equal total credits.
/// Accounts are named by strings such as `card:C1:principal` or `park:P001:cash`.
public struct Posting: Hashable, Sendable, Codable {
    public let account: String
    public let debit: Int64
    public let credit: Int64

    public static func debit(_ account: String, _ amount: Int64) -> Posting { Posting(account: account, debit: amount, credit: 0) }
    public static func credit(_ account: String, _ amount: Int64) -> Posting { Posting(account: account, debit: 0, credit: amount) }
}

/// A balanced set of postings with a reference to what caused it.
public struct LedgerTransaction: Hashable, Sendable, Codable {
    public let reference: String
    public let postings: [Posting]

    /// Builds a transaction; zero postings are dropped, and the rest must balance.
    public init(reference: String, postings: [Posting]) throws(DomainError) {
        let kept = postings.filter { $0.debit != 0 || $0.credit != 0 }
        guard kept.allSatisfy({ $0.debit >= 0 && $0.credit >= 0 }) else {
            throw DomainError(.invalidAmount, "postings are non-negative debits or credits")
        }
        let debits = kept.reduce(Int64(0)) { $0 + $1.debit }
        let credits = kept.reduce(Int64(0)) { $0 + $1.credit }
        guard debits == credits else {
            throw DomainError(.unbalanced, "transaction \(reference) does not balance: debits \(debits), credits \(credits)")
        }
        self.reference = reference
        self.postings = kept
    }

    public var amount: Int64 { postings.reduce(0) { $0 + $1.debit } }
}

/// Account names used by the one-card ledger.
public enum LedgerAccount {
    /// What the federation owes the card holder: cash paid in.
    public static func cardPrincipal(_ card: String) -> String { "card:\(card):principal" }
    /// Promotion value on the card.
    public static func cardBonus(_ card: String) -> String { "card:\(card):bonus" }
    /// Cash a park collected for loads.
    public static func parkCash(_ park: ParkID) -> String { "park:\(park):cash" }
    /// The bonus a park granted under its promotions (its cost).
    public static func parkPromotion(_ park: ParkID) -> String { "park:\(park):promotion" }
    /// What a park earned from spends captured there.
    public static func parkSales(_ park: ParkID) -> String { "park:\(park):sales" }
    /// What a park owes the federation (to pass on to other parks at settlement). A debit balance.
    public static func parkOwes(_ park: ParkID) -> String { "park:\(park):owes_federation" }
    /// What the federation owes a park (collected from other parks at settlement). A credit balance.
    public static func parkOwed(_ park: ParkID) -> String { "park:\(park):owed_by_federation" }
}
