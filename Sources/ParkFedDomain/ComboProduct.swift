/// A combo pass product (联票) defined by the federation: member parks, price, entries allowed per park, and each
/// park's allocation (its share of the price, per entry).
///
/// Invariant: the allocations times the entries add up to exactly the price, so that a fully used pass pays out
/// the whole price and nothing is left unassigned.
public struct ComboProduct: Hashable, Sendable {
    public struct Member: Hashable, Sendable {
        public let park: ParkID
        /// Entries allowed at this park (default 1; N-visit passes more).
        public let entries: Int
        /// The park's share of the price for each entry, in minor units.
        public let allocationPerEntry: Int64

        public init(park: ParkID, entries: Int = 1, allocationPerEntry: Int64) {
            self.park = park
            self.entries = entries
            self.allocationPerEntry = allocationPerEntry
        }
    }

    public let id: String
    public let price: Money
    public let members: [Member]

    public init(id: String, price: Money, members: [Member]) throws(DomainError) {
        guard !members.isEmpty, Set(members.map(\.park)).count == members.count else {
            throw DomainError(.invalidProduct, "a combo product lists each member park once, at least one")
        }
        guard members.allSatisfy({ (1...1000).contains($0.entries) && $0.allocationPerEntry >= 0 }) else {
            throw DomainError(.invalidProduct, "entries are 1-1000 and allocations non-negative")
        }
        let total = members.reduce(Int64(0)) { $0 + Int64($1.entries) * $1.allocationPerEntry }
        guard total == price.minorUnits else {
            throw DomainError(.invalidProduct, "allocations × entries add up to \(total), not the price \(price.minorUnits)")
        }
        self.id = id
        self.price = price
        self.members = members
    }

    /// Allocations from a price split by weights (largest remainder), for products defined by shares.
    public static func allocations(price: Money, weights: [(ParkID, Int64)]) throws(DomainError) -> [Member] {
        let parts = try price.split(weights: weights.map(\.1))
        return zip(weights, parts).map { Member(park: $0.0, entries: 1, allocationPerEntry: $1.minorUnits) }
    }

    public func member(_ park: ParkID) -> Member? { members.first { $0.park == park } }

    /// What a redemption at `park` moves: the issuing park owes the redeeming park its allocation (nothing when
    /// they are the same park).
    public func redemptionObligation(issuer: ParkID, at park: ParkID, reference: String) throws(DomainError) -> Obligation? {
        guard let member = member(park) else { throw DomainError(.notValidHere, "product \(id) is not valid at \(park)") }
        guard park != issuer, member.allocationPerEntry > 0 else { return nil }
        return Obligation(from: issuer, to: park, amountMinor: member.allocationPerEntry, reason: "pass_redemption", reference: reference)
    }

    /// The refund of a pass given the entries already used per park: an unused pass gets the full price; a partly
    /// used one gets the allocations of the entries not used.
    public func refund(used: [ParkID: Int]) throws(DomainError) -> Money {
        var amount: Int64 = 0
        for member in members {
            let taken = used[member.park] ?? 0
            guard (0...member.entries).contains(taken) else {
                throw DomainError(.invalidState, "\(taken) entries used at \(member.park), only \(member.entries) allowed")
            }
            amount += Int64(member.entries - taken) * member.allocationPerEntry
        }
        guard used.keys.allSatisfy({ member($0) != nil }) else { throw DomainError(.notValidHere, "entries recorded at a park outside the product") }
        return Money(minorUnits: amount, currency: price.currency)
    }
}
