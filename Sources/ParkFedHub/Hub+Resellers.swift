import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// Resellers as federation participants: admitted by the operator from `partners/resellers.json`, each with the
/// products it may sell and its rates, API keys (shown once, stored hashed, revocable), and an issuing key.
///
/// Who signs a reseller's pass: the hub, with an Ed25519 key of that reseller's own (derived from the hub's field
/// key ring, `reseller-issuing-v1:<id>`, never stored or sent), published on the trust list under the reseller's
/// id. The pass code names the reseller as its issuer, so every gate of every park verifies it offline from the
/// trust list exactly as a park's pass; the reseller is the issuer in every rule that follows (it owes the parks
/// the net at each entry, only it may cancel, its statement lists its bookings). A reseller holds no signing key:
/// it authenticates with its API key, and the hub signs for it only what the OCTO rules decided.
extension Hub {
    /// The reseller's issuing key (deterministic: the same after a restart, on every hub process).
    func issuingKey(of reseller: ParkID) -> SigningKey {
        let seed = secrets.fields.derivedKey("reseller-issuing-v1:\(reseller.rawValue)").withUnsafeBytes { Data($0) }
        // A 32-byte seed is always a valid Ed25519 private key.
        return try! SigningKey(rawRepresentation: seed)
    }

    /// Imports `resellers.json` (validated against the catalogue and the parks): admits each reseller (its trust
    /// list entry and issuing key), stores its rates and bank account. Nothing is written when the file is refused.
    public func importResellers(file: String, now: Date = Date()) async throws -> Int {
        guard let data = FileManager.default.contents(atPath: file) else { throw WireError("cannot read \(file)") }
        let products = passes.products.withLockedValue { $0 }
        var parks = Set(try await store.parks().filter { !$0.isReseller }.map(\.id))
        for product in products.values { parks.formUnion(product.members.map(\.park)) }
        let resellers = try ResellerManifest.load(data, products: products, parks: parks)
        var accounts: [String: String] = [:]
        for reseller in resellers {
            let key = issuingKey(of: reseller.id)
            let body = String(decoding: try StrictJSON.encoder.encode(reseller), as: UTF8.self)
            try await store.admitReseller(
                id: reseller.id, name: reseller.name.trimmingCharacters(in: .whitespacesAndNewlines), webhookURL: reseller.webhookURL, body: body,
                key: (key.kid, key.publicKey.base64URL), now: now)
            if let bank = reseller.bank { accounts[reseller.id.rawValue] = String(decoding: try StrictJSON.encoder.encode(bank), as: UTF8.self) }
        }
        if !accounts.isEmpty { try await store.setClearingAccounts(accounts) }
        passes.resellers.withLockedValue { $0.formUnion(resellers.map(\.id)) }
        logger.info("resellers imported", metadata: ["count": "\(resellers.count)"])
        return resellers.count
    }

    /// A reseller as admitted, with its rates by `product/category`.
    public struct AdmittedReseller: Sendable {
        public var record: ResellerRecord
        public var manifest: ResellerManifest.Reseller
        public var rates: [String: ResellerRate]

        public func rate(product: String, category: String) -> ResellerRate? { rates["\(product)/\(category)"] }
        /// The products it may sell.
        public var products: Set<String> { Set(rates.values.map(\.product)) }
    }

    public func admittedReseller(_ id: ParkID) async throws -> AdmittedReseller? {
        guard let record = try await store.reseller(id) else { return nil }
        let manifest = try StrictJSON.decode(ResellerManifest.Reseller.self, from: Data(record.body.utf8))
        return AdmittedReseller(record: record, manifest: manifest, rates: try manifest.domainRates())
    }

    // MARK: API keys

    /// The prefix of every reseller API key (`pfr_<key id>_<secret>`).
    public static let resellerKeyPrefix = "pfr_"

    /// Makes an API key for `reseller`: the key is answered this once; the hub keeps its id and the SHA-256 of its
    /// secret.
    public func issueResellerKey(_ reseller: ParkID, label: String, now: Date = Date()) async throws -> (keyID: String, key: String) {
        let label = label.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(label.count) else { throw Refusal(.invalid, code: "invalid_label", title: "A key's label is 1-100 characters") }
        guard let admitted = try await store.reseller(reseller), admitted.status == .active else {
            throw Refusal(.notFound, code: "unknown_reseller", title: "Unknown reseller", detail: "no admitted reseller \(reseller)")
        }
        var random = SystemRandomNumberGenerator()
        let keyID = Base64URL.encode((0..<9).map { _ in UInt8.random(in: 0...255, using: &random) }).replacingOccurrences(of: "_", with: "x")
            .replacingOccurrences(of: "-", with: "y")
        let secret = Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })
        try await store.addResellerKey(
            ResellerKeyRecord(keyID: keyID, reseller: reseller, secretHash: Self.tokenHash(secret), label: label, createdAt: now, revokedAt: nil))
        logger.notice("reseller API key issued", metadata: ["reseller": "\(reseller)", "key": "\(keyID)"])
        return (keyID, "\(Self.resellerKeyPrefix)\(keyID)_\(secret)")
    }

    /// Revokes an API key at once (its next request is refused).
    public func revokeResellerKey(_ keyID: String, now: Date = Date()) async throws {
        guard try await store.revokeResellerKey(keyID, now: now) else {
            throw Refusal(.notFound, code: "unknown_key", title: "Unknown key", detail: "no reseller API key \(keyID)")
        }
        logger.notice("reseller API key revoked", metadata: ["key": "\(keyID)"])
    }

    /// The reseller a bearer API key speaks for; nil when the key is malformed, unknown, revoked, or its reseller
    /// is not active. The secret is compared by its hash in constant time.
    public func reseller(bearer key: String) async throws -> ParkID? {
        guard key.hasPrefix(Self.resellerKeyPrefix), key.utf8.count <= 100 else { return nil }
        let parts = key.dropFirst(Self.resellerKeyPrefix.count).split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 12, parts[1].utf8.count == 43 else { return nil }
        guard let record = try await store.resellerKey(String(parts[0])), record.revokedAt == nil else { return nil }
        let presented = Data(Self.tokenHash(String(parts[1])).utf8), stored = Data(record.secretHash.utf8)
        guard presented.count == stored.count, zip(presented, stored).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
        guard let reseller = try await store.reseller(record.reseller), reseller.status == .active else { return nil }
        return record.reseller
    }
}
