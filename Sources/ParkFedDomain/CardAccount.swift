import Foundation

/// Money one park owes another, and why. Obligations feed settlement.
public struct Obligation: Hashable, Sendable, Codable {
    public let from: ParkID
    public let to: ParkID
    public let amountMinor: Int64
    public let reason: String
    public let reference: String

    public init(from: ParkID, to: ParkID, amountMinor: Int64, reason: String, reference: String) {
        self.from = from
        self.to = to
        self.amountMinor = amountMinor
        self.reason = reason
        self.reference = reference
    }
}

/// What an operation on a card did: ledger transactions (balanced) and obligations between parks.
public struct CardEffect: Hashable, Sendable {
    public var transactions: [LedgerTransaction] = []
    public var obligations: [Obligation] = []
    /// True when the operation had already been done (an idempotent repeat): nothing new happened.
    public var repeated = false

    public init(transactions: [LedgerTransaction] = [], obligations: [Obligation] = [], repeated: Bool = false) {
        self.transactions = transactions
        self.obligations = obligations
        self.repeated = repeated
    }
}

/// A one-card (IC card, wristband or virtual card) with its stored value, as the hub keeps it.
///
/// Value is held in lots, one per load, each remembering the loading park: a spend takes its principal and bonus
/// parts from the oldest lots first, and the loading park of each lot owes the spending park what was taken (the
/// bonus too unless the promotion says otherwise). Spends are two-phase: a hold reserves the split, a capture takes
/// it, a void or expiry releases it; every step is idempotent by the spending park's request id.
///
/// Invariants (checked by ``checkInvariants()``): no lot below zero; holds never exceed the balances.
public struct CardAccount: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable { case active, blocked }

    public struct Lot: Hashable, Sendable, Codable {
        public let loadID: String
        public let park: ParkID
        public let loadedPrincipal: Int64
        public let loadedBonus: Int64
        public var principal: Int64
        public var bonus: Int64
        public let bonusOwedByLoader: Bool
    }

    /// What a capture took from one lot.
    public struct Draw: Hashable, Sendable, Codable {
        public let loadID: String
        public let park: ParkID
        public var principal: Int64
        public var bonus: Int64
        public let bonusOwedByLoader: Bool

        var owed: Int64 { principal + (bonusOwedByLoader ? bonus : 0) }
    }

    public struct Authorisation: Hashable, Sendable, Codable {
        public enum State: String, Hashable, Sendable, Codable { case held, captured, voided, expired }
        public let requestID: String
        public let park: ParkID
        public let amount: Int64
        public let principal: Int64
        public let bonus: Int64
        public let expiresAt: Date
        public var state: State
        public var draws: [Draw] = []
        /// Refunds by refund id.
        public var refunds: [String: Int64] = [:]

        public var refunded: Int64 { refunds.values.reduce(0, +) }
    }

    public let id: String
    public var status: Status = .active
    /// The operator-set deduction ratio of the latest load's promotion; `nil` means the load's own ratio.
    public var ratio: StoredValueSplit.Ratio?
    public var lots: [Lot] = []
    public var authorisations: [String: Authorisation] = [:]
    /// The highest card counter (application transaction counter) of a cryptogram the hub accepted (nil before the
    /// first), and which of the 63 counters below it were accepted too (bit n: counter − n − 1). A card-present
    /// operation must show a counter never accepted and no more than 64 below the highest, so a recorded
    /// cryptogram cannot be replayed, while two readers' requests may still arrive out of order.
    public var counter: Int64?
    public var recentCounters: UInt64?

    /// How far below the highest accepted counter a new one may be (requests arriving out of order).
    public static let counterWindow: Int64 = 64

    public init(id: String) { self.id = id }

    /// Records that the card was present with `counter` (its cryptogram already verified): refused when that
    /// counter was accepted before or is too old (see ``counter``).
    public mutating func present(counter newCounter: Int64) throws(DomainError) {
        guard newCounter > 0 else { throw DomainError(.cardNotPresent, "a card counter is positive") }
        let highest = counter ?? 0
        var seen = recentCounters ?? 0
        if newCounter > highest {
            let shift = newCounter - highest
            seen = shift >= Self.counterWindow ? 0 : (seen << UInt64(shift))
            if highest > 0, shift < Self.counterWindow { seen |= 1 << UInt64(shift - 1) }
            counter = newCounter
            recentCounters = seen
            return
        }
        let below = highest - newCounter
        guard below > 0, below < Self.counterWindow, seen & (1 << UInt64(below - 1)) == 0 else {
            throw DomainError(.cardNotPresent, "card counter \(newCounter) was used before or is too old (highest \(highest)): a replayed cryptogram")
        }
        recentCounters = seen | (1 << UInt64(below - 1))
    }

    public var principalBalance: Int64 { lots.reduce(0) { $0 + $1.principal } }
    public var bonusBalance: Int64 { lots.reduce(0) { $0 + $1.bonus } }
    public var heldPrincipal: Int64 { authorisations.values.filter { $0.state == .held }.reduce(0) { $0 + $1.principal } }
    public var heldBonus: Int64 { authorisations.values.filter { $0.state == .held }.reduce(0) { $0 + $1.bonus } }
    public var availablePrincipal: Int64 { principalBalance - heldPrincipal }
    public var availableBonus: Int64 { bonusBalance - heldBonus }
    public var available: Int64 { availablePrincipal + availableBonus }

    // MARK: Loads

    /// Loads `principal` (cash the loading park collects) and `bonus` (its promotion). Idempotent by `loadID`.
    public mutating func load(
        loadID: String, park: ParkID, principal: Int64, bonus: Int64, ratio: StoredValueSplit.Ratio?,
        bonusOwedByLoader: Bool = true
    ) throws(DomainError) -> CardEffect {
        guard status == .active else { throw DomainError(.cardBlocked, "card \(id) is blocked") }
        guard principal > 0, bonus >= 0, principal <= 100_000_000, bonus <= 100_000_000 else {
            throw DomainError(.invalidAmount, "a load is a positive principal and a non-negative bonus, each at most 1,000,000.00")
        }
        if let earlier = lots.first(where: { $0.loadID == loadID }) {
            guard earlier.park == park, earlier.loadedPrincipal == principal, earlier.loadedBonus == bonus else {
                throw DomainError(.requestConflict, "load \(loadID) was already made with other figures")
            }
            return CardEffect(repeated: true)
        }
        lots.append(
            Lot(
                loadID: loadID, park: park, loadedPrincipal: principal, loadedBonus: bonus, principal: principal, bonus: bonus,
                bonusOwedByLoader: bonusOwedByLoader))
        self.ratio = ratio
        let transaction = try LedgerTransaction(
            reference: "load:\(loadID)",
            postings: [
                .debit(LedgerAccount.parkCash(park), principal), .credit(LedgerAccount.cardPrincipal(id), principal),
                .debit(LedgerAccount.parkPromotion(park), bonus), .credit(LedgerAccount.cardBonus(id), bonus),
            ])
        return CardEffect(transactions: [transaction])
    }

    // MARK: Two-phase spends

    /// Marks holds past their expiry as expired, releasing what they reserved.
    public mutating func expireHolds(now: Date) {
        for (key, authorisation) in authorisations where authorisation.state == .held && authorisation.expiresAt <= now {
            authorisations[key]!.state = .expired
        }
    }

    /// Reserves `amount` for a spend at `park`, split by the deduction rule. Idempotent by `requestID`.
    public mutating func hold(requestID: String, park: ParkID, amount: Int64, now: Date, lifetime: TimeInterval) throws(DomainError) -> Authorisation {
        expireHolds(now: now)
        if let earlier = authorisations[requestID] {
            guard earlier.park == park, earlier.amount == amount else {
                throw DomainError(.requestConflict, "request \(requestID) was already used for another spend")
            }
            return earlier
        }
        guard status == .active else { throw DomainError(.cardBlocked, "card \(id) is blocked") }
        let split = try StoredValueSplit.split(amount: amount, principalBalance: availablePrincipal, bonusBalance: availableBonus, ratio: ratio)
        let authorisation = Authorisation(
            requestID: requestID, park: park, amount: amount, principal: split.principal, bonus: split.bonus,
            expiresAt: now.addingTimeInterval(lifetime), state: .held)
        authorisations[requestID] = authorisation
        return authorisation
    }

    /// Takes a held spend: the lots give their parts (oldest first), the spending park earns the amount, and each
    /// loading park owes it what its lot gave. Idempotent: a second capture changes nothing.
    public mutating func capture(requestID: String, park: ParkID, now: Date) throws(DomainError) -> CardEffect {
        expireHolds(now: now)
        guard var authorisation = authorisations[requestID], authorisation.park == park else {
            throw DomainError(.unknownRequest, "no spend \(requestID) of \(park) on card \(id)")
        }
        switch authorisation.state {
        case .captured: return CardEffect(repeated: true)
        case .voided, .expired: throw DomainError(.invalidState, "spend \(requestID) was \(authorisation.state.rawValue), it cannot be captured")
        case .held: break
        }
        var principalLeft = authorisation.principal, bonusLeft = authorisation.bonus
        var draws: [Draw] = []
        for index in lots.indices where principalLeft > 0 || bonusLeft > 0 {
            let principal = min(principalLeft, lots[index].principal)
            let bonus = min(bonusLeft, lots[index].bonus)
            guard principal > 0 || bonus > 0 else { continue }
            lots[index].principal -= principal
            lots[index].bonus -= bonus
            principalLeft -= principal
            bonusLeft -= bonus
            draws.append(
                Draw(
                    loadID: lots[index].loadID, park: lots[index].park, principal: principal, bonus: bonus,
                    bonusOwedByLoader: lots[index].bonusOwedByLoader))
        }
        precondition(principalLeft == 0 && bonusLeft == 0, "a held spend is always covered by the lots")
        authorisation.state = .captured
        authorisation.draws = draws
        authorisations[requestID] = authorisation
        let transaction = try LedgerTransaction(
            reference: "capture:\(requestID)",
            postings: [
                .debit(LedgerAccount.cardPrincipal(id), authorisation.principal), .debit(LedgerAccount.cardBonus(id), authorisation.bonus),
                .credit(LedgerAccount.parkSales(park), authorisation.amount),
            ])
        let obligations = Self.owed(draws, to: park).map { loader, amount in
            Obligation(from: loader, to: park, amountMinor: amount, reason: "card_spend", reference: "capture:\(requestID)")
        }
        return CardEffect(transactions: [transaction] + (try Self.clearing(obligations)), obligations: obligations)
    }

    /// Releases a held spend. Idempotent for a voided one; a captured spend is refunded instead.
    public mutating func void(requestID: String, park: ParkID, now: Date) throws(DomainError) -> CardEffect {
        expireHolds(now: now)
        guard let authorisation = authorisations[requestID], authorisation.park == park else {
            throw DomainError(.unknownRequest, "no spend \(requestID) of \(park) on card \(id)")
        }
        switch authorisation.state {
        case .voided, .expired: return CardEffect(repeated: true)
        case .captured: throw DomainError(.invalidState, "spend \(requestID) was captured; refund it instead")
        case .held:
            authorisations[requestID]!.state = .voided
            return CardEffect()
        }
    }

    /// Gives back `amount` of a captured spend to the card (to the lots it came from, newest draw first), reversing
    /// the sales and the obligations. Idempotent by `refundID`.
    public mutating func refund(requestID: String, refundID: String, park: ParkID, amount: Int64) throws(DomainError) -> CardEffect {
        guard var authorisation = authorisations[requestID], authorisation.park == park, authorisation.state == .captured else {
            throw DomainError(.unknownRequest, "no captured spend \(requestID) of \(park) on card \(id)")
        }
        if let earlier = authorisation.refunds[refundID] {
            guard earlier == amount else { throw DomainError(.requestConflict, "refund \(refundID) was already made for another amount") }
            return CardEffect(repeated: true)
        }
        guard amount > 0, amount <= authorisation.amount - authorisation.refunded else {
            throw DomainError(.invalidAmount, "a refund is positive and at most the \(authorisation.amount - authorisation.refunded) not yet refunded")
        }
        // Split the refund like the spend (largest remainder), then return it to the draws, newest first.
        let parts = try Money(minorUnits: amount).split(weights: [authorisation.principal, authorisation.bonus])
        var principalBack = parts[0].minorUnits, bonusBack = parts[1].minorUnits
        var returned: [Draw] = []
        for index in authorisation.draws.indices.reversed() where principalBack > 0 || bonusBack > 0 {
            let principal = min(principalBack, authorisation.draws[index].principal)
            let bonus = min(bonusBack, authorisation.draws[index].bonus)
            authorisation.draws[index].principal -= principal
            authorisation.draws[index].bonus -= bonus
            principalBack -= principal
            bonusBack -= bonus
            if let lot = lots.firstIndex(where: { $0.loadID == authorisation.draws[index].loadID }) {
                lots[lot].principal += principal
                lots[lot].bonus += bonus
            }
            var back = authorisation.draws[index]
            back.principal = principal
            back.bonus = bonus
            returned.append(back)
        }
        precondition(principalBack == 0 && bonusBack == 0, "a refund never exceeds what the spend drew")
        authorisation.refunds[refundID] = amount
        authorisations[requestID] = authorisation
        let giveBackPrincipal = returned.reduce(0) { $0 + $1.principal }, giveBackBonus = returned.reduce(0) { $0 + $1.bonus }
        let transaction = try LedgerTransaction(
            reference: "refund:\(requestID):\(refundID)",
            postings: [
                .debit(LedgerAccount.parkSales(park), amount),
                .credit(LedgerAccount.cardPrincipal(id), giveBackPrincipal), .credit(LedgerAccount.cardBonus(id), giveBackBonus),
            ])
        let obligations = Self.owed(returned, to: park).map { loader, owed in
            Obligation(from: park, to: loader, amountMinor: owed, reason: "card_refund", reference: "refund:\(requestID):\(refundID)")
        }
        return CardEffect(transactions: [transaction] + (try Self.clearing(obligations)), obligations: obligations)
    }

    /// The federation's side of each obligation: the debtor owes the federation, the federation owes the creditor.
    static func clearing(_ obligations: [Obligation]) throws(DomainError) -> [LedgerTransaction] {
        var transactions: [LedgerTransaction] = []
        for obligation in obligations {
            transactions.append(
                try LedgerTransaction(
                    reference: "obligation:\(obligation.reference):\(obligation.from)>\(obligation.to)",
                    postings: [
                        .debit(LedgerAccount.parkOwes(obligation.from), obligation.amountMinor),
                        .credit(LedgerAccount.parkOwed(obligation.to), obligation.amountMinor),
                    ]))
        }
        return transactions
    }

    /// What each loading park (other than the spending park) owes for these draws.
    static func owed(_ draws: [Draw], to park: ParkID) -> [(ParkID, Int64)] {
        var byPark: [ParkID: Int64] = [:]
        for draw in draws where draw.park != park { byPark[draw.park, default: 0] += draw.owed }
        return byPark.filter { $0.value > 0 }.sorted { $0.key < $1.key }
    }

    // MARK: Lost cards

    /// Blocks the card: no new holds or loads; held spends are voided.
    public mutating func block() {
        status = .blocked
        for (key, authorisation) in authorisations where authorisation.state == .held { authorisations[key]!.state = .voided }
    }

    /// Moves a blocked card's whole balance (its lots, with their loading parks) to `replacement`.
    public mutating func moveBalance(to replacement: inout CardAccount) throws(DomainError) -> CardEffect {
        guard status == .blocked else { throw DomainError(.invalidState, "only a blocked card's balance can be moved") }
        guard replacement.status == .active, replacement.id != id else { throw DomainError(.invalidState, "the new card must be another active card") }
        let principal = principalBalance, bonus = bonusBalance
        for lot in lots where lot.principal > 0 || lot.bonus > 0 {
            replacement.lots.append(
                Lot(
                    loadID: "\(lot.loadID)>\(replacement.id)", park: lot.park, loadedPrincipal: lot.principal, loadedBonus: lot.bonus,
                    principal: lot.principal, bonus: lot.bonus, bonusOwedByLoader: lot.bonusOwedByLoader))
        }
        if replacement.ratio == nil { replacement.ratio = ratio }
        for index in lots.indices {
            lots[index].principal = 0
            lots[index].bonus = 0
        }
        let transaction = try LedgerTransaction(
            reference: "move:\(id)>\(replacement.id)",
            postings: [
                .debit(LedgerAccount.cardPrincipal(id), principal), .credit(LedgerAccount.cardPrincipal(replacement.id), principal),
                .debit(LedgerAccount.cardBonus(id), bonus), .credit(LedgerAccount.cardBonus(replacement.id), bonus),
            ])
        return CardEffect(transactions: [transaction])
    }

    // MARK: Invariants

    /// Throws if the card is in a state the rules forbid.
    public func checkInvariants() throws(DomainError) {
        guard lots.allSatisfy({ $0.principal >= 0 && $0.bonus >= 0 && $0.principal <= $0.loadedPrincipal + 100_000_000 }) else {
            throw DomainError(.invalidState, "card \(id) has a lot below zero")
        }
        guard availablePrincipal >= 0, availableBonus >= 0 else { throw DomainError(.invalidState, "card \(id) has holds beyond its balance") }
    }
}
