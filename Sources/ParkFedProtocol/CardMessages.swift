import Foundation

/// `POST /v1/cards`: a park registers an IC card, wristband or virtual card.
public struct RegisterCardRequest: Codable, Sendable {
    public enum Kind: String, Codable, Sendable { case ic, wristband, virtual }
    public var cardID: String
    public var kind: Kind
    public var memberID: String?

    public init(cardID: String, kind: Kind, memberID: String? = nil) {
        self.cardID = cardID
        self.kind = kind
        self.memberID = memberID
    }

    enum CodingKeys: String, CodingKey {
        case kind
        case cardID = "card_id"
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

    public init(requestID: String, amountMinor: Int64) {
        self.requestID = requestID
        self.amountMinor = amountMinor
    }

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id"
        case amountMinor = "amount_minor"
    }
}

/// `POST /v1/cards/{card}/holds/{request}/refunds`.
public struct CardRefundRequest: Codable, Sendable {
    public var refundID: String
    public var amountMinor: Int64

    public init(refundID: String, amountMinor: Int64) {
        self.refundID = refundID
        self.amountMinor = amountMinor
    }

    enum CodingKeys: String, CodingKey {
        case refundID = "refund_id"
        case amountMinor = "amount_minor"
    }
}

/// `POST /v1/cards/{card}/block`: a lost card; with a replacement, its balance moves there.
public struct BlockCardRequest: Codable, Sendable {
    public var reason: String
    public var replacementCardID: String?

    public init(reason: String, replacementCardID: String? = nil) {
        self.reason = reason
        self.replacementCardID = replacementCardID
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case replacementCardID = "replacement_card_id"
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

    public init(cardID: String, kind: String, status: String, currency: String, principalMinor: Int64, bonusMinor: Int64, heldMinor: Int64, availableMinor: Int64) {
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

    public init(cardID: String, requestID: String, park: String, state: String, amountMinor: Int64, principalMinor: Int64, bonusMinor: Int64,
                refundedMinor: Int64, expiresAt: Date) {
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
