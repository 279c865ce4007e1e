/// A reseller's pass at its net rate: the reseller collects the retail price from the visitor and owes the
/// federation's parks only the net, allocated to them by the product's own allocation rule.
///
/// Invariant: the net pass's allocations times its entries add up to exactly the net (as a park's pass adds up to
/// its price), so a fully used reseller pass pays out exactly the net and an unused one nothing; refunds follow the
/// product's refund rule on the net.
extension ComboProduct {
    /// This product (a variant: category and heads priced) sold by a reseller at `netMinor`: the per-entry
    /// allocations scaled to the net by the largest remainder over the parks' full-use shares. Refused when the net
    /// is above the price or negative, for membership passes (their price is split by entries when they end, which
    /// a reseller does not take part in), and when fen would be left unassigned: a pooled pass's net that does not
    /// divide into its entries, or shares that do not divide into entries when no park has a single entry.
    public func atNet(_ netMinor: Int64) throws(DomainError) -> ComboProduct {
        guard (0...price.minorUnits).contains(netMinor) else {
            throw DomainError(.invalidProduct, "a net rate is 0 to the price \(price.minorUnits), not \(netMinor)")
        }
        guard case .perEntry = allocation else {
            throw DomainError(.invalidProduct, "product \(id) is a membership pass (allocated by entries): resellers do not sell it")
        }
        let scaled: [Member]
        if let entriesTotal {
            guard netMinor % Int64(entriesTotal) == 0 else {
                throw DomainError(.invalidProduct, "the net \(netMinor) of pooled product \(id) does not divide into its \(entriesTotal) entries")
            }
            scaled = members.map { Member(park: $0.park, entries: $0.entries, allocationPerEntry: netMinor / Int64(entriesTotal)) }
        } else if price.minorUnits == 0 {
            scaled = members
        } else {
            // Each park's full-use share of the net by the largest remainder, per entry rounded down; the fen that
            // do not divide into a park's entries go to the first park with a single entry (they are then exact).
            let shares = try Money(minorUnits: netMinor, currency: price.currency).split(weights: members.map { Int64($0.entries) * $0.allocationPerEntry })
            var perEntry = zip(members, shares).map { $1.minorUnits / Int64($0.entries) }
            let leftover = netMinor - zip(members, perEntry).reduce(Int64(0)) { $0 + Int64($1.0.entries) * $1.1 }
            if leftover > 0 {
                guard let single = members.firstIndex(where: { $0.entries == 1 }) else {
                    throw DomainError(
                        .invalidProduct, "at the net \(netMinor), \(leftover) fen of \(id) do not divide into its parks' entries: choose a net that does")
                }
                perEntry[single] += leftover
            }
            let list = zip(members, perEntry).map { Member(park: $0.park, entries: $0.entries, allocationPerEntry: $1) }
            scaled = list
        }
        var net = try ComboProduct(
            id: id, name: name, price: Money(minorUnits: netMinor, currency: price.currency), members: scaled, validity: validity,
            entriesTotal: entriesTotal, transfer: transfer, refundRule: refundRule, allocation: allocation, slots: slots, realName: realName)
        net.category = category
        net.heads = heads
        return net
    }
}

/// A reseller's rate for one product and category: the retail price it sells at (informative, for OCTO's
/// pricing) and the net it owes, per head, in minor units.
public struct ResellerRate: Hashable, Sendable {
    public let product: String
    /// `full` or one of the product's categories.
    public let category: String
    public let retailMinor: Int64
    public let netMinor: Int64

    public init(product: String, category: String, retailMinor: Int64, netMinor: Int64) throws(DomainError) {
        guard netMinor >= 0, retailMinor >= netMinor else {
            throw DomainError(.invalidProduct, "a rate's net is not negative and not above its retail (\(product)/\(category): \(netMinor) > \(retailMinor))")
        }
        self.product = product
        self.category = category
        self.retailMinor = retailMinor
        self.netMinor = netMinor
    }

    /// The reseller's commission per head: what it keeps of the retail price.
    public var commissionMinor: Int64 { retailMinor - netMinor }
}
