import Foundation
import ParkFedCrypto
import ParkFedDomain

/// The string a visitor's QR code carries: a compact JWS (EdDSA) signed by the selling park, so any JOSE library
/// can verify it, with a deliberately short payload so that it fits a QR code of version 15 at level M (412 bytes).
/// It names the pass, product, validity, generation and the masked holder name; never the ID document number.
public struct PassCode: Sendable, Hashable {
    public struct Payload: Codable, Sendable, Hashable {
        /// Format version (1).
        public var version: Int
        public var issuer: String
        public var passID: String
        public var product: String
        public var validFrom: String
        public var validUntil: String
        /// Bumped by a transfer or re-issue; older generations are refused.
        public var generation: Int
        /// The masked holder name (at most 16 characters; empty on pre-printed stock, which is sold anonymously).
        public var name: String
        /// The ticket category, when not `full`.
        public var category: String?
        /// The heads one scan admits, when more than one (groups).
        public var heads: Int?
        /// The entry window of a timed pass.
        public var slot: String?
        /// 1 on pre-printed stock: valid only once its park has sold (activated) it.
        public var stock: Int?
        /// A reseller's pass: the net it owes (minor units), which the parks' allocations are scaled to
        /// (``ComboProduct/atNet(_:)``). Honoured only for an issuer the trust list names a reseller.
        public var net: Int64?

        public init(
            issuer: ParkID, passID: String, product: String, validFrom: CivilDay, validUntil: CivilDay, generation: Int, name: String,
            category: String? = nil, heads: Int = 1, slot: String? = nil, stock: Bool = false, net: Int64? = nil
        ) {
            self.net = net
            self.category = category == TicketCategory.fullID ? nil : category
            self.heads = heads == 1 ? nil : heads
            self.slot = slot
            self.stock = stock ? 1 : nil
            version = 1
            self.issuer = issuer.rawValue
            self.passID = passID
            self.product = product
            self.validFrom = validFrom.description
            self.validUntil = validUntil.description
            self.generation = generation
            self.name = String(name.prefix(16))
        }

        enum CodingKeys: String, CodingKey {
            case version = "v", issuer = "p", passID = "id", product = "pr", validFrom = "f", validUntil = "u", generation = "g", name = "n"
            case category = "c", heads = "h", slot = "s", stock = "k", net = "t"
        }

        /// Everything but the holder and generation, as a later generation of the same pass carries it on.
        public func next(generation: Int, name: String) -> Payload {
            var copy = self
            copy.generation = generation
            copy.name = String(name.prefix(16))
            return copy
        }
    }

    /// The JWS `typ` of pass codes.
    public static let jwsType = "pf-pass"
    public static let maximumLength = 412

    public let text: String
    public let jws: JWS
    public let payload: Payload
    public let issuer: ParkID
    public let validFrom: CivilDay
    public let validUntil: CivilDay

    /// Signs a pass code with the issuing park's key.
    public static func make(_ payload: Payload, key: SigningKey) throws -> PassCode {
        let body = try StrictJSON.encoder.encode(payload)
        let jws = try JWS.sign(payload: body, kid: key.kid, type: jwsType, with: key)
        guard jws.compact.utf8.count <= maximumLength else {
            throw WireError("the pass code is \(jws.compact.utf8.count) bytes; a QR code of version 15-M holds \(maximumLength)")
        }
        return try PassCode(parsing: jws.compact)
    }

    /// Parses a scanned string (signature not yet checked). Anything malformed is `forged`.
    public init(parsing text: String) throws(PassRefusal) {
        guard text.utf8.count <= Self.maximumLength, let jws = try? JWS(compact: text), jws.header.typ == Self.jwsType, jws.header.kid != nil,
            let payload = try? StrictJSON.decode(Payload.self, from: jws.payload), payload.version == 1,
            let issuer = try? ParkID(payload.issuer), (try? Check.identifier(payload.passID, "id")) != nil,
            (try? Check.identifier(payload.product, "pr")) != nil, (0...1_000_000).contains(payload.generation),
            let from = try? CivilDay(payload.validFrom), let until = try? CivilDay(payload.validUntil), from <= until,
            payload.category.map({ (try? Check.identifier($0, "c")) != nil }) ?? true, payload.heads.map({ (2...1000).contains($0) }) ?? true,
            payload.slot.map({ (try? Check.identifier($0, "s")) != nil }) ?? true, payload.stock.map({ $0 == 1 }) ?? true,
            payload.net.map({ (0...1_000_000_000_000).contains($0) }) ?? true
        else { throw .forged }
        self.text = text
        self.jws = jws
        self.payload = payload
        self.issuer = issuer
        validFrom = from
        validUntil = until
    }

    /// The one check of a scanned code, for the hub and for gates alike: parse, signing key known (`key` answers the
    /// park, public key and whether it is revoked for a kid), signed by that park's key, key not revoked, product
    /// known. The product answered is the code's variant: its category and heads priced and allocated.
    public static func verify(
        _ text: String, key: (String) -> (park: ParkID, key: VerifyingKey, revoked: Bool)?,
        product: (String) -> ComboProduct?
    ) -> Result<(PassCode, ComboProduct), PassRefusal> {
        let code: PassCode
        do { code = try PassCode(parsing: text) } catch { return .failure(error) }
        guard let signer = key(code.kid) else { return .failure(.unknownKey) }
        guard signer.park == code.issuer, code.jws.isSigned(by: signer.key) else { return .failure(.forged) }
        guard !signer.revoked else { return .failure(.revoked) }
        guard let variant = code.product(in: product) else { return .failure(.unknownProduct) }
        return .success((code, variant))
    }

    /// The code's product as it prices the pass (its category and heads), from `lookup`; nil when the product is
    /// unknown or has no such category. With `resellerIssued` (the trust list names the issuer a reseller), a code's
    /// net scales the allocations (``ComboProduct/atNet(_:)``); a park's code is priced by the product alone.
    public func product(in lookup: (String) -> ComboProduct?, resellerIssued: Bool = false) -> ComboProduct? {
        let variant = ComboProduct.variant(of: lookup(payload.product), category: payload.category, heads: heads)
        guard resellerIssued, let net = payload.net else { return variant }
        return variant.flatMap { try? $0.atNet(net) }
    }

    public var kid: String { jws.header.kid ?? "" }
    public var passID: String { payload.passID }
    public var generation: Int { payload.generation }
    public var heads: Int { payload.heads ?? 1 }
    public var isStock: Bool { payload.stock == 1 }
}
