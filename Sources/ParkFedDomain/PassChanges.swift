/// Why a sale, refund or transfer of a pass is refused. The same refusal on every path: the hub's deciding
/// endpoints answer it as a 409 problem, and `/v1/assertions` rejects the assertion with it (nothing logged, nothing
/// changed).
public struct PassChangeRefusal: Error, Hashable, Sendable {
    /// A machine reason: `not_issuer`, `already_issued`, `pass_mismatch`, `slot_full`, `already_refunded`,
    /// `refund_mismatch`, `not_transferable`, `generation_mismatch`, `reissue_not_free`, `holder_mismatch`,
    /// `resale_above_cap`, `fee_mismatch`, `unknown_pass`, `invalid_price`.
    public let reason: String
    public let detail: String

    public init(_ reason: String, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }
}

/// The one rule for what may change a pass, apart from its entries (``ComboPass/admission(at:on:minute:generation:)``).
///
/// A pass belongs to the park that issued it: only that park sells it (once), refunds it, transfers or re-issues
/// it; nothing another park sends changes its price, holder or state. Pure: the hub reads the facts, asks here, and
/// writes only what an accepted change says, in the transaction that logs the assertion.
public enum PassChanges {
    /// The facts of a pass that its sale fixes for good: its issuer, product (variant), validity and the rest.
    public struct Facts: Hashable, Sendable {
        public var issuer: ParkID
        public var product: String
        public var validFrom: CivilDay
        public var validUntil: CivilDay
        public var category: String?
        public var heads: Int
        public var slot: String?
        public var stock: Bool

        public init(issuer: ParkID, product: String, validFrom: CivilDay, validUntil: CivilDay, category: String?, heads: Int, slot: String?, stock: Bool) {
            self.issuer = issuer
            self.product = product
            self.validFrom = validFrom
            self.validUntil = validUntil
            self.category = category
            self.heads = heads
            self.slot = slot
            self.stock = stock
        }
    }

    /// What a sale (`pass.issued`) claims about the pass.
    public struct Sale: Hashable, Sendable {
        public var passID: String
        public var facts: Facts
        public var priceMinor: Int64
        /// Whether the sale names a holder (sealed real-name data); exactly when the product is real-name.
        public var hasHolder: Bool

        public init(passID: String, facts: Facts, priceMinor: Int64, hasHolder: Bool = true) {
            self.passID = passID
            self.facts = facts
            self.priceMinor = priceMinor
            self.hasHolder = hasHolder
        }
    }

    /// What the hub already knows of a pass when its sale arrives: nothing, a pass an entry or a printed code made
    /// known before its sale (not yet `sold`), or a sold pass.
    public struct Known: Hashable, Sendable {
        public var facts: Facts
        public var sold: Bool

        public init(facts: Facts, sold: Bool) {
            self.facts = facts
            self.sold = sold
        }
    }

    /// Decides a sale. `product` is the sale's variant; `slotHeadsSold` the heads already sold into the sale's
    /// time slot on its day (nil when the product is not timed).
    public static func sale(_ sale: Sale, known: Known?, product: ComboProduct, slotHeadsSold: Int?) -> Result<Void, PassChangeRefusal> {
        guard sale.priceMinor >= 0 else { return .failure(.init("invalid_price", "a sale's price is not negative")) }
        // Real name is the product's rule, not the seller's choice: a real-name product's pass names its holder, and
        // a product sold without real name collects none.
        if product.realName, !sale.hasHolder {
            return .failure(.init("holder_required", "product \(product.id) is sold under real name: the sale must name its holder"))
        }
        if !product.realName, sale.hasHolder {
            return .failure(.init("holder_not_taken", "product \(product.id) is sold without real name: a sale names no holder"))
        }
        if let known {
            guard known.facts.issuer == sale.facts.issuer else {
                return .failure(.init("not_issuer", "pass \(sale.passID) was issued by \(known.facts.issuer): only its issuer sells it"))
            }
            guard !known.sold else {
                return .failure(.init("already_issued", "pass \(sale.passID) has been sold already: a sale is not repeated or changed"))
            }
            guard known.facts == sale.facts else {
                return .failure(.init("pass_mismatch", "the sale of \(sale.passID) does not match the pass its code made known"))
            }
        }
        if let slotID = sale.facts.slot {
            guard let slot = product.slot(slotID) else {
                return .failure(.init("pass_mismatch", "product \(product.id) has no time slot \(slotID)"))
            }
            let sold = slotHeadsSold ?? 0
            guard sold + product.heads <= slot.capacity else {
                return .failure(
                    .init(
                        "slot_full",
                        "time slot \(slot.id) of \(product.id) on \(sale.facts.validFrom) has \(max(0, slot.capacity - sold)) of \(slot.capacity) places left"))
            }
        }
        return .success(())
    }

    /// Decides a refund of `amountMinor` asked by `park`: the issuer only, once, exactly the refund due now.
    public static func refund(_ pass: ComboPass, by park: ParkID, amountMinor: Int64) -> Result<Void, PassChangeRefusal> {
        guard pass.issuer == park else { return .failure(.init("not_issuer", "pass \(pass.id) was issued by \(pass.issuer): only its issuer refunds it")) }
        let due: Money
        do { due = try pass.refundDue() } catch { return .failure(.init("already_refunded", error.message)) }
        guard due.minorUnits == amountMinor else {
            return .failure(.init("refund_mismatch", "the refund due for \(pass.id) is \(due.minorUnits), not \(amountMinor)"))
        }
        return .success(())
    }

    /// What a transfer or re-issue claims.
    public struct Transfer: Hashable, Sendable {
        public var generation: Int
        public var resalePriceMinor: Int64
        public var feeMinor: Int64
        public var reissue: Bool
        /// For a re-issue: whether the new holder's document is the current holder's (nil: no readable document).
        public var sameHolder: Bool?

        public init(generation: Int, resalePriceMinor: Int64, feeMinor: Int64, reissue: Bool, sameHolder: Bool?) {
            self.generation = generation
            self.resalePriceMinor = resalePriceMinor
            self.feeMinor = feeMinor
            self.reissue = reissue
            self.sameHolder = sameHolder
        }
    }

    /// Decides a transfer to a new holder (within the product's cap and with its fee) or a re-issue of a lost
    /// ticket (free, to the current holder), asked by `park`: the issuer only, to the next generation.
    public static func transfer(_ pass: ComboPass, by park: ParkID, _ change: Transfer) -> Result<Void, PassChangeRefusal> {
        guard pass.issuer == park else { return .failure(.init("not_issuer", "pass \(pass.id) was issued by \(pass.issuer): only its issuer transfers it")) }
        let product = pass.product
        if !change.reissue, !product.transfer.allowed { return .failure(.init("not_transferable", "product \(product.id) does not allow transfers")) }
        guard !pass.refunded else { return .failure(.init("already_refunded", "pass \(pass.id) has been refunded")) }
        guard change.generation == pass.generation + 1 else {
            return .failure(.init("generation_mismatch", "the next generation of \(pass.id) is \(pass.generation + 1), not \(change.generation)"))
        }
        if change.reissue {
            guard change.resalePriceMinor == 0, change.feeMinor == 0 else {
                return .failure(.init("reissue_not_free", "a re-issue has no resale price and no fee"))
            }
            guard change.sameHolder == true else {
                return .failure(.init("holder_mismatch", "a re-issue goes only to the pass's current real-name holder"))
            }
        } else {
            guard change.resalePriceMinor >= 0 else { return .failure(.init("resale_above_cap", "a resale price is not negative")) }
            if let cap = product.transfer.resaleCapMinor, change.resalePriceMinor > cap {
                return .failure(.init("resale_above_cap", "the resale price \(change.resalePriceMinor) is above the cap \(cap)"))
            }
            guard change.feeMinor == product.transfer.feeMinor else {
                return .failure(.init("fee_mismatch", "the transfer fee of \(product.id) is \(product.transfer.feeMinor), not \(change.feeMinor)"))
            }
        }
        return .success(())
    }
}
