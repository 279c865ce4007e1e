/// A ticket category of a product, with its own price and allocations (one visitor, or one head of a group).
///
/// Every product has the implicit category `full` (its own price and members); a product may add concession
/// categories (child, senior, student, disabled, military: the document that proves the right is named and the gate
/// is told to check it) and group categories (one pass for at least `minimumHeads` people, priced, allocated and
/// counted per head).
///
/// Invariant, checked when the product is built: the category's allocations times the entries add up to exactly its
/// per-head price (under the product's allocation rule), so a fully used pass of any category pays out its whole price.
public struct TicketCategory: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case full, concession, group
    }

    /// The category id on the wire and in pass codes (`full`, `child`, `senior`, `student`, `group`, …).
    public let id: String
    public let kind: Kind
    /// The price of one head, in the product's currency's minor units.
    public let priceMinor: Int64
    /// Each park's share of one head's entry, in minor units: one for every member park of the product.
    public let allocations: [ParkID: Int64]
    /// The document that proves a concession (e.g. "student card"): named on the pass and checked at the gate.
    public let proof: String?
    /// The smallest and largest head count of one pass (1 and 1 except for groups).
    public let minimumHeads: Int
    public let maximumHeads: Int

    public init(
        id: String, kind: Kind, priceMinor: Int64, allocations: [ParkID: Int64], proof: String? = nil,
        minimumHeads: Int = 1, maximumHeads: Int = 1
    ) throws(DomainError) {
        guard !id.isEmpty, id.count <= 32, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw DomainError(.invalidProduct, "a category id is 1-32 letters, digits, - or _")
        }
        guard priceMinor >= 0, allocations.values.allSatisfy({ $0 >= 0 }) else {
            throw DomainError(.invalidProduct, "category \(id): price and allocations are non-negative")
        }
        switch kind {
        case .full:
            guard proof == nil, minimumHeads == 1, maximumHeads == 1 else {
                throw DomainError(.invalidProduct, "category \(id): a full ticket is one head, no proof")
            }
        case .concession:
            guard let proof, (1...64).contains(proof.count) else {
                throw DomainError(.invalidProduct, "category \(id): a concession names the document that proves it (1-64 characters)")
            }
            guard minimumHeads == 1, maximumHeads == 1 else { throw DomainError(.invalidProduct, "category \(id): a concession is one head") }
        case .group:
            guard proof == nil else { throw DomainError(.invalidProduct, "category \(id): a group has no proof document") }
            guard (2...1000).contains(minimumHeads), (minimumHeads...1000).contains(maximumHeads) else {
                throw DomainError(.invalidProduct, "category \(id): a group is 2-1000 heads, minimum ≤ maximum")
            }
        }
        self.id = id
        self.kind = kind
        self.priceMinor = priceMinor
        self.allocations = allocations
        self.proof = proof
        self.minimumHeads = minimumHeads
        self.maximumHeads = maximumHeads
    }

    /// The id of the implicit full-price category.
    public static let fullID = "full"
}

/// An entry window of a timed product (e.g. 09:00–11:00) with its own capacity in heads per day.
///
/// A pass of a timed product is for one day and one slot: the gate refuses it outside the window
/// (``PassRefusal/outsideTimeSlot``), and the hub refuses a sale once the slot's heads sold that day reach its
/// capacity.
public struct TimeSlot: Hashable, Sendable {
    public let id: String
    /// Minutes after local midnight, `start` included, `end` excluded.
    public let startMinute: Int
    public let endMinute: Int
    /// Heads that may hold a pass for this slot on one day.
    public let capacity: Int

    public init(id: String, startMinute: Int, endMinute: Int, capacity: Int) throws(DomainError) {
        guard !id.isEmpty, id.count <= 16, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw DomainError(.invalidProduct, "a time slot id is 1-16 letters, digits, - or _")
        }
        guard (0..<1440).contains(startMinute), (startMinute + 1...1440).contains(endMinute) else {
            throw DomainError(.invalidProduct, "time slot \(id): start before end, within one day")
        }
        guard (1...1_000_000).contains(capacity) else { throw DomainError(.invalidProduct, "time slot \(id): capacity is 1-1000000") }
        self.id = id
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.capacity = capacity
    }

    /// Whether an entry at `minute` after local midnight falls in the window.
    public func admits(minute: Int) -> Bool { (startMinute..<endMinute).contains(minute) }

    /// "HH:MM" of a minute of the day.
    public static func clock(_ minute: Int) -> String {
        let h = minute / 60, m = minute % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }

    /// Parses "HH:MM" (00:00-24:00) into minutes after midnight.
    public static func minute(_ text: String) throws(DomainError) -> Int {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
            (0...24).contains(h), (0...59).contains(m), h * 60 + m <= 1440
        else {
            throw DomainError(.invalidProduct, "a time is HH:MM, not \(text)")
        }
        return h * 60 + m
    }
}
