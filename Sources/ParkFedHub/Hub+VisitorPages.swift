import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// The visitor's own page of a pass: the link a window prints on the receipt (or a reseller texts). The link carries
/// an unguessable token (256 random bits), never the pass id; the hub keeps only the token's SHA-256, with the code
/// (the selling park's signed QR) of the generation it was made for. The page answers from the hub's pass state, so
/// a refunded, transferred or re-issued pass shows its state and no code on an old link.
extension Hub {
    /// The state a visitor page shows.
    public struct VisitorPass: Sendable {
        public enum State: String, Sendable { case valid, notYetActive = "not_yet_active", expired, refunded, replaced }
        public struct Park: Sendable {
            public var park: String
            public var name: String
            public var entriesAllowed: Int
            public var entriesUsed: Int
            public var entriesLeft: Int
        }
        public var passID: String
        public var state: State
        public var product: String
        public var productName: String
        public var holderMasked: String
        public var category: String?
        public var heads: Int
        public var validFrom: CivilDay
        public var validUntil: CivilDay
        public var activatedOn: CivilDay?
        public var usableUntil: CivilDay
        /// Days from the first entry, for a pass valid that long once first used (nil: fixed dates).
        public var daysFromFirstUse: Int?
        public var slot: TimeSlot?
        public var parks: [Park]
        /// The code to show, only while the link's generation is the pass's and the pass can still be used.
        public var code: String?
    }

    /// Makes a visitor link for a pass this park sold, for the code of its current generation (verified with the
    /// park's key from the log's key list). The token is answered once; only its hash is kept.
    public func createVisitorLink(passID: String, code: String, peer: AuthenticatedPeer, now: Date = Date()) async throws -> VisitorLink {
        guard case .park(let park) = peer.principal else {
            throw Refusal(.forbidden, code: "forbidden_for_principal", title: "Only the selling park links its passes")
        }
        guard let record = try await store.pass(passID), record.issued, let product = passes.product(for: record) else {
            throw Refusal(.notFound, code: "unknown_pass", title: "Unknown pass", detail: "the hub knows no sold pass \(passID) (is its sale delivered?)")
        }
        guard record.issuer == park else { throw Refusal(.forbidden, code: "not_issuer", title: "Only the selling park links its passes") }
        let keys = try await log.keyInfo()
        let verified = PassCode.verify(code, key: { kid in keys[kid].map { ($0.park, $0.key, $0.revoked) } }, product: { _ in product })
        guard case .success(let (pass, _)) = verified, pass.passID == passID, pass.issuer == park else {
            throw Refusal(
                .unprocessable, code: "code_mismatch", title: "Not this pass's code", detail: "the code does not verify as \(passID) signed by \(park)")
        }
        guard pass.generation == record.generation else {
            throw Refusal(
                .conflict, code: "generation_mismatch", title: "An older generation",
                detail: "the pass is at generation \(record.generation); the code is of \(pass.generation)")
        }
        guard record.refundedMinor == nil else { throw Refusal(.conflict, code: "already_refunded", title: "A refunded pass has no page") }
        let token = Base64URL.encode(Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }))
        try await store.addVisitorLink(tokenHash: Self.tokenHash(token), passID: passID, generation: pass.generation, code: code, now: now)
        return VisitorLink(passID: passID, generation: pass.generation, token: token, path: Self.visitorPath(token))
    }

    public static func visitorPath(_ token: String) -> String { "/p/\(token)" }

    /// What the page of `token` shows; nil for a token the hub does not know (the page says only that).
    public func visitorPass(token: String, now: Date = Date()) async throws -> VisitorPass? {
        guard token.utf8.count == 43, Base64URL.decode(token)?.count == 32 else { return nil }
        guard let link = try await store.visitorLink(tokenHash: Self.tokenHash(token)), let record = try await store.pass(link.passID),
            let product = passes.product(for: record)
        else { return nil }
        let pass = record.state(product)
        let today = passes.calendar.day(of: now)
        let state: VisitorPass.State =
            if record.refundedMinor != nil {
                .refunded
            } else if link.generation < record.generation {
                .replaced
            } else if today > pass.usableUntil {
                .expired
            } else if today < record.validFrom {
                .notYetActive
            } else {
                .valid
            }
        let names = Dictionary(try await store.parks().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let pooledLeft = product.entriesTotal.map { max(0, $0 - pass.usedTotal) }
        let parks = product.members.map { member -> VisitorPass.Park in
            let used = record.entries[member.park] ?? 0
            var left = max(0, member.entries - used)
            if let pooledLeft { left = min(left, pooledLeft) }
            return .init(
                park: member.park.rawValue, name: names[member.park] ?? member.park.rawValue, entriesAllowed: member.entries,
                entriesUsed: used, entriesLeft: left)
        }
        // The masked name the link's own code carries (that generation's holder).
        let holder = (try? PassCode(parsing: link.code))?.payload.name ?? ""
        return VisitorPass(
            passID: record.id, state: state, product: product.id, productName: product.name, holderMasked: holder, category: record.category,
            heads: record.heads, validFrom: record.validFrom, validUntil: record.validUntil, activatedOn: record.activatedOn,
            usableUntil: pass.usableUntil, daysFromFirstUse: { if case .fromFirstUse(let days, _) = product.validity { days } else { nil } }(),
            slot: record.slot.flatMap { id in product.slots.first { $0.id == id } }, parks: parks,
            code: state == .valid || state == .notYetActive ? link.code : nil)
    }
}
