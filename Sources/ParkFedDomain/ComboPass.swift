/// Why a gate refuses a pass. The raw values are the machine reasons of the gate API.
public enum PassRefusal: String, Error, Hashable, Sendable, CaseIterable {
    /// The code does not parse, or its signature does not verify.
    case forged
    /// Signed with a key that is not on the trust list.
    case unknownKey = "unknown_key"
    /// Refunded, transferred to another holder (old code), or the issuing key or park revoked.
    case revoked
    case notYetValid = "not_yet_valid"
    case expired
    /// The product does not include this park.
    case notValidHere = "not_valid_here"
    /// No entries left at this park (or in total).
    case alreadyUsed = "already_used"
    /// The park's daily or hourly capacity is reached.
    case capacityFull = "capacity_full"
    /// As many people are inside now as the park's instantaneous capacity (瞬时承载量): the visitor waits until
    /// others leave (an exit frees a place).
    case capacityFullNow = "capacity_full_now"
    /// The product is not known to this node (its catalogue is older than the pass).
    case unknownProduct = "unknown_product"
    /// A timed pass scanned outside its entry window (its day is checked as validity).
    case outsideTimeSlot = "outside_time_slot"
    /// A pre-printed code that has not been sold (activated) yet, or whose sale this gate cannot know offline.
    case notActivated = "not_activated"
    /// A pre-printed code voided by its park.
    case voided
}

/// The state of one combo pass, as the hub (authoritatively) or a node agent (for its own gates) knows it, and the
/// one rule that decides an entry. Pure: callers load it, ask, and store what changed in the same transaction.
public struct ComboPass: Hashable, Sendable {
    public let id: String
    public let product: ComboProduct
    public let issuer: ParkID
    /// Sale window: fixed products' validity, or the days within which a first-use pass must be activated.
    public var validFrom: CivilDay
    public var validUntil: CivilDay
    /// Bumped by each transfer or re-issue; codes of older generations are refused.
    public var generation: Int
    public var refunded: Bool
    /// The day of the first entry anywhere (first-use products).
    public var activatedOn: CivilDay?
    /// Entries counted per park.
    public var entries: [ParkID: Int]
    /// The entry window of a timed pass (one of its product's slots).
    public var slot: String?

    public init(
        id: String, product: ComboProduct, issuer: ParkID, validFrom: CivilDay, validUntil: CivilDay, generation: Int = 0,
        refunded: Bool = false, activatedOn: CivilDay? = nil, entries: [ParkID: Int] = [:], slot: String? = nil
    ) {
        self.slot = slot
        self.id = id
        self.product = product
        self.issuer = issuer
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.generation = generation
        self.refunded = refunded
        self.activatedOn = activatedOn
        self.entries = entries
    }

    /// What an admitted entry leaves.
    public struct Admission: Hashable, Sendable {
        /// Entries still allowed after this one: at this park, and within the pooled total when the product has one.
        public let entriesLeft: Int
        /// Set when this entry activates a first-use pass.
        public let activates: CivilDay?
        /// The last day the pass can be used, once known.
        public let usableUntil: CivilDay?
        /// The day the pass was first used, counting this entry (this entry's day when it activates the pass).
        public let activatedOn: CivilDay?
    }

    public var usedTotal: Int { entries.values.reduce(0, +) }

    /// The last day the pass may be used, as far as is known now.
    public var usableUntil: CivilDay {
        if case .fromFirstUse(let days, _) = product.validity, let activatedOn { return activatedOn.adding(days: days - 1) }
        return validUntil
    }

    /// Decides an entry at `park` on `day` (at `minute` after local midnight, for timed passes) by a code of
    /// `generation`, without changing anything.
    public func admission(at park: ParkID, on day: CivilDay, minute: Int? = nil, generation codeGeneration: Int) -> Result<Admission, PassRefusal> {
        guard !refunded, codeGeneration >= generation else { return .failure(.revoked) }
        guard let member = product.member(park) else { return .failure(.notValidHere) }
        if !product.slots.isEmpty {
            // A timed pass outside its window is refused for that reason, after its day is checked as validity below.
            guard let slot, let window = product.slot(slot) else { return .failure(.outsideTimeSlot) }
            if day >= validFrom, day <= validUntil, let minute, !window.admits(minute: minute) { return .failure(.outsideTimeSlot) }
        }
        let activates: CivilDay?
        switch dates(on: day) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let day): activates = day
        }
        let usedHere = entries[park] ?? 0
        guard usedHere < member.entries else { return .failure(.alreadyUsed) }
        var left = member.entries - usedHere - 1
        if let total = product.entriesTotal {
            guard usedTotal < total else { return .failure(.alreadyUsed) }
            left = min(left, total - usedTotal - 1)
        }
        let until: CivilDay? =
            switch product.validity {
            case .fixed: validUntil
            case .fromFirstUse(let days, _): (activatedOn ?? activates).map { $0.adding(days: days - 1) }
            }
        return .success(Admission(entriesLeft: left, activates: activates, usableUntil: until, activatedOn: activatedOn ?? activates))
    }

    /// Whether `day` is within the pass's validity; the day a first-use pass would be activated on, when it would.
    func dates(on day: CivilDay) -> Result<CivilDay?, PassRefusal> {
        switch product.validity {
        case .fixed:
            if day < validFrom { return .failure(.notYetValid) }
            if day > validUntil { return .failure(.expired) }
            return .success(nil)
        case .fromFirstUse(let days, _):
            if let activatedOn {
                if day < activatedOn { return .failure(.notYetValid) }
                if day > activatedOn.adding(days: days - 1) { return .failure(.expired) }
                return .success(nil)
            }
            if day < validFrom { return .failure(.notYetValid) }
            if day > validUntil { return .failure(.expired) }
            return .success(day)
        }
    }

    /// The emergency fast check (a gate in `fast_check` mode, knowing no entries): the same rule of dates and place,
    /// with what the gate cannot know read in the pass's favour. A first-use pass counts as activated on its last
    /// valid day at the latest, so it is refused only after the last day it could be used; entries, slots and
    /// revocations are left to the hub, which keeps an entry it would have refused as a conflict.
    /// - Returns: the refusal, or `nil` when the gate admits.
    public func fastCheck(at park: ParkID, on day: CivilDay) -> PassRefusal? {
        var widest = self
        if case .fromFirstUse = product.validity, activatedOn == nil, day > validUntil { widest.activatedOn = validUntil }
        if case .failure(let refusal) = widest.dates(on: day) { return refusal }
        return product.member(park) == nil ? .notValidHere : nil
    }

    /// Counts an admitted entry.
    public mutating func record(_ admission: Admission, at park: ParkID) {
        entries[park, default: 0] += 1
        if let day = admission.activates, activatedOn == nil { activatedOn = day }
    }

    /// The refund due now under the product's rule.
    public func refundDue() throws(DomainError) -> Money {
        guard !refunded else { throw DomainError(.invalidState, "pass \(id) has already been refunded") }
        return try product.refund(used: entries)
    }
}
