import Foundation

/// `POST /v1/cards`: a park registers an IC card, wristband or virtual card.
public struct RegisterCardRequest: Codable, Sendable {
    public enum Kind: String, Codable, Sendable { case ic, wristband, virtual }
    public var cardID: String
    public var kind: Kind
    public var memberID: String?
    /// The member's current code (`MemberCode`): binding a card to a member needs the member present.
    public var memberCode: String?

    public init(cardID: String, kind: Kind, memberID: String? = nil, memberCode: String? = nil) {
        self.cardID = cardID
        self.kind = kind
        self.memberID = memberID
        self.memberCode = memberCode
    }

    enum CodingKeys: String, CodingKey {
        case kind
        case cardID = "card_id"
        case memberCode = "member_code"
        case memberID = "member_id"
    }
}

/// `POST /v1/cards/{card}/loads`: under a promotion (pay and bonus from the promotion) or a plain amount.
public struct LoadRequest: Codable, Sendable {
    public var loadID: String
    public var promotion: String?
    public var amountMinor: Int64?

    public init(loadID: String, promotion: String? = nil, amountMinor: Int64? = nil) {
        self.loadID = loadID
        self.promotion = promotion
        self.amountMinor = amountMinor
    }

    enum CodingKeys: String, CodingKey {
        case promotion
        case loadID = "load_id"
        case amountMinor = "amount_minor"
    }
}

/// `POST /v1/cards/{card}/holds`: reserve a spend at the calling park.
public struct HoldRequest: Codable, Sendable {
    public var requestID: String
    public var amountMinor: Int64
    /// The card's cryptogram over this hold (`CardCryptogram`, operation `hold`): the card is present.
    public var cardProof: CardProof

    public init(requestID: String, amountMinor: Int64, cardProof: CardProof) {
        self.requestID = requestID
        self.amountMinor = amountMinor
        self.cardProof = cardProof
    }

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id"
        case amountMinor = "amount_minor"
        case cardProof = "card_proof"
    }
}

/// What a card computed to show it is present: its transaction counter and the cryptogram over the operation
/// (`CardCryptogram` in ParkFedCrypto; docs/PROTOCOL.md says how a card issuer computes it).
public struct CardProof: Codable, Sendable, Hashable {
    public var counter: Int64
    public var cryptogram: String

    public init(counter: Int64, cryptogram: String) {
        self.counter = counter
        self.cryptogram = cryptogram
    }
}

/// `POST /v1/cards/{card}/holds/{request}/refunds`.
public struct CardRefundRequest: Codable, Sendable {
    public var refundID: String
    public var amountMinor: Int64
    /// The card's cryptogram (operation `refund`, request id = `refund_id`): the refund goes onto a card that is present.
    public var cardProof: CardProof

    public init(refundID: String, amountMinor: Int64, cardProof: CardProof) {
        self.refundID = refundID
        self.amountMinor = amountMinor
        self.cardProof = cardProof
    }

    enum CodingKeys: String, CodingKey {
        case refundID = "refund_id"
        case amountMinor = "amount_minor"
        case cardProof = "card_proof"
    }
}

/// `POST /v1/cards/{card}/block`: a lost card; with a replacement, its balance moves there.
public struct BlockCardRequest: Codable, Sendable {
    public var reason: String
    public var replacementCardID: String?
    /// Moving the balance needs the holder present: the old card's own cryptogram (operation `move`, amount 0,
    /// request id = the replacement card id) for a damaged card, or the current code of the member both cards are
    /// registered to for a lost one.
    public var cardProof: CardProof?
    public var memberCode: String?

    public init(reason: String, replacementCardID: String? = nil, cardProof: CardProof? = nil, memberCode: String? = nil) {
        self.reason = reason
        self.replacementCardID = replacementCardID
        self.cardProof = cardProof
        self.memberCode = memberCode
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case replacementCardID = "replacement_card_id"
        case cardProof = "card_proof"
        case memberCode = "member_code"
    }
}

/// A card's balances.
public struct CardView: Codable, Sendable, Hashable {
    public var cardID: String
    public var kind: String
    public var status: String
    public var currency: String
    public var principalMinor: Int64
    public var bonusMinor: Int64
    public var heldMinor: Int64
    public var availableMinor: Int64
    /// The card's own key (base64url, 32 bytes), answered to the registering park only, to write into the card
    /// (or the holder's app) when it is issued; never stored or shown again by the park.
    public var cardKey: String?

    public init(
        cardID: String, kind: String, status: String, currency: String, principalMinor: Int64, bonusMinor: Int64, heldMinor: Int64, availableMinor: Int64
    ) {
        self.cardID = cardID
        self.kind = kind
        self.status = status
        self.currency = currency
        self.principalMinor = principalMinor
        self.bonusMinor = bonusMinor
        self.heldMinor = heldMinor
        self.availableMinor = availableMinor
    }

    enum CodingKeys: String, CodingKey {
        case kind, status, currency
        case cardID = "card_id"
        case principalMinor = "principal_minor"
        case bonusMinor = "bonus_minor"
        case heldMinor = "held_minor"
        case availableMinor = "available_minor"
        case cardKey = "card_key"
    }
}

/// The answer to a load: what this load added, and the card's balances after it.
public struct LoadView: Codable, Sendable, Hashable {
    public var loadID: String
    public var principalMinor: Int64
    public var bonusMinor: Int64
    public var card: CardView

    public init(loadID: String, principalMinor: Int64, bonusMinor: Int64, card: CardView) {
        self.loadID = loadID
        self.principalMinor = principalMinor
        self.bonusMinor = bonusMinor
        self.card = card
    }

    enum CodingKeys: String, CodingKey {
        case card
        case loadID = "load_id"
        case principalMinor = "principal_minor"
        case bonusMinor = "bonus_minor"
    }
}

/// A spend authorisation (hold, and what became of it).
public struct AuthorisationView: Codable, Sendable, Hashable {
    public var cardID: String
    public var requestID: String
    public var park: String
    public var state: String
    public var amountMinor: Int64
    public var principalMinor: Int64
    public var bonusMinor: Int64
    public var refundedMinor: Int64
    public var expiresAt: Date

    public init(
        cardID: String, requestID: String, park: String, state: String, amountMinor: Int64, principalMinor: Int64, bonusMinor: Int64,
        refundedMinor: Int64, expiresAt: Date
    ) {
        self.cardID = cardID
        self.requestID = requestID
        self.park = park
        self.state = state
        self.amountMinor = amountMinor
        self.principalMinor = principalMinor
        self.bonusMinor = bonusMinor
        self.refundedMinor = refundedMinor
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case park, state
        case cardID = "card_id"
        case requestID = "request_id"
        case amountMinor = "amount_minor"
        case principalMinor = "principal_minor"
        case bonusMinor = "bonus_minor"
        case refundedMinor = "refunded_minor"
        case expiresAt = "expires_at"
    }
}

/// `GET /v1/cards/{card}/statement`.
public struct StatementView: Codable, Sendable {
    public struct Line: Codable, Sendable, Hashable {
        public var transaction: String
        public var account: String
        public var debitMinor: Int64
        public var creditMinor: Int64
        public var at: Date

        public init(transaction: String, account: String, debitMinor: Int64, creditMinor: Int64, at: Date) {
            self.transaction = transaction
            self.account = account
            self.debitMinor = debitMinor
            self.creditMinor = creditMinor
            self.at = at
        }

        enum CodingKeys: String, CodingKey {
            case transaction, account, at
            case debitMinor = "debit_minor"
            case creditMinor = "credit_minor"
        }
    }
    public var card: CardView
    public var lines: [Line]

    public init(card: CardView, lines: [Line]) {
        self.card = card
        self.lines = lines
    }
}

/// `partners/promotions.json`.
public struct PromotionsManifest: Codable, Sendable {
    public struct Promotion: Codable, Sendable, Hashable {
        public struct Ratio: Codable, Sendable, Hashable {
            public var principal: Int64
            public var bonus: Int64
        }
        public var id: String
        public var park: String
        public var payMinor: Int64
        public var bonusMinor: Int64
        public var deductionRatio: Ratio?
        public var bonusOwedByLoader: Bool
        public var currency: String

        enum CodingKeys: String, CodingKey {
            case id, park, currency
            case payMinor = "pay_minor"
            case bonusMinor = "bonus_minor"
            case deductionRatio = "deduction_ratio"
            case bonusOwedByLoader = "bonus_owed_by_loader"
        }
    }
    public var promotions: [Promotion]
}
