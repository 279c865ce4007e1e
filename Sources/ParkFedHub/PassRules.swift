import Foundation
import NIOConcurrencyHelpers
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// The hub's view of the combo pass products and of what each pass assertion does to pass state. Products are
/// loaded from the store at start and replaced when the operator imports a new catalogue.
public final class PassRules: Sendable {
    let products: NIOLockedValueBox<[String: ComboProduct]>
    /// The resellers' settlement ids: their passes are priced and allocated at the net they owe.
    let resellers: NIOLockedValueBox<Set<ParkID>>
    let store: HubStore
    public let calendar: BusinessCalendar
    let secrets: HubSecrets

    public init(store: HubStore, calendar: BusinessCalendar, secrets: HubSecrets) async throws {
        self.secrets = secrets
        self.store = store
        self.calendar = calendar
        var loaded: [String: ComboProduct] = [:]
        for body in try await store.productBodies() {
            let product = try StrictJSON.decode(ProductCatalog.Product.self, from: Data(body.utf8)).domain()
            loaded[product.id] = product
        }
        products = NIOLockedValueBox(loaded)
        resellers = NIOLockedValueBox(Set(try await store.resellers().map(\.id)))
    }

    /// Whether `participant` is a reseller (not a park).
    public func isReseller(_ participant: ParkID) -> Bool { resellers.withLockedValue { $0.contains(participant) } }

    public func product(_ id: String) -> ComboProduct? { products.withLockedValue({ $0 })[id] }

    /// A stored pass's product: its variant (category and heads), as its code priced it.
    /// A reseller's pass is priced and allocated at the net its sale named (``ComboProduct/atNet(_:)``).
    public func product(for record: PassRecord) -> ComboProduct? {
        guard let variant = ComboProduct.variant(of: product(record.product), category: record.category, heads: record.heads) else { return nil }
        guard isReseller(record.issuer), let net = record.priceMinor else { return variant }
        return try? variant.atNet(net)
    }

    /// The daily capacities a sale of `product` must fit (``DailyLimit``): each of its parks that has one, with every
    /// product that takes that park's places.
    public func dailyLimits(of product: ComboProduct) async -> [DailyLimit] {
        guard let capacities = try? await store.capacities() else { return [] }
        return dailyLimits(of: product, capacities: capacities)
    }

    func dailyLimits(of product: ComboProduct, capacities: [String: (daily: Int, hourly: Int)]) -> [DailyLimit] {
        product.members.compactMap { member in
            guard let capacity = capacities[member.park.rawValue]?.daily, capacity > 0 else { return nil }
            return DailyLimit(park: member.park, capacity: capacity, products: products(entering: member.park))
        }
    }

    /// Every product whose passes enter `park`: they share its places of a day.
    public func products(entering park: ParkID) -> [String] {
        products.withLockedValue({ $0 }).values.filter { $0.members.contains { $0.park == park } }.map(\.id).sorted()
    }

    public var catalog: ProductCatalog {
        ProductCatalog(products: products.withLockedValue({ $0 }).values.sorted { $0.id < $1.id }.map { ProductCatalog.Product($0) })
    }

    /// Stores and activates products (a catalogue import).
    func install(_ list: [ComboProduct], now: Date) async throws {
        for product in list {
            let body = String(decoding: try StrictJSON.encoder.encode(ProductCatalog.Product(product)), as: UTF8.self)
            try await store.upsertProduct(id: product.id, body: body, now: now)
        }
        products.withLockedValue { current in for product in list { current[product.id] = product } }
    }

    /// Opens the holder data a park sealed to the hub, validates the document, and re-seals it for rest with the
    /// field key ring, with a blind index for lookups. Nothing sealed (or unreadable) yields nil: the assertion is
    /// still logged, without real-name data at the hub.
    func protect(_ holder: HolderRef) -> ProtectedHolder? {
        guard let sealed = holder.sealed, let data = openHolder(sealed), let document = Self.document(of: data),
            let idSealed = try? secrets.fields.seal(document.number, purpose: "holder.id_number"),
            let nameSealed = try? secrets.fields.seal(data.name, purpose: "holder.name")
        else { return nil }
        return ProtectedHolder(
            idType: document.kind.rawValue, idIndex: documentIndex(document), idSealed: idSealed, nameSealed: nameSealed,
            idMasked: document.maskedNumber, nameMasked: Masking.name(data.name))
    }

    /// A holder a park sealed to the hub (`HolderRef.Sealed`), opened; nil when it does not open.
    func openHolder(_ sealed: String) -> HolderRef.Sealed? {
        guard let plain = try? HolderSealing.open(sealed, with: secrets.holderKey, purpose: HolderRef.sealPurpose) else { return nil }
        return try? StrictJSON.decode(HolderRef.Sealed.self, from: plain)
    }

    /// The opened holder's document, if it is a valid one.
    static func document(of holder: HolderRef.Sealed) -> IdentityDocument? {
        IdentityDocument.Kind(rawValue: holder.idType).flatMap { try? IdentityDocument(kind: $0, number: holder.idNumber) }
    }

    /// The blind index of a valid document.
    func documentIndex(_ document: IdentityDocument) -> String { Self.documentIndex(secrets.fields, kind: document.kind, number: document.number) }

    /// The blind index of a document (type and normalised number), for exact lookups without decrypting.
    static func documentIndex(_ fields: FieldKeyRing, kind: IdentityDocument.Kind, number: String) -> String {
        fields.blindIndex("\(kind.rawValue):\(number)", purpose: "holder.document")
    }

    /// Verifies a scanned code against the keys the hub knows: signature, key status, issuer.
    func verify(code text: String, keys: [String: AssertionLog.KeyInfo]) -> Result<(PassCode, ComboProduct), PassRefusal> {
        PassCode.verify(text, key: { keys[$0].map { ($0.park, $0.key, $0.revoked) } }, product: product)
    }

    /// The effects of a batch of assertions on pass state, in order (nil for a missing payload or an assertion that
    /// has none). What they read comes in one store read (the passes the batch's refunds and transfers name; the
    /// capacities a deciding sale must fit); the rest (codes verified, holders sealed) is computed on every core.
    func effects(of payloads: [AssertionPayload?], mode: AssertionEffectMode, keys: [String: AssertionLog.KeyInfo]) async -> [AssertionEffect?] {
        let named = payloads.compactMap { payload -> String? in
            switch payload?.data {
            case .passRefunded(let data)?: data.passID
            case .passTransferred(let data)?: data.passID
            default: nil
            }
        }
        let records = named.isEmpty ? [:] : ((try? await store.passes(ids: named)) ?? [:])
        let decidesSale = mode == .decide && payloads.contains { if case .passIssued? = $0?.data { true } else { false } }
        let capacities = decidesSale ? ((try? await store.capacities()) ?? [:]) : [:]
        return await ParallelMap.map(payloads, minimumPerWorker: 16) { payload in
            payload.flatMap { self.effect(of: $0, mode: mode, keys: keys, records: records, capacities: capacities) }
        }
    }

    /// The effect of one assertion, from what ``effects(of:mode:keys:)`` read for its batch.
    private func effect(
        of payload: AssertionPayload, mode: AssertionEffectMode, keys: [String: AssertionLog.KeyInfo], records: [String: PassRecord],
        capacities: [String: (daily: Int, hourly: Int)]
    ) -> AssertionEffect? {
        switch payload.data {
        case .passIssued(let data):
            guard let product = ComboProduct.variant(of: product(data.product), category: data.category, heads: data.heads ?? 1),
                let from = try? CivilDay(data.validFrom), let until = try? CivilDay(data.validUntil)
            else { return nil }
            let facts = PassCodeFacts(
                passID: data.passID, issuer: payload.park, validFrom: from, validUntil: until, generation: 0,
                category: data.category, heads: data.heads ?? 1, slot: data.slot, stock: data.stockSerial != nil)
            return .issued(
                facts: facts, product: product, priceMinor: data.priceMinor, holderMasked: data.holder?.nameMasked,
                holder: data.holder.flatMap(protect), dailyLimits: mode == .decide ? dailyLimits(of: product, capacities: capacities) : [])
        case .passRedeemed(let data):
            let day = calendar.day(of: data.enteredAt), minute = calendar.minuteOfDay(data.enteredAt)
            switch verify(code: data.code, keys: keys) {
            case .failure(let refusal):
                return .entry(
                    park: payload.park, enteredAt: data.enteredAt, day: day, minute: minute, facts: nil, codeProblem: refusal, product: nil, mode: mode)
            case .success(let (code, verified)):
                var product = verified
                // A reseller's pass moves the net its signed code carries (parks' gates price it the same way).
                if isReseller(code.issuer), let net = code.product(in: self.product, resellerIssued: true) { product = net }
                guard code.passID == data.passID, code.issuer == data.issuerPark else {
                    return .entry(
                        park: payload.park, enteredAt: data.enteredAt, day: day, minute: minute, facts: nil, codeProblem: .forged, product: nil, mode: mode)
                }
                let facts = PassCodeFacts(
                    passID: code.passID, issuer: code.issuer, validFrom: code.validFrom, validUntil: code.validUntil,
                    generation: code.generation, category: code.payload.category, heads: code.heads, slot: code.payload.slot,
                    stock: code.isStock)
                return .entry(
                    park: payload.park, enteredAt: data.enteredAt, day: day, minute: minute, facts: facts, codeProblem: nil, product: product, mode: mode)
            }
        case .passRefunded(let data):
            guard let record = records[data.passID], let product = product(for: record) else { return nil }
            return .refund(passID: data.passID, issuer: payload.park, amountMinor: data.amountMinor, product: product, validFrom: record.validFrom)
        case .passTransferred(let data):
            guard let record = records[data.passID], let product = product(for: record) else { return nil }
            return .transfer(
                passID: data.passID, issuer: payload.park, generation: data.generation, resalePriceMinor: data.resalePriceMinor,
                feeMinor: data.feeMinor, product: product, holder: protect(data.newHolder), reissue: data.reissue == true)
        case .gateExits(let data):
            return .exits(park: payload.park, day: calendar.day(of: data.countedAt), count: data.count, at: data.countedAt)
        case .cardSpent(let data):
            return .linkObligation(reason: "card_spend", toPark: payload.park, reference: "capture:\(data.requestID)")
        default:
            return nil
        }
    }
}

extension Hub {
    /// The passes held by a document (any generation), found by its blind index: groundwork for regulator queries.
    public func passes(heldBy kind: IdentityDocument.Kind, number: String) async throws -> [(
        passID: String, generation: Int, issuer: String, holder: ProtectedHolder, recordedAt: Date
    )] {
        let document = try IdentityDocument(kind: kind, number: number)
        return try await store.passes(holderIndex: PassRules.documentIndex(secrets.fields, kind: kind, number: document.number))
    }
}
