import Foundation
import ParkFedCrypto
import ParkFedDomain

/// A reference to a real-name holder as it may travel between parks: masked name, document type, and a keyed
/// digest of the document number (never the number itself).
public struct HolderRef: Codable, Sendable, Hashable {
    public enum DocumentType: String, Codable, Sendable, CaseIterable {
        case residentID = "resident_id", passport, hkMacauPermit = "hk_macau_permit", taiwanPermit = "taiwan_permit"
        case foreignPermanentResident = "foreign_permanent_resident", other
    }
    public var nameMasked: String
    public var idType: DocumentType
    /// base64url HMAC-SHA256 of the document number under the selling park's key (43 characters).
    public var idDigest: String
    /// The full name and document, sealed to the hub (``HolderSealing``, `h1.…`): only the hub can read it.
    public var sealed: String?

    public init(nameMasked: String, idType: DocumentType, idDigest: String, sealed: String? = nil) {
        self.nameMasked = nameMasked
        self.idType = idType
        self.idDigest = idDigest
        self.sealed = sealed
    }

    enum CodingKeys: String, CodingKey {
        case sealed
        case nameMasked = "name_masked"
        case idType = "id_type"
        case idDigest = "id_digest"
    }

    func validate(_ field: String) throws(WireError) {
        try Check.text(nameMasked, "\(field).name_masked", max: 64)
        try Check.digest(idDigest, "\(field).id_digest")
        if let sealed {
            guard sealed.hasPrefix("h1."), (1...2048).contains(sealed.utf8.count) else { throw WireError("\(field).sealed must be an h1. sealed value") }
        }
    }

    /// What a park seals to the hub about a holder: the holder exactly as the window entered it.
    public typealias Sealed = HolderInput
    /// The HPKE purpose string sealed holders are bound to.
    public static let sealPurpose = "parkfed.holder"
}

/// `pass.issued`: a combo pass sold by the issuing park, which collects the money.
public struct PassIssued: Codable, Sendable, Hashable {
    public enum Channel: String, Codable, Sendable { case window, kiosk, miniProgram = "mini_program", ota }
    public var passID: String
    public var product: String
    public var channel: Channel
    public var priceMinor: Int64
    public var currency: String
    /// The real-name holder; nil only for a product sold without real name (`real_name: false`).
    public var holder: HolderRef?
    public var validFrom: String
    public var validUntil: String
    /// The ticket category when not `full`, the heads of a group, the entry window of a timed pass.
    public var category: String?
    public var heads: Int?
    public var slot: String?
    /// The serial number of the pre-printed stock code this sale activated.
    public var stockSerial: String?

    public init(
        passID: String, product: String, channel: Channel, priceMinor: Int64, currency: String = "CNY",
        holder: HolderRef?, validFrom: String, validUntil: String, category: String? = nil, heads: Int? = nil, slot: String? = nil,
        stockSerial: String? = nil
    ) {
        self.category = category
        self.heads = heads
        self.slot = slot
        self.stockSerial = stockSerial
        self.passID = passID
        self.product = product
        self.channel = channel
        self.priceMinor = priceMinor
        self.currency = currency
        self.holder = holder
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    enum CodingKeys: String, CodingKey {
        case product, channel, currency, holder, category, heads, slot
        case passID = "pass_id"
        case priceMinor = "price_minor"
        case validFrom = "valid_from"
        case validUntil = "valid_until"
        case stockSerial = "stock_serial"
    }

    func validate() throws(WireError) {
        try Check.identifier(passID, "pass_id")
        try Check.identifier(product, "product")
        try Check.amount(priceMinor, "price_minor")
        try Check.currency(currency)
        try holder?.validate("holder")
        try Check.day(validFrom, "valid_from")
        try Check.day(validUntil, "valid_until")
        guard validFrom <= validUntil else { throw WireError("valid_from is after valid_until") }
        if let category { try Check.identifier(category, "category") }
        if let heads, !(2...1000).contains(heads) { throw WireError("heads is 2-1000 (omitted for one)") }
        if let slot { try Check.identifier(slot, "slot") }
        if let stockSerial { try Check.identifier(stockSerial, "stock_serial") }
    }
}

/// `pass.redeemed`: an entry at a gate of the reporting park.
public struct PassRedeemed: Codable, Sendable, Hashable {
    public var passID: String
    public var issuerPark: ParkID
    public var gate: String
    public var enteredAt: Date
    public var offline: Bool
    /// The scanned pass code (the issuer's signed JWS), so that the entry is evidence on its own.
    public var code: String

    public init(passID: String, issuerPark: ParkID, gate: String, enteredAt: Date, offline: Bool, code: String) {
        self.passID = passID
        self.issuerPark = issuerPark
        self.gate = gate
        self.enteredAt = enteredAt
        self.offline = offline
        self.code = code
    }

    enum CodingKeys: String, CodingKey {
        case gate, offline, code
        case passID = "pass_id"
        case issuerPark = "issuer_park"
        case enteredAt = "entered_at"
    }

    func validate() throws(WireError) {
        try Check.identifier(passID, "pass_id")
        try Check.identifier(gate, "gate")
        guard (1...PassCode.maximumLength).contains(code.utf8.count) else { throw WireError("code must be 1-\(PassCode.maximumLength) bytes") }
    }
}

/// `pass.refunded`: money returned for a pass by its issuing park.
public struct PassRefunded: Codable, Sendable, Hashable {
    public var passID: String
    public var amountMinor: Int64
    public var currency: String
    public var reason: String

    public init(passID: String, amountMinor: Int64, currency: String = "CNY", reason: String) {
        self.passID = passID
        self.amountMinor = amountMinor
        self.currency = currency
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case currency, reason
        case passID = "pass_id"
        case amountMinor = "amount_minor"
    }

    func validate() throws(WireError) {
        try Check.identifier(passID, "pass_id")
        try Check.amount(amountMinor, "amount_minor")
        try Check.currency(currency)
        try Check.text(reason, "reason", max: 200)
    }
}

/// `pass.transferred`: a pass re-issued to a new named holder.
public struct PassTransferred: Codable, Sendable, Hashable {
    public var passID: String
    public var newHolder: HolderRef
    /// The generation of the new code; every older code stops working.
    public var generation: Int
    public var resalePriceMinor: Int64
    public var feeMinor: Int64
    public var currency: String
    /// A re-issue to the same verified holder (a lost ticket): no resale, no fee, whatever the product's transfer
    /// terms; the hub checks that the holder's document is the one of the current generation.
    public var reissue: Bool?

    public init(
        passID: String, newHolder: HolderRef, generation: Int, resalePriceMinor: Int64, feeMinor: Int64, currency: String = "CNY",
        reissue: Bool? = nil
    ) {
        self.reissue = reissue
        self.passID = passID
        self.newHolder = newHolder
        self.generation = generation
        self.resalePriceMinor = resalePriceMinor
        self.feeMinor = feeMinor
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case currency, generation, reissue
        case passID = "pass_id"
        case newHolder = "new_holder"
        case resalePriceMinor = "resale_price_minor"
        case feeMinor = "fee_minor"
    }

    func validate() throws(WireError) {
        try Check.identifier(passID, "pass_id")
        try newHolder.validate("new_holder")
        guard (1...1_000_000).contains(generation) else { throw WireError("generation must be 1-1000000") }
        try Check.amount(resalePriceMinor, "resale_price_minor")
        try Check.amount(feeMinor, "fee_minor")
        try Check.currency(currency)
    }
}

/// `card.loaded`: stored value loaded at the reporting park, which holds the cash.
public struct CardLoaded: Codable, Sendable, Hashable {
    public var cardID: String
    public var loadID: String
    public var principalMinor: Int64
    public var bonusMinor: Int64
    public var currency: String
    public var promotion: String?

    public init(cardID: String, loadID: String, principalMinor: Int64, bonusMinor: Int64, currency: String = "CNY", promotion: String? = nil) {
        self.cardID = cardID
        self.loadID = loadID
        self.principalMinor = principalMinor
        self.bonusMinor = bonusMinor
        self.currency = currency
        self.promotion = promotion
    }

    enum CodingKeys: String, CodingKey {
        case currency, promotion
        case cardID = "card_id"
        case loadID = "load_id"
        case principalMinor = "principal_minor"
        case bonusMinor = "bonus_minor"
    }

    func validate() throws(WireError) {
        try Check.identifier(cardID, "card_id")
        try Check.identifier(loadID, "load_id")
        try Check.amount(principalMinor, "principal_minor")
        try Check.amount(bonusMinor, "bonus_minor")
        try Check.currency(currency)
        if let promotion { try Check.identifier(promotion, "promotion") }
    }
}

/// `card.spent`: a captured spend at the reporting park; the parts add up to the amount.
public struct CardSpent: Codable, Sendable, Hashable {
    public var cardID: String
    public var requestID: String
    public var amountMinor: Int64
    public var principalMinor: Int64
    public var bonusMinor: Int64
    public var currency: String

    public init(cardID: String, requestID: String, amountMinor: Int64, principalMinor: Int64, bonusMinor: Int64, currency: String = "CNY") {
        self.cardID = cardID
        self.requestID = requestID
        self.amountMinor = amountMinor
        self.principalMinor = principalMinor
        self.bonusMinor = bonusMinor
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case currency
        case cardID = "card_id"
        case requestID = "request_id"
        case amountMinor = "amount_minor"
        case principalMinor = "principal_minor"
        case bonusMinor = "bonus_minor"
    }

    func validate() throws(WireError) {
        try Check.identifier(cardID, "card_id")
        try Check.identifier(requestID, "request_id")
        try Check.amount(amountMinor, "amount_minor")
        try Check.amount(principalMinor, "principal_minor")
        try Check.amount(bonusMinor, "bonus_minor")
        try Check.currency(currency)
        guard principalMinor + bonusMinor == amountMinor else { throw WireError("principal_minor + bonus_minor must equal amount_minor") }
    }
}

/// `card.refunded`: a captured spend given back to the card.
public struct CardRefunded: Codable, Sendable, Hashable {
    public var cardID: String
    public var requestID: String
    public var amountMinor: Int64
    public var currency: String

    public init(cardID: String, requestID: String, amountMinor: Int64, currency: String = "CNY") {
        self.cardID = cardID
        self.requestID = requestID
        self.amountMinor = amountMinor
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case currency
        case cardID = "card_id"
        case requestID = "request_id"
        case amountMinor = "amount_minor"
    }

    func validate() throws(WireError) {
        try Check.identifier(cardID, "card_id")
        try Check.identifier(requestID, "request_id")
        try Check.amount(amountMinor, "amount_minor")
        try Check.currency(currency)
    }
}

/// `card.blocked`: a lost card blocked, optionally with the card its balance moves to.
public struct CardBlocked: Codable, Sendable, Hashable {
    public var cardID: String
    public var reason: String
    public var replacementCardID: String?

    public init(cardID: String, reason: String, replacementCardID: String? = nil) {
        self.cardID = cardID
        self.reason = reason
        self.replacementCardID = replacementCardID
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case cardID = "card_id"
        case replacementCardID = "replacement_card_id"
    }

    func validate() throws(WireError) {
        try Check.identifier(cardID, "card_id")
        try Check.text(reason, "reason", max: 200)
        if let replacementCardID { try Check.identifier(replacementCardID, "replacement_card_id") }
    }
}

/// `member.enrolled`: a member enrolled once for the whole federation, with consent recorded.
public struct MemberEnrolled: Codable, Sendable, Hashable {
    public var memberID: String
    public var holder: HolderRef
    public var consentVersion: String
    public var consentedAt: Date

    public init(memberID: String, holder: HolderRef, consentVersion: String, consentedAt: Date) {
        self.memberID = memberID
        self.holder = holder
        self.consentVersion = consentVersion
        self.consentedAt = consentedAt
    }

    enum CodingKeys: String, CodingKey {
        case holder
        case memberID = "member_id"
        case consentVersion = "consent_version"
        case consentedAt = "consented_at"
    }

    func validate() throws(WireError) {
        try Check.identifier(memberID, "member_id")
        try holder.validate("holder")
        try Check.identifier(consentVersion, "consent_version")
    }
}

/// `member.linked`: a park's local member number linked to a federation member.
public struct MemberLinked: Codable, Sendable, Hashable {
    public var memberID: String
    public var localMemberNumber: String

    public init(memberID: String, localMemberNumber: String) {
        self.memberID = memberID
        self.localMemberNumber = localMemberNumber
    }

    enum CodingKeys: String, CodingKey {
        case memberID = "member_id"
        case localMemberNumber = "local_member_number"
    }

    func validate() throws(WireError) {
        try Check.identifier(memberID, "member_id")
        try Check.identifier(localMemberNumber, "local_member_number")
    }
}

/// `gate.exits`: people a park's gate counted leaving (an exit scan, or a counting gate's count for an interval),
/// so that everyone knows how many are inside against the instantaneous capacity.
public struct GateExits: Codable, Sendable, Hashable {
    public var gate: String
    public var count: Int
    public var countedAt: Date

    public init(gate: String, count: Int, countedAt: Date) {
        self.gate = gate
        self.count = count
        self.countedAt = countedAt
    }

    enum CodingKeys: String, CodingKey {
        case gate, count
        case countedAt = "counted_at"
    }

    func validate() throws(WireError) {
        try Check.identifier(gate, "gate")
        guard (1...10_000).contains(count) else { throw WireError("count must be 1-10000") }
    }
}

/// Field checks shared by the assertion types; each matches a pattern in the JSON Schemas.
public enum Check {
    public static func identifier(_ value: String, _ field: String) throws(WireError) {
        guard (1...64).contains(value.utf8.count), value.utf8.allSatisfy({ isIdentifierByte($0) }) else {
            throw WireError("\(field) must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'")
        }
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    static let maxAmount: Int64 = 1_000_000_000_000

    static func amount(_ value: Int64, _ field: String) throws(WireError) {
        guard (0...maxAmount).contains(value) else { throw WireError("\(field) must be 0-\(maxAmount) minor units") }
    }

    static func currency(_ value: String) throws(WireError) {
        guard (try? Currency(value)) != nil else { throw WireError("currency must be a three-letter ISO 4217 code") }
    }

    public static func text(_ value: String, _ field: String, max: Int) throws(WireError) {
        guard !value.isEmpty, value.count <= max else { throw WireError("\(field) must be 1-\(max) characters") }
    }

    static func digest(_ value: String, _ field: String) throws(WireError) {
        guard value.utf8.count == 43, Base64URL.decode(value) != nil else { throw WireError("\(field) must be 43 base64url characters") }
    }

    /// `YYYY-MM-DD`, a real calendar day.
    static func day(_ value: String, _ field: String) throws(WireError) {
        guard (try? CivilDay(value)) != nil else { throw WireError("\(field) must be a date YYYY-MM-DD") }
    }
}
