import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// One-card stored value: the hub keeps every card's balances and authorises every spend online (hold, then
/// capture or void), so that two parks spending one card at once can never overdraw it. Every movement is a
/// balanced ledger transaction; spends away from the loading park create obligations for settlement.
extension Hub {
    /// Imports `partners/promotions.json` (validated) into the hub.
    public func importPromotions(file: String) async throws -> Int {
        guard let data = FileManager.default.contents(atPath: file) else { throw WireError("cannot read \(file)") }
        let manifest = try StrictJSON.decode(PromotionsManifest.self, from: data)
        for promotion in manifest.promotions {
            guard (1...64).contains(promotion.id.count), promotion.payMinor > 0, promotion.bonusMinor >= 0 else {
                throw WireError("promotion \(promotion.id): pay must be positive and bonus non-negative")
            }
            _ = try Currency(promotion.currency)
            let ratio = try promotion.deductionRatio.map { try StoredValueSplit.Ratio(principal: $0.principal, bonus: $0.bonus) }
            try await store.upsertPromotion(
                PromotionRecord(
                    id: promotion.id, park: try ParkID(promotion.park), payMinor: promotion.payMinor, bonusMinor: promotion.bonusMinor,
                    ratio: ratio, bonusOwedByLoader: promotion.bonusOwedByLoader, currency: promotion.currency))
        }
        return manifest.promotions.count
    }

    static func park(of peer: AuthenticatedPeer) throws -> ParkID {
        guard case .park(let park) = peer.principal else {
            throw Refusal(.forbidden, code: "forbidden_for_principal", title: "Only parks operate cards")
        }
        return park
    }

    /// The identifier rule of the assertion schemas, refused as a 400 problem.
    static func checkIdentifier(_ value: String, _ field: String) throws {
        do { try Check.identifier(value, field) } catch {
            throw Refusal(.invalid, code: "invalid_body", title: "Invalid \(field)", detail: error.message)
        }
    }

    /// Maps the domain's and the store's refusals to problem details.
    static func cardProblem(_ error: any Error) -> any Error {
        switch error {
        case let error as DomainError:
            let kind: Refusal.Kind =
                switch error.code {
                case .insufficientBalance: .unprocessable
                case .cardNotPresent: .forbidden
                case .cardBlocked, .requestConflict, .invalidState: .conflict
                case .unknownRequest: .notFound
                default: .invalid
                }
            return Refusal(kind, code: error.code.rawValue, title: "Card operation refused", detail: error.message)
        case let error as StoreError:
            return Refusal(
                error.code == .notFound ? .notFound : .conflict, code: error.code == .notFound ? "unknown_card" : error.code.rawValue,
                title: "Card operation refused", detail: error.message)
        default:
            return error
        }
    }

    /// Runs a store call on a card, mapping the domain's and the store's refusals to problem details.
    static func cardCall<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw cardProblem(error) }
    }

    /// Checks a card's cryptogram over an operation (``CardCryptogram``): `card_not_present` unless it is the one
    /// the card itself computes. The counter's freshness is checked with the card's state, in its transaction.
    func checkCardProof(_ proof: CardProof, _ operation: CardCryptogram.Operation, cardID: String, amountMinor: Int64, park: ParkID, requestID: String) throws {
        let key = CardCryptogram.cardKey(issuerKey: cardIssuerKey, cardID: cardID)
        guard proof.counter > 0,
            CardCryptogram.verify(
                proof.cryptogram, key: key, operation, cardID: cardID, counter: proof.counter, amountMinor: amountMinor,
                park: park.rawValue, requestID: requestID)
        else {
            throw Refusal(
                .forbidden, code: "card_not_present", title: "The card is not present",
                detail: "no valid cryptogram of card \(cardID) for this \(operation.rawValue) at \(park): only the card itself can make one")
        }
    }

    /// Registers (issues) a card at this park, which becomes its custodian; a member's card needs the member
    /// present (their current code). The answer carries the card's own key, to be written into the card.
    public func registerCard(_ request: RegisterCardRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> CardView {
        let park = try Self.park(of: peer)
        try Self.checkIdentifier(request.cardID, "card_id")
        if let member = request.memberID {
            try Self.checkIdentifier(member, "member_id")
            guard try await store.member(member) != nil else {
                throw Refusal(.notFound, code: "unknown_member", title: "Unknown member", detail: "no member \(member): enroll the member first")
            }
            guard let code = request.memberCode else {
                throw Refusal(
                    .invalid, code: "member_code_required", title: "The member must be present",
                    detail: "binding a card to a member needs the member's current code (member_code)")
            }
            // A retried registration (same park, same member) needs no new code: the member was present the first time.
            let existing = try await store.card(request.cardID)
            if existing?.registeredBy != park || existing?.memberID != member {
                _ = try await presentMember(code: code, park: park, now: now, expecting: member)
            }
        } else if request.memberCode != nil {
            throw Refusal(.invalid, code: "invalid_body", title: "member_code without member_id")
        }
        let record = try await Self.cardCall {
            try await store.registerCard(id: request.cardID, kind: request.kind.rawValue, park: park, memberID: request.memberID, now: now)
        }
        var view = Self.view(record)
        view.cardKey = CardCryptogram.cardKey(issuerKey: cardIssuerKey, cardID: record.account.id).withUnsafeBytes { Base64URL.encode(Data($0)) }
        return view
    }

    public func loadCard(_ cardID: String, _ request: LoadRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> LoadView {
        let park = try Self.park(of: peer)
        try Self.checkIdentifier(request.loadID, "load_id")
        let principal: Int64, bonus: Int64, ratio: StoredValueSplit.Ratio?, bonusOwed: Bool
        switch (request.promotion, request.amountMinor) {
        case (let id?, nil):
            guard let promotion = try await store.promotion(id) else {
                throw Refusal(.notFound, code: "unknown_promotion", title: "Unknown promotion", detail: "no promotion \(id)")
            }
            guard promotion.park == park else {
                throw Refusal(
                    .forbidden, code: "promotion_of_other_park", title: "Another park's promotion",
                    detail: "promotion \(id) belongs to \(promotion.park)")
            }
            (principal, bonus, ratio, bonusOwed) = (promotion.payMinor, promotion.bonusMinor, promotion.ratio, promotion.bonusOwedByLoader)
        case (nil, let amount?):
            (principal, bonus, ratio, bonusOwed) = (amount, 0, nil, true)
        default:
            throw Refusal(.invalid, code: "invalid_body", title: "Invalid load", detail: "give either promotion or amount_minor")
        }
        do {
            let (record, _, _) = try await store.updateCard(cardID, now: now) { account, _ in
                (try account.load(loadID: request.loadID, park: park, principal: principal, bonus: bonus, ratio: ratio, bonusOwedByLoader: bonusOwed), ())
            }
            return LoadView(loadID: request.loadID, principalMinor: principal, bonusMinor: bonus, card: Self.view(record))
        } catch { throw Self.cardProblem(error) }
    }

    /// A spend authorisation at this park, with the card present (its cryptogram over this hold).
    public func holdCard(_ cardID: String, _ request: HoldRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> AuthorisationView {
        let park = try Self.park(of: peer)
        try Self.checkIdentifier(request.requestID, "request_id")
        guard request.amountMinor > 0, request.amountMinor <= 100_000_000 else {
            throw Refusal(.invalid, code: "invalid_amount", title: "Invalid amount", detail: "amount_minor must be 1-100000000")
        }
        try checkCardProof(request.cardProof, .hold, cardID: cardID, amountMinor: request.amountMinor, park: park, requestID: request.requestID)
        let lifetime = TimeInterval(configuration.cardHoldSeconds)
        let (_, _, authorisation) = try await Self.cardCall {
            try await store.updateCard(cardID, request: request.requestID, now: now) { account, _ in
                // A retried request (same id) answers as first decided; a new one must show a fresh counter.
                if account.authorisations[request.requestID] == nil { try account.present(counter: request.cardProof.counter) }
                return (CardEffect(), try account.hold(requestID: request.requestID, park: park, amount: request.amountMinor, now: now, lifetime: lifetime))
            }
        }
        return Self.view(cardID, authorisation)
    }

    public enum Settle: String, Sendable { case capture, void }

    public func settleHold(_ cardID: String, requestID: String, _ action: Settle, peer: AuthenticatedPeer, now: Date = Date()) async throws -> AuthorisationView
    {
        let park = try Self.park(of: peer)
        do {
            let (record, _, _) = try await store.updateCard(cardID, request: requestID, now: now) { account, _ in
                switch action {
                case .capture: (try account.capture(requestID: requestID, park: park, now: now), ())
                case .void: (try account.void(requestID: requestID, park: park, now: now), ())
                }
            }
            return Self.view(cardID, record.account.authorisations[requestID]!)
        } catch { throw Self.cardProblem(error) }
    }

    /// Refunds part or all of this park's captured spend back onto the card, with the card present.
    public func refundCard(_ cardID: String, requestID: String, _ request: CardRefundRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws
        -> AuthorisationView
    {
        let park = try Self.park(of: peer)
        try Self.checkIdentifier(request.refundID, "refund_id")
        try checkCardProof(request.cardProof, .refund, cardID: cardID, amountMinor: request.amountMinor, park: park, requestID: request.refundID)
        let (record, _, _) = try await Self.cardCall {
            try await store.updateCard(cardID, request: requestID, now: now) { account, _ in
                if account.authorisations[requestID]?.refunds[request.refundID] == nil { try account.present(counter: request.cardProof.counter) }
                return (try account.refund(requestID: requestID, refundID: request.refundID, park: park, amount: request.amountMinor), ())
            }
        }
        return Self.view(cardID, record.account.authorisations[requestID]!)
    }

    /// Blocks a lost card (its custodian, the registering park, only), and moves its balance to a replacement of
    /// the same holder with the holder present (``CardCustody``).
    public func blockCard(_ cardID: String, _ request: BlockCardRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> CardView {
        let park = try Self.park(of: peer)
        guard let record = try await store.card(cardID) else { throw Refusal(.notFound, code: "unknown_card", title: "No such card") }
        guard !request.reason.isEmpty, request.reason.count <= 200 else {
            throw Refusal(.invalid, code: "invalid_body", title: "Invalid reason", detail: "reason is 1-200 characters")
        }
        try Self.custody(CardCustody.block(Self.custodyCard(record), by: park))
        if let replacement = request.replacementCardID {
            try Self.checkIdentifier(replacement, "replacement_card_id")
            guard let new = try await store.card(replacement) else {
                throw Refusal(.notFound, code: "unknown_card", title: "No such replacement card")
            }
            var presence: CardCustody.Presence?
            if let proof = request.cardProof {
                try checkCardProof(proof, .move, cardID: cardID, amountMinor: 0, park: park, requestID: replacement)
                presence = .card
            } else if let code = request.memberCode {
                presence = .member(try await presentMember(code: code, park: park, now: now).id)
            }
            try Self.custody(CardCustody.move(Self.custodyCard(record), to: Self.custodyCard(new), by: park, presence: presence))
            _ = try await Self.cardCall {
                try await store.updateCards(cardID, replacement, now: now) { lost, new in
                    if let proof = request.cardProof { try lost.present(counter: proof.counter) }
                    lost.block()
                    return try lost.moveBalance(to: &new)
                }
            }
        } else {
            guard request.cardProof == nil, request.memberCode == nil else {
                throw Refusal(.invalid, code: "invalid_body", title: "card_proof and member_code go with replacement_card_id")
            }
            _ = try await Self.cardCall {
                try await store.updateCard(cardID, now: now) { account, _ in
                    account.block()
                    return (CardEffect(), ())
                }
            }
        }
        return await Self.view(try store.card(cardID)!)
    }

    static func custodyCard(_ record: CardRecord) -> CardCustody.Card {
        CardCustody.Card(
            id: record.account.id, registeredBy: record.registeredBy, memberID: record.memberID,
            loadedBy: Set(record.account.lots.map(\.park)))
    }

    static func custody(_ result: Result<Void, DomainError>) throws {
        if case .failure(let error) = result {
            throw Refusal(
                .forbidden, code: error.code == .cardNotPresent ? "card_not_present" : "forbidden_for_principal",
                title: "Card custody refused", detail: error.message)
        }
    }

    /// A card's balances: for the park that registered the card (the holder's park) and the parks that loaded it.
    public func cardBalance(_ cardID: String, peer: AuthenticatedPeer, now: Date = Date()) async throws -> CardView {
        let park = try Self.park(of: peer)
        guard var record = try await store.card(cardID) else { throw Refusal(.notFound, code: "unknown_card", title: "No such card") }
        try Self.requireCustodian(park, of: record)
        record.account.expireHolds(now: now)
        return Self.view(record)
    }

    /// Balances and every ledger line of the card, for the same parks as ``cardBalance(_:peer:now:)``.
    public func cardStatement(_ cardID: String, peer: AuthenticatedPeer, now: Date = Date()) async throws -> StatementView {
        let card = try await cardBalance(cardID, peer: peer, now: now)
        let lines = try await store.statement(card: cardID).map {
            StatementView.Line(transaction: $0.transaction, account: $0.account, debitMinor: $0.debit, creditMinor: $0.credit, at: $0.at)
        }
        return StatementView(card: card, lines: lines)
    }

    static func requireCustodian(_ park: ParkID, of record: CardRecord) throws {
        try custody(CardCustody.read(custodyCard(record), by: park))
    }

    static func view(_ record: CardRecord) -> CardView {
        let account = record.account
        return CardView(
            cardID: account.id, kind: record.kind, status: account.status.rawValue, currency: "CNY",
            principalMinor: account.principalBalance, bonusMinor: account.bonusBalance,
            heldMinor: account.heldPrincipal + account.heldBonus, availableMinor: account.available)
    }

    static func view(_ cardID: String, _ authorisation: CardAccount.Authorisation) -> AuthorisationView {
        AuthorisationView(
            cardID: cardID, requestID: authorisation.requestID, park: authorisation.park.rawValue, state: authorisation.state.rawValue,
            amountMinor: authorisation.amount, principalMinor: authorisation.principal, bonusMinor: authorisation.bonus,
            refundedMinor: authorisation.refunded, expiresAt: authorisation.expiresAt)
    }
}
