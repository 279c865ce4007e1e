/// A combo pass product (联票) defined by the federation: member parks, price, validity, entries allowed per park
/// (and optionally in total), each park's allocation (its share of the price, per entry), and the transfer and
/// refund terms.
///
/// Invariants, checked at construction:
/// - per-park entries: the allocations times the entries add up to exactly the price, so a fully used pass pays out
///   the whole price and nothing is left unassigned;
/// - a pooled pass (`entriesTotal`, "any N entries at the member parks"): every allocation is the same and
///   `entriesTotal × allocation == price`, for the same reason;
/// - a membership pass (annual, season, month: ``AllocationRule/byEntries(issuerRetainedBasisPoints:)``): entries earn
///   nothing when they happen (every allocation is 0); the price is split by entries once the pass has ended, and
///   only an unused pass is refunded.
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

    /// When a pass of the product may be used.
    public enum Validity: Hashable, Sendable {
        /// Between two dates, inclusive.
        case fixed(from: CivilDay, until: CivilDay)
        /// `days` calendar days from the first entry anywhere (inclusive of that day); the pass must be activated
        /// within `activateWithinDays` of its sale date.
        case fromFirstUse(days: Int, activateWithinDays: Int)
    }

    /// What a refund gives back.
    public enum RefundRule: String, Hashable, Sendable {
        /// An unused pass in full; a partly used pass the allocations of the entries not used (the default).
        case unusedAllocations = "unused_allocations"
        /// An unused pass in full; nothing once used.
        case unusedPassOnly = "unused_pass_only"
    }

    /// Transfer to another named holder: allowed or not, the resale price cap and the fee the issuer keeps.
    public struct TransferTerms: Hashable, Sendable {
        public let allowed: Bool
        public let resaleCapMinor: Int64?
        public let feeMinor: Int64

        public init(allowed: Bool, resaleCapMinor: Int64? = nil, feeMinor: Int64 = 0) {
            self.allowed = allowed
            self.resaleCapMinor = resaleCapMinor
            self.feeMinor = feeMinor
        }

        public static let notAllowed = TransferTerms(allowed: false)
    }

    /// How the price reaches the parks.
    public enum AllocationRule: Hashable, Sendable {
        /// Each entry earns its park the park's allocation when it happens (combo passes; the default).
        case perEntry
        /// Membership passes: when the pass has ended, the issuer keeps `issuerRetainedBasisPoints` of the price
        /// (rounded down) and the rest is split among the parks by their counted entries (largest remainder). A pass
        /// never used leaves the whole price with its issuer.
        case byEntries(issuerRetainedBasisPoints: Int)
    }

    public let id: String
    public let name: String
    public let price: Money
    public let members: [Member]
    public let validity: Validity
    public let entriesTotal: Int?
    public let transfer: TransferTerms
    public let refundRule: RefundRule
    public let allocation: AllocationRule
    /// Categories beside the implicit `full` one (its price and allocations are the product's own).
    public let categories: [TicketCategory]
    /// Entry windows; when there are any, every pass names one and is for a single day.
    public let slots: [TimeSlot]
    /// Whether a pass carries its holder's real name and document (实名制); false where a city or park dropped
    /// compulsory real-name booking: no holder is taken, and such a pass cannot be transferred to a named holder.
    public let realName: Bool
    /// Set on a variant (``variant(category:heads:)``): the category it prices, and the heads one pass admits.
    public internal(set) var category: TicketCategory?
    public internal(set) var heads: Int = 1

    public init(
        id: String, name: String? = nil, price: Money, members: [Member],
        validity: Validity = .fromFirstUse(days: 1, activateWithinDays: 365), entriesTotal: Int? = nil,
        transfer: TransferTerms = .notAllowed, refundRule: RefundRule = .unusedAllocations,
        allocation: AllocationRule = .perEntry, categories: [TicketCategory] = [], slots: [TimeSlot] = [], realName: Bool = true
    ) throws(DomainError) {
        guard realName || !transfer.allowed else {
            throw DomainError(.invalidProduct, "a product sold without real name cannot be transferred to a named holder")
        }
        guard !members.isEmpty, Set(members.map(\.park)).count == members.count else {
            throw DomainError(.invalidProduct, "a combo product lists each member park once, at least one")
        }
        guard members.allSatisfy({ (1...10_000).contains($0.entries) && $0.allocationPerEntry >= 0 }) else {
            throw DomainError(.invalidProduct, "entries are 1-10000 and allocations non-negative")
        }
        if case .byEntries(let retained) = allocation {
            guard (0...10_000).contains(retained) else { throw DomainError(.invalidProduct, "the issuer's retained share is 0-10000 basis points") }
            guard members.allSatisfy({ $0.allocationPerEntry == 0 }) else {
                throw DomainError(.invalidProduct, "a pass allocated by entries has no per-entry allocations (they are 0)")
            }
            guard refundRule == .unusedPassOnly else {
                throw DomainError(.invalidProduct, "a pass allocated by entries is refunded only unused (refund_rule unused_pass_only)")
            }
            if let entriesTotal, !(1...10_000).contains(entriesTotal) { throw DomainError(.invalidProduct, "entries_total is 1-10000") }
        } else if let entriesTotal {
            guard (1...1000).contains(entriesTotal) else { throw DomainError(.invalidProduct, "entries_total is 1-1000") }
            let allocation = members[0].allocationPerEntry
            guard members.allSatisfy({ $0.allocationPerEntry == allocation }), Int64(entriesTotal) * allocation == price.minorUnits else {
                throw DomainError(
                    .invalidProduct, "a pooled pass has one allocation per entry, and entries_total × allocation is the price \(price.minorUnits)")
            }
        } else {
            let total = members.reduce(Int64(0)) { $0 + Int64($1.entries) * $1.allocationPerEntry }
            guard total == price.minorUnits else {
                throw DomainError(.invalidProduct, "allocations × entries add up to \(total), not the price \(price.minorUnits)")
            }
        }
        switch validity {
        case .fixed(let from, let until):
            guard from <= until else { throw DomainError(.invalidProduct, "valid_from is after valid_until") }
        case .fromFirstUse(let days, let window):
            guard (1...3660).contains(days), (1...3660).contains(window) else {
                throw DomainError(.invalidProduct, "days and activate_within_days are 1-3660")
            }
        }
        if transfer.allowed {
            guard transfer.feeMinor >= 0, (transfer.resaleCapMinor ?? 0) >= 0 else {
                throw DomainError(.invalidProduct, "the transfer fee and resale cap are non-negative")
            }
        }
        self.id = id
        self.name = name ?? id
        self.price = price
        self.members = members
        self.validity = validity
        self.entriesTotal = entriesTotal
        self.transfer = transfer
        self.refundRule = refundRule
        self.allocation = allocation
        self.categories = categories
        self.slots = slots
        self.realName = realName
        guard Set(categories.map(\.id)).count == categories.count, !categories.contains(where: { $0.id == TicketCategory.fullID }) else {
            throw DomainError(.invalidProduct, "category ids are listed once each, and `full` is the product's own price")
        }
        let parks = Set(members.map(\.park))
        for category in categories {
            guard Set(category.allocations.keys) == parks else {
                throw DomainError(.invalidProduct, "category \(category.id) allocates to exactly the member parks")
            }
            // The category's own sums, by the same rules as the product's.
            do { _ = try variant(category: category.id, heads: category.minimumHeads) } catch {
                throw DomainError(.invalidProduct, "category \(category.id): \(error.message)")
            }
        }
        guard Set(slots.map(\.id)).count == slots.count else { throw DomainError(.invalidProduct, "time slot ids are listed once each") }
        if !slots.isEmpty {
            switch validity {
            case .fixed: break
            case .fromFirstUse(let days, _):
                guard days == 1 else { throw DomainError(.invalidProduct, "a timed product (time slots) is a day ticket: from_first_use days 1, or fixed") }
            }
        }
    }

    /// The product as one pass of `category` (nil: `full`) for `heads` people prices and allocates it: the category's
    /// per-head price and allocations times the heads, the same entries (one scan admits the whole group).
    public func variant(category id: String?, heads: Int) throws(DomainError) -> ComboProduct {
        guard self.category == nil else { throw DomainError(.invalidProduct, "a variant has no variants") }
        guard let id, id != TicketCategory.fullID else {
            guard heads == 1 else { throw DomainError(.invalidProduct, "a full ticket is for one head") }
            return self
        }
        guard let category = categories.first(where: { $0.id == id }) else {
            throw DomainError(.invalidProduct, "product \(self.id) has no category \(id)")
        }
        guard (category.minimumHeads...category.maximumHeads).contains(heads) else {
            throw DomainError(.invalidProduct, "category \(id) is for \(category.minimumHeads)-\(category.maximumHeads) heads, not \(heads)")
        }
        let price = Money(minorUnits: category.priceMinor * Int64(heads), currency: self.price.currency)
        let members = members.map { Member(park: $0.park, entries: $0.entries, allocationPerEntry: (category.allocations[$0.park] ?? 0) * Int64(heads)) }
        let transfer = TransferTerms(
            allowed: transfer.allowed, resaleCapMinor: transfer.resaleCapMinor.map { min($0 * Int64(heads), price.minorUnits) },
            feeMinor: transfer.feeMinor)
        var variant = try ComboProduct(
            id: self.id, name: name, price: price, members: members, validity: validity, entriesTotal: entriesTotal,
            transfer: transfer, refundRule: refundRule, allocation: allocation, slots: slots, realName: realName)
        variant.category = category
        variant.heads = heads
        return variant
    }

    /// `base` as a pass of `category` for `heads` people prices it; nil when there is no base or no such variant.
    public static func variant(of base: ComboProduct?, category: String?, heads: Int) -> ComboProduct? {
        base.flatMap { try? $0.variant(category: category, heads: heads) }
    }

    public func slot(_ id: String) -> TimeSlot? { slots.first { $0.id == id } }

    /// Allocations from a price split by weights (largest remainder), for products defined by shares.
    public static func allocations(price: Money, weights: [(ParkID, Int64)]) throws(DomainError) -> [Member] {
        let parts = try price.split(weights: weights.map(\.1))
        return zip(weights, parts).map { Member(park: $0.0, entries: 1, allocationPerEntry: $1.minorUnits) }
    }

    public func member(_ park: ParkID) -> Member? { members.first { $0.park == park } }

    /// The validity window of a pass sold for `date`: fixed products from `date` (or their first day) to their last;
    /// first-use products from `date` to the last day it may be activated.
    /// A timed product's pass is for `date` alone.
    public func saleWindow(date: CivilDay) throws(DomainError) -> (from: CivilDay, until: CivilDay) {
        switch validity {
        case .fixed(let from, let until):
            guard date <= until else { throw DomainError(.invalidProduct, "product \(id) is valid only until \(until)") }
            if !slots.isEmpty {
                guard date >= from else { throw DomainError(.invalidProduct, "product \(id) is valid only from \(from)") }
                return (date, date)
            }
            return (max(from, date), until)
        case .fromFirstUse(_, _) where !slots.isEmpty:
            return (date, date)
        case .fromFirstUse(_, let window):
            return (date, date.adding(days: window - 1))
        }
    }

    /// What a redemption at `park` moves: the issuing park owes the redeeming park its allocation (nothing when
    /// they are the same park).
    public func redemptionObligation(issuer: ParkID, at park: ParkID, reference: String) throws(DomainError) -> Obligation? {
        guard let member = member(park) else { throw DomainError(.notValidHere, "product \(id) is not valid at \(park)") }
        guard park != issuer, member.allocationPerEntry > 0 else { return nil }
        return Obligation(from: issuer, to: park, amountMinor: member.allocationPerEntry, reason: "pass_redemption", reference: reference)
    }

    /// The refund of a pass given the entries already used per park: an unused pass gets the full price; a partly
    /// used one the price less the allocations of the entries used (under the default rule), or nothing.
    public func refund(used: [ParkID: Int]) throws(DomainError) -> Money {
        var spent: Int64 = 0
        var usedTotal = 0
        for (park, taken) in used {
            guard let member = member(park) else { throw DomainError(.notValidHere, "entries recorded at \(park), outside the product") }
            guard (0...member.entries).contains(taken) else {
                throw DomainError(.invalidState, "\(taken) entries used at \(park), only \(member.entries) allowed")
            }
            spent += Int64(taken) * member.allocationPerEntry
            usedTotal += taken
        }
        if let entriesTotal, usedTotal > entriesTotal {
            throw DomainError(.invalidState, "\(usedTotal) entries used, only \(entriesTotal) allowed in total")
        }
        if usedTotal > 0, refundRule == .unusedPassOnly { return Money(minorUnits: 0, currency: price.currency) }
        return Money(minorUnits: price.minorUnits - spent, currency: price.currency)
    }

    /// What a membership pass's price comes to once the pass has ended, given the entries counted per park: the
    /// issuer owes each other park its share (nothing for a `perEntry` product, which paid at each entry).
    ///
    /// The issuer keeps its retained share (rounded down); the rest is split by entries with the largest remainder,
    /// so the parts add up to exactly the price; a pass with no entries leaves everything with the issuer.
    public func entryAllocation(issuer: ParkID, entries: [ParkID: Int], reference: String) throws(DomainError) -> [Obligation] {
        guard case .byEntries(let retainedBasisPoints) = allocation else { return [] }
        let counted = entries.filter { $0.value > 0 }.sorted { $0.key.rawValue < $1.key.rawValue }
        guard !counted.isEmpty else { return [] }
        for (park, _) in counted where member(park) == nil {
            throw DomainError(.notValidHere, "entries recorded at \(park), outside the product")
        }
        let retained = price.minorUnits * Int64(retainedBasisPoints) / 10_000
        let shared = Money(minorUnits: price.minorUnits - retained, currency: price.currency)
        let parts = try shared.split(weights: counted.map { Int64($0.value) })
        var obligations: [Obligation] = []
        for ((park, _), part) in zip(counted, parts) where park != issuer && part.minorUnits > 0 {
            obligations.append(Obligation(from: issuer, to: park, amountMinor: part.minorUnits, reason: Self.entryAllocationReason, reference: reference))
        }
        assert(parts.reduce(0) { $0 + $1.minorUnits } + retained == price.minorUnits, "a membership pass's split adds up to its price")
        return obligations
    }

    /// The obligation reason of a membership pass's allocation.
    public static let entryAllocationReason = "member_pass_allocation"
}
