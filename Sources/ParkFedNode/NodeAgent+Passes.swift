import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedPKI
import ParkFedProtocol
import ParkFedQR
import ParkFedStore
import Synchronization

/// Combo passes at a park: sales at windows and kiosks, gate decisions, refunds and transfers.
///
/// A gate decision verifies the code offline (trust list, signature, validity, revocations the hub published),
/// reserves the entry in the node's own database (so this park never admits a pass twice, even offline), then asks
/// the hub to count it (so two parks can never both take the last entry). When the hub cannot be reached, the
/// entry stands on local state and its signed `pass.redeemed` waits in the outbox; the hub reports a conflict if
/// it would have refused it.
extension NodeAgent {
    /// Errors of the local API, as problem details.
    static func problem(_ kind: Refusal.Kind, _ code: String, _ title: String, _ detail: String? = nil) -> Refusal {
        Refusal(kind, code: code, title: title, detail: detail)
    }

    // MARK: Catalogue and revocations

    /// Fetches the product catalogue from the hub and keeps it (memory and database).
    public func refreshProducts() async throws(NodeError) {
        let catalog = try await tracked { (hub: HubClient) async throws(NodeError) in
            try await hub.json(.GET, "/v1/products", body: Optional<String>.none, as: ProductCatalog.self)
        }
        try installProducts(catalog)
        if let data = try? StrictJSON.encoder.encode(catalog) { try? await store.setMeta("products", String(decoding: data, as: UTF8.self)) }
    }

    func installProducts(_ catalog: ProductCatalog) throws(NodeError) {
        var products: [String: ComboProduct] = [:]
        for product in catalog.products {
            do { products[product.id] = try product.domain() } catch {
                throw NodeError(.badResponse, "the hub's product catalogue does not check: \(error)")
            }
        }
        self.products.withLockedValue { $0 = products }
    }

    /// Loads the catalogue kept from the last refresh (at start, before the hub is reachable).
    func loadKeptProducts() async {
        guard let text = try? await store.meta("products"), let catalog = try? StrictJSON.decode(ProductCatalog.self, from: Data(text.utf8)) else { return }
        try? installProducts(catalog)
    }

    public func product(_ id: String) -> ComboProduct? { products.withLockedValue({ $0 })[id] }

    /// The product of a code as it prices the pass: its category and heads (nil when unknown here).
    /// A reseller's code (the trust list names its issuer a reseller) is priced at the net it carries.
    public func product(of code: PassCode) -> ComboProduct? {
        let reseller = trustList.trustList?.parks.first { $0.park == code.issuer.rawValue }?.kind == "reseller"
        return code.product(in: product, resellerIssued: reseller)
    }

    /// The product of a pass sold here, as its current code prices it.
    func product(of sold: SoldPassRecord) -> ComboProduct? { (try? PassCode(parsing: sold.code)).flatMap { product(of: $0) } }

    /// Fetches the pass revocations published since the last fetch.
    public func refreshRevocations() async throws(NodeError) {
        let after = await (try? store.meta("pass_revocations_seq")).flatMap { $0.flatMap { Int64($0) } } ?? 0
        let list = try await tracked { (hub: HubClient) async throws(NodeError) in
            try await hub.json(.GET, "/v1/passes/revocations?after=\(after)", body: Optional<String>.none, as: PassRevocations.self)
        }
        guard !list.revocations.isEmpty else { return }
        do {
            try await store.learn(list.revocations.map { ($0.passID, PassKnowledge(minimumGeneration: $0.minimumGeneration, refunded: $0.refunded)) })
            try await store.setMeta("pass_revocations_seq", String(list.last))
        } catch {
            throw NodeError(.invalidConfiguration, "cannot store revocations: \(error)")
        }
    }

    // MARK: Sale

    /// Sells a pass: validates the holder, the product, its category, heads and time slot, signs the code and the
    /// `pass.issued` assertion, and records both (one transaction) before answering. A timed product's sale is
    /// decided by the hub first (slot capacity is federation-wide), so it needs the link; other sales go through
    /// the outbox and work offline.
    public func sellPass(_ request: PassSaleRequest, now: Date = Date()) async throws -> PassSaleResponse {
        guard let base = product(request.product) else {
            throw Self.problem(
                .notFound, "unknown_product", "Unknown product", "product \(request.product.debugDescription) is not in the federation's catalogue")
        }
        let product = try Self.variant(of: base, category: request.category, heads: request.heads, slot: request.slot)
        let channel = try Self.channel(request.channel)
        let holder = try Self.holder(request.holder, product: product)
        let date: CivilDay
        if let text = request.date {
            do { date = try CivilDay(text) } catch { throw Self.problem(.invalid, "invalid_body", "Invalid date", error.message) }
        } else {
            date = calendar.day(of: now)
        }
        guard date >= calendar.day(of: now) else { throw Self.problem(.invalid, "invalid_body", "Invalid date", "a pass cannot be sold for a past date") }
        let window: (from: CivilDay, until: CivilDay)
        do { window = try product.saleWindow(date: date) } catch { throw Self.problem(.conflict, "not_on_sale", "Not on sale", error.message) }
        let passID = UUIDv7.make(now: now)
        let nameMasked = request.holder.map { Masking.name($0.name) } ?? ""
        let code = try PassCode.make(
            .init(
                issuer: park, passID: passID, product: product.id, validFrom: window.from, validUntil: window.until,
                generation: 0, name: nameMasked, category: product.category?.id, heads: product.heads,
                slot: request.slot), key: signingKey)
        let (issued, sold) = try saleRecords(code, product: product, channel: channel, holder: holder, name: request.holder?.name ?? "")
        try await recordIssue(issued, sold: sold, product: product, decision: product.slots.isEmpty ? .hubWhenReachable : .hub, now: now)
        return try saleResponse(sold, code: code, idNumberMasked: holder?.maskedNumber ?? "")
    }

    /// Who decides a sale before the window is answered.
    enum SaleDecision {
        /// The hub, always (timed passes: slot capacity is federation-wide).
        case hub
        /// The hub while it is reachable (the day's places at every park of the product); offline, the node sells
        /// through the outbox unless the hub last said the day's sales stopped.
        case hubWhenReachable
    }

    /// A sale channel from the wire, or the problem a window is shown.
    static func channel(_ text: String) throws -> PassIssued.Channel {
        guard let channel = PassIssued.Channel(rawValue: text) else {
            throw problem(.invalid, "invalid_body", "Invalid channel", "channel is window, kiosk, mini_program or ota")
        }
        return channel
    }

    /// What a sale records of `code` (pass, product, validity, category, heads, slot) sold to the holder of
    /// `document` named `name` through `channel`: the `pass.issued` to sign and the sale row. `stockSerial` names the
    /// printed code a sale activates.
    func saleRecords(
        _ code: PassCode, product: ComboProduct, channel: PassIssued.Channel, holder document: IdentityDocument?, name: String,
        stockSerial: String? = nil
    ) throws -> (issued: PassIssued, sold: SoldPassRecord) {
        let nameMasked = document == nil ? "" : Masking.name(name)
        let reference = try document.map { try holderRef($0, name: name.trimmingCharacters(in: .whitespaces), nameMasked: nameMasked) }
        let issued = PassIssued(
            passID: code.passID, product: product.id, channel: channel, priceMinor: product.price.minorUnits,
            currency: product.price.currency.code, holder: reference, validFrom: code.validFrom.description,
            validUntil: code.validUntil.description, category: code.payload.category, heads: code.payload.heads,
            slot: code.payload.slot, stockSerial: stockSerial)
        let sold = SoldPassRecord(
            passID: code.passID, product: product.id, channel: channel.rawValue, holderMasked: nameMasked, idType: document?.kind.rawValue ?? "none",
            idDigest: reference?.idDigest ?? "", idMasked: document?.maskedNumber ?? "", priceMinor: product.price.minorUnits,
            currency: product.price.currency.code, validFrom: code.validFrom, validUntil: code.validUntil, generation: 0,
            code: code.text, state: "sold")
        return (issued, sold)
    }

    /// The product as a pass of `category` for `heads` people in `slot` prices it, or the problem a window is shown.
    static func variant(of base: ComboProduct, category: String?, heads: Int?, slot: String?) throws -> ComboProduct {
        let product: ComboProduct
        do { product = try base.variant(category: category, heads: heads ?? 1) } catch {
            throw problem(.unprocessable, "invalid_category", "Invalid category or head count", error.message)
        }
        if base.slots.isEmpty {
            guard slot == nil else { throw problem(.unprocessable, "invalid_slot", "No time slots", "product \(base.id) is not timed") }
        } else {
            guard let slot, base.slot(slot) != nil else {
                throw problem(
                    .unprocessable, "invalid_slot", "Time slot required",
                    "product \(base.id) is sold for one of its time slots: \(base.slots.map(\.id).joined(separator: ", "))")
            }
        }
        return product
    }

    /// Signs `pass.issued` and records the sale with it (one transaction). When the hub decides (``SaleDecision``) it
    /// logs the sale first (and may refuse: a full time slot, `sold_out` at a park's daily capacity), and the
    /// outbox's later delivery of the same assertion is a duplicate.
    func recordIssue(_ issued: PassIssued, sold: SoldPassRecord, product: ComboProduct, decision: SaleDecision, now: Date) async throws {
        let day = try CivilDay(issued.validFrom)
        let online = decision == .hub || hubLinkUp(now: now)
        if !online { try refuseOfflineIfStopped(product, day: day) }
        let (payload, jws) = try Assertions.sign(.passIssued(issued), park: park, key: signingKey, now: now)
        if online {
            do {
                _ = try await tracked { (hub: HubClient) async throws(NodeError) in
                    try await hub.json(.POST, "/v1/passes", body: PassChangeRequest(assertion: jws.compact), as: PassView.self)
                }
            } catch {
                if error.code == .hubUnreachable, decision == .hubWhenReachable {
                    // Offline from now on: sold through the outbox, unless the hub last said the day is full.
                    hubDown(now: now)
                    try refuseOfflineIfStopped(product, day: day)
                } else if error.code == .hubUnreachable {
                    throw Self.problem(
                        .unavailable, "hub_unreachable", "The hub is unreachable", "timed passes are sold online: the hub counts each slot's capacity")
                } else if error.problemCode == "sold_out" {
                    try? await refreshCapacity()
                    throw Self.soldOut(park: "", day: day.description, detail: error.message)
                } else {
                    throw Self.problem(.conflict, error.problemCode ?? "hub_refused", "The hub refused the sale", error.message)
                }
            }
        }
        try await store.recordSale(sold, assertion: (payload.id, payload.type.rawValue, jws.compact), now: now)
        outboxWakeUp.signal()
        metrics.sale()
    }

    /// What the window is told of a pass sold (or re-coded) here.
    func saleResponse(_ sold: SoldPassRecord, code: PassCode, idNumberMasked: String, stockSerial: String? = nil) throws -> PassSaleResponse {
        PassSaleResponse(
            passID: sold.passID, code: code.text, qrVersion: try QRCode.version(forByteCount: code.text.utf8.count), product: sold.product,
            holderNameMasked: sold.holderMasked, idNumberMasked: idNumberMasked, validFrom: sold.validFrom.description,
            validUntil: sold.validUntil.description, priceMinor: sold.priceMinor, currency: sold.currency, generation: sold.generation,
            category: code.payload.category, heads: code.payload.heads, slot: code.payload.slot, stockSerial: stockSerial)
    }

    /// The holder a sale of `product` takes: required under real name, refused (no data collected) without it.
    static func holder(_ input: HolderInput?, product: ComboProduct) throws -> IdentityDocument? {
        switch (product.realName, input) {
        case (true, let input?): return try holder(input)
        case (true, nil):
            throw problem(.invalid, "holder_required", "Holder required", "product \(product.id) is sold under real name: enter the holder's name and document")
        case (false, nil): return nil
        case (false, _?):
            throw problem(
                .invalid, "holder_not_taken", "No holder is taken", "product \(product.id) is sold without real name: no name or document is collected")
        }
    }

    static func holder(_ input: HolderInput) throws -> IdentityDocument {
        let name = input.name.trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(name.count) else { throw problem(.invalid, "invalid_holder", "Invalid holder", "the holder's name is 1-64 characters") }
        guard let kind = IdentityDocument.Kind(rawValue: input.idType) else {
            throw problem(
                .invalid, "invalid_document", "Invalid document", "id_type is one of \(IdentityDocument.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        do { return try IdentityDocument(kind: kind, number: input.idNumber) } catch {
            throw problem(.invalid, "invalid_document", "Invalid document", error.message)
        }
    }

    /// The holder as it travels: masked name, document type, this park's keyed digest of the number, and the full
    /// name and number sealed to the hub (HPKE to the key in the trust list), so that only the hub can read them.
    func holderRef(_ document: IdentityDocument, name: String, nameMasked: String) throws -> HolderRef {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: holderKey))
        mac.update(data: Data("\(document.kind.rawValue):\(document.number)".utf8))
        var sealed: String?
        if let hubKey = trustList.trustList?.holderSealKey {
            let plain = try StrictJSON.encoder.encode(HolderRef.Sealed(name: name, idType: document.kind.rawValue, idNumber: document.number))
            sealed = try HolderSealing.seal(plain, to: hubKey, purpose: HolderRef.sealPurpose)
        }
        return HolderRef(
            nameMasked: nameMasked, idType: HolderRef.DocumentType(rawValue: document.kind.rawValue) ?? .other,
            idDigest: Base64URL.encode(Data(mac.finalize())), sealed: sealed)
    }

    /// The QR image of a pass sold here.
    public func passQR(_ passID: String) async throws -> QRCode {
        guard let sold = try await store.soldPass(passID) else {
            throw Self.problem(.notFound, "unknown_pass", "Unknown pass", "no pass \(passID) was sold at \(park)")
        }
        return try QRCode(text: sold.code)
    }

    // MARK: Gate

    /// Verifies a scanned code without touching any state: parse, trust list, signature, product.
    public func verifyCode(_ text: String) -> Result<(PassCode, ComboProduct), PassRefusal> {
        PassCode.verify(text, key: { self.trustList.key($0).map { ($0.park, $0.key, $0.revoked) } }, product: product)
    }

    /// Decides an entry at `gate`. See the type's documentation for the online and offline paths.
    public func scan(_ request: GateScanRequest, now: Date = Date()) async throws -> GateDecision {
        let started = ContinuousClock.now
        let decision = try await decide(request, now: now)
        metrics.gate(decision, duration: ContinuousClock.now - started)
        return decision
    }

    func decide(_ request: GateScanRequest, now: Date) async throws -> GateDecision {
        do { try Check.identifier(request.gate, "gate") } catch { throw Self.problem(.invalid, "invalid_body", "Invalid gate", error.message) }
        if let emergency = try await emergencyDecision(request, now: now) { return emergency }
        let (code, product): (PassCode, ComboProduct)
        switch verifyCode(request.code) {
        case .failure(let refusal): return deny(refusal, code: nil, mode: .offline)
        case .success(let verified): (code, product) = verified
        }
        let day = calendar.day(of: now), hour = calendar.hour(of: now), minute = calendar.minuteOfDay(now)
        let online = hubLinkUp(now: now)
        // Another park's printed stock is valid only once sold, which only the hub knows: offline it is refused.
        if code.isStock, code.issuer != park, !online { return deny(.notActivated, code: code, mode: .offline) }
        let entryID = UUIDv7.make(now: now)
        let redeemed = PassRedeemed(passID: code.passID, issuerPark: code.issuer, gate: request.gate, enteredAt: now, offline: !online, code: code.text)
        let (_, jws) = try Assertions.sign(.passRedeemed(redeemed), park: park, key: signingKey, now: now, id: entryID)
        let capacity = configuration.withLockedValue({ $0 })
        let decided = Mutex<ComboPass.Admission?>(nil)
        let inside = Mutex<Int?>(nil)
        let type = AssertionType.passRedeemed.rawValue
        let park = self.park
        let reserved = try await store.reserveEntry(passID: code.passID, day: day, hour: hour, type: type, offline: !online) {
            facts -> Result<GateEntryRecord, PassRefusal> in
            guard !facts.knowledge.refunded, code.generation >= facts.knowledge.minimumGeneration else { return .failure(.revoked) }
            if code.isStock, code.issuer == park {
                switch facts.stockState {
                case "sold": break
                case "void": return .failure(.voided)
                default: return .failure(.notActivated)
                }
            }
            let state = ComboPass(
                id: code.passID, product: product, issuer: code.issuer, validFrom: code.validFrom, validUntil: code.validUntil,
                generation: facts.knowledge.minimumGeneration, activatedOn: facts.knowledge.activatedOn,
                entries: facts.entriesHere > 0 ? [park: facts.entriesHere] : [:], slot: code.payload.slot)
            switch state.admission(at: park, on: day, minute: minute, generation: code.generation) {
            case .failure(let refusal): return .failure(refusal)
            case .success(let admitted):
                // Capacity counts heads: a group enters only if all of it fits.
                if let daily = capacity.capacityDaily, facts.today + code.heads > daily { return .failure(.capacityFull) }
                if let hourly = capacity.capacityHourly, facts.thisHour + code.heads > hourly { return .failure(.capacityFull) }
                let occupancy = Occupancy(entries: facts.today, exits: facts.exitsToday)
                inside.withLock { $0 = occupancy.inside }
                if !occupancy.admits(heads: code.heads, capacity: capacity.capacityInstantaneous) { return .failure(.capacityFullNow) }
                decided.withLock { $0 = admitted }
                return .success(
                    GateEntryRecord(
                        entryID: entryID, passID: code.passID, gate: request.gate, day: day, hour: hour, enteredAt: now,
                        jws: jws.compact, activates: admitted.activates, heads: code.heads))
            }
        }
        guard case .success = reserved, let admission = decided.withLock({ $0 }) else {
            // Refused on local facts alone: the hub was not asked.
            if case .failure(let refusal) = reserved {
                var decision = deny(refusal, code: code, mode: .offline)
                if refusal == .capacityFullNow {
                    decision.occupancy = inside.withLock { $0 }
                    decision.capacityNow = capacity.capacityInstantaneous
                }
                return decision
            }
            return deny(.forged, code: code, mode: .offline)
        }
        if online {
            do {
                let answer = try await tracked { (hub: HubClient) async throws(NodeError) in
                    try await hub.json(
                        .POST, "/v1/passes/entries", body: RedeemRequest(assertion: jws.compact), as: RedeemResponse.self,
                        timeout: gateHubTimeout.withLockedValue({ $0 }))
                }
                if answer.decision == .allow {
                    try await store.admitOnline(
                        entryID, logIndex: answer.logIndex, passID: code.passID, activatedOn: answer.activatedOn.flatMap { try? CivilDay($0) })
                    return allow(
                        code: code, product: product, entriesLeft: answer.entriesLeft ?? admission.entriesLeft,
                        usableUntil: answer.usableUntil ?? admission.usableUntil?.description, mode: .online, entryID: entryID)
                }
                let refusal = answer.reason.flatMap(PassRefusal.init(rawValue:)) ?? .forged
                let learned: PassKnowledge? = refusal == .revoked ? PassKnowledge(minimumGeneration: code.generation + 1) : nil
                try await store.releaseEntry(entryID, passID: code.passID, learned: learned)
                return deny(refusal, code: code, mode: .online)
            } catch let error as NodeError where error.code == .hubUnreachable {
                hubDown(now: now)
                // Fall through: the entry stands offline; this assertion goes to the outbox as signed.
            } catch let error as NodeError {
                try await store.releaseEntry(entryID, passID: code.passID, learned: nil)
                throw Self.problem(.upstream, "hub_error", "The hub could not decide", error.message)
            }
        }
        if online {
            // The hub did not answer: the reserved entry stands offline, its assertion (queued with the reservation) is sent.
            try await store.admitOffline(entryID, passID: code.passID, activatedOn: admission.activates)
        }
        outboxWakeUp.signal()
        return allow(
            code: code, product: product, entriesLeft: admission.entriesLeft, usableUntil: admission.usableUntil?.description,
            mode: .offline, entryID: entryID)
    }

    /// An admission, with what the gate must still do: check a concession's proof, count a group's heads.
    func allow(code: PassCode, product: ComboProduct, entriesLeft: Int?, usableUntil: String?, mode: GateDecision.Mode, entryID: String) -> GateDecision {
        GateDecision(
            decision: .allow, message: "", passID: code.passID, product: product.id, holderNameMasked: code.payload.name,
            entriesLeft: entriesLeft, usableUntil: usableUntil, mode: mode, entryID: entryID, category: product.category?.id,
            checkProof: product.category?.proof, heads: code.payload.heads
        ).localized(.en)
    }

    func deny(_ refusal: PassRefusal, code: PassCode?, mode: GateDecision.Mode) -> GateDecision {
        GateDecision(
            decision: .deny, reason: refusal.rawValue, message: "", passID: code?.passID, product: code?.payload.product,
            holderNameMasked: code?.payload.name, mode: mode
        ).localized(.en)
    }

    /// Whether to ask the hub: yes, unless a gate call found it unreachable. Then every gate decides offline at
    /// once (no visitor waits for a timeout) until any later call to the hub succeeds: the outbox sender retries
    /// with backoff, and its first success closes the circuit again.
    func hubLinkUp(now: Date) -> Bool { hubDownSince.withLockedValue({ $0 }) == nil }

    func hubDown(now: Date) { hubDownSince.withLockedValue { $0 = now } }

    /// Treats the hub as unreachable from now until a call to it succeeds: gates go straight to their offline path
    /// instead of first waiting for the hub (a known outage, or a simulation that carries the hub's traffic itself).
    public func assumeHubDown(now: Date = Date()) { hubDown(now: now) }

    // MARK: Exits

    /// People an exit gate counted leaving: recorded with their signed `gate.exits` (to the hub) in one
    /// transaction; answers the occupancy now.
    public func recordExits(_ request: GateExitRequest, now: Date = Date()) async throws -> OccupancyView {
        do { try Check.identifier(request.gate, "gate") } catch { throw Self.problem(.invalid, "invalid_body", "Invalid gate", error.message) }
        guard (1...10_000).contains(request.count) else { throw Self.problem(.invalid, "invalid_body", "Invalid count", "count is 1-10000") }
        let id = UUIDv7.make(now: now)
        let (_, jws) = try Assertions.sign(
            .gateExits(GateExits(gate: request.gate, count: request.count, countedAt: now)), park: park, key: signingKey, now: now, id: id)
        let day = calendar.day(of: now)
        let occupancy = try await store.recordExits(
            id: id, gate: request.gate, day: day, at: now, count: request.count, type: AssertionType.gateExits.rawValue, jws: jws.compact)
        outboxWakeUp.signal()
        return occupancyView(occupancy, day: day)
    }

    /// People inside now (entries less exits today) against the instantaneous capacity.
    public func occupancy(now: Date = Date()) async throws -> OccupancyView {
        let day = calendar.day(of: now)
        return occupancyView(try await store.occupancy(day: day), day: day)
    }

    func occupancyView(_ occupancy: Occupancy, day: CivilDay) -> OccupancyView {
        OccupancyView(
            park: park.rawValue, day: day.description, inside: occupancy.inside, entries: occupancy.entries, exits: occupancy.exits,
            capacityNow: configuration.withLockedValue({ $0 }).capacityInstantaneous)
    }

    // MARK: Refund and transfer

    /// Refunds a pass sold here: the hub says what is due (unused allocations), and the signed `pass.refunded`
    /// must name exactly that; the hub revokes the pass in the same transaction.
    public func refundPass(_ passID: String, reason: String, now: Date = Date()) async throws -> PassRefundResult {
        guard var sold = try await store.soldPass(passID) else {
            throw Self.problem(.notFound, "unknown_pass", "Unknown pass", "no pass \(passID) was sold at \(park)")
        }
        guard sold.state != "refunded" else { throw Self.problem(.conflict, "already_refunded", "Already refunded") }
        do { try Check.text(reason, "reason", max: 200) } catch { throw Self.problem(.invalid, "invalid_body", "Invalid reason", error.message) }
        try await deliverBeforeChange()
        for attempt in 0..<2 {
            let view = try await hubPass(passID)
            let refunded = PassRefunded(passID: passID, amountMinor: view.refundDueMinor, currency: view.currency, reason: reason)
            let (payload, jws) = try Assertions.sign(.passRefunded(refunded), park: park, key: signingKey, now: now)
            let answer = await submitChange(passID, "refund", jws.compact)
            if case .failure(let error) = answer {
                // An entry counted meanwhile changes what is due: ask again once.
                if error.problemCode == "refund_mismatch", attempt == 0 { continue }
                throw Self.changeProblem(error)
            }
            sold.state = "refunded"
            let index = try await logIndex(of: jws.compact)
            try await store.recordPassChange(
                sold, knowledge: PassKnowledge(refunded: true), assertion: (payload.id, payload.type.rawValue, jws.compact),
                logIndex: index, now: now)
            return PassRefundResult(passID: passID, refundedMinor: view.refundDueMinor, currency: view.currency)
        }
        throw Self.problem(.conflict, "refund_mismatch", "The pass keeps changing; try again")
    }

    /// Transfers a pass sold here to a new named holder at a resale price within the product's cap; the new code
    /// has the next generation, and every older code is refused from then on.
    public func transferPass(_ passID: String, _ order: PassTransferOrder, now: Date = Date()) async throws -> PassSaleResponse {
        guard let sold = try await store.soldPass(passID) else {
            throw Self.problem(.notFound, "unknown_pass", "Unknown pass", "no pass \(passID) was sold at \(park)")
        }
        guard let product = product(of: sold) else { throw Self.problem(.conflict, "unknown_product", "Unknown product") }
        guard product.transfer.allowed else {
            throw Self.problem(.conflict, "not_transferable", "Not transferable", "product \(product.id) does not allow transfers")
        }
        guard sold.state != "refunded" else { throw Self.problem(.conflict, "already_refunded", "Already refunded") }
        if let cap = product.transfer.resaleCapMinor, order.resalePriceMinor > cap {
            throw Self.problem(.unprocessable, "resale_above_cap", "Resale price above the cap", "the resale price may be at most \(cap)")
        }
        guard order.resalePriceMinor >= 0 else { throw Self.problem(.invalid, "invalid_body", "Invalid resale price") }
        let holder = try Self.holder(order.newHolder)
        let nameMasked = Masking.name(order.newHolder.name)
        let reference = try holderRef(holder, name: order.newHolder.name.trimmingCharacters(in: .whitespaces), nameMasked: nameMasked)
        return try await changeHolder(
            sold, product: product, to: holder, reference, nameMasked: nameMasked, resalePriceMinor: order.resalePriceMinor,
            feeMinor: product.transfer.feeMinor, reissue: false, now: now)
    }

    /// Re-issues a lost ticket to its real-name holder, who shows the document the pass was sold (or last
    /// transferred) to: a new code of the next generation with the remaining entries; the hub revokes the old code
    /// at once (gates learn it from the revocation list) and checks the holder again on its side.
    public func reissuePass(_ passID: String, holder input: HolderInput, now: Date = Date()) async throws -> PassSaleResponse {
        guard let sold = try await store.soldPass(passID) else {
            throw Self.problem(.notFound, "unknown_pass", "Unknown pass", "no pass \(passID) was sold at \(park)")
        }
        guard let product = product(of: sold) else { throw Self.problem(.conflict, "unknown_product", "Unknown product") }
        guard sold.state != "refunded" else { throw Self.problem(.conflict, "already_refunded", "Already refunded") }
        let document = try Self.holder(input)
        let name = input.name.trimmingCharacters(in: .whitespaces)
        let reference = try holderRef(document, name: name, nameMasked: sold.holderMasked)
        guard reference.idDigest == sold.idDigest, document.kind.rawValue == sold.idType else {
            throw Self.problem(.forbidden, "holder_mismatch", "Not the pass's holder", "a lost ticket is re-issued only to the holder's own document")
        }
        let response = try await changeHolder(
            sold, product: product, to: document, reference, nameMasked: sold.holderMasked, resalePriceMinor: 0,
            feeMinor: 0, reissue: true, now: now)
        logger.notice("pass re-issued", metadata: ["pass": "\(passID)", "generation": "\(response.generation)"])
        return response
    }

    /// A pass's next generation for `holder` (a transfer to a new holder, or a re-issue to the same one): a new code,
    /// the signed `pass.transferred` the hub decides on (it revokes every older code in the same transaction), and
    /// the sale record updated with the assertion's log index.
    func changeHolder(
        _ sold: SoldPassRecord, product: ComboProduct, to holder: IdentityDocument, _ reference: HolderRef, nameMasked: String,
        resalePriceMinor: Int64, feeMinor: Int64, reissue: Bool, now: Date
    ) async throws -> PassSaleResponse {
        var sold = sold
        let passID = sold.passID
        try await deliverBeforeChange()
        let generation = try await hubPass(passID).generation + 1
        // The new code carries everything of the old one (category, heads, slot, stock) but the holder and generation.
        let previous = try PassCode(parsing: sold.code).payload
        let code = try PassCode.make(previous.next(generation: generation, name: nameMasked), key: signingKey)
        let change = PassTransferred(
            passID: passID, newHolder: reference, generation: generation, resalePriceMinor: resalePriceMinor,
            feeMinor: feeMinor, currency: product.price.currency.code, reissue: reissue ? true : nil)
        let (payload, jws) = try Assertions.sign(.passTransferred(change), park: park, key: signingKey, now: now)
        if case .failure(let error) = await submitChange(passID, "transfer", jws.compact) { throw Self.changeProblem(error) }
        sold.holderMasked = nameMasked
        sold.idType = holder.kind.rawValue
        sold.idDigest = reference.idDigest
        sold.idMasked = holder.maskedNumber
        sold.generation = generation
        sold.code = code.text
        let index = try await logIndex(of: jws.compact)
        try await store.recordPassChange(
            sold, knowledge: PassKnowledge(minimumGeneration: generation), assertion: (payload.id, payload.type.rawValue, jws.compact),
            logIndex: index, now: now)
        var response = try saleResponse(sold, code: code, idNumberMasked: holder.maskedNumber)
        response.priceMinor = resalePriceMinor
        return response
    }

    func submitChange(_ passID: String, _ action: String, _ compact: String) async -> Result<PassView, NodeError> {
        do {
            return .success(
                try await tracked { (hub: HubClient) async throws(NodeError) in
                    try await hub.json(.POST, "/v1/passes/\(passID)/\(action)", body: PassChangeRequest(assertion: compact), as: PassView.self)
                })
        } catch {
            return .failure(error)
        }
    }

    static func changeProblem(_ error: NodeError) -> Refusal {
        if error.code == .hubUnreachable { return problem(.unavailable, "hub_unreachable", "The hub is unreachable", error.message) }
        return problem(.conflict, error.problemCode ?? "hub_refused", "The hub refused the change", error.message)
    }

    /// Refunds and transfers need the hub to know the pass: deliver what waits in the outbox first.
    func deliverBeforeChange() async throws {
        do { try await deliverOutbox() } catch {
            throw Self.problem(
                .unavailable, "hub_unreachable", "The hub is unreachable", "refunds and transfers are decided by the hub; try again when the link is back")
        }
    }

    func hubPass(_ passID: String) async throws -> PassView {
        do {
            return try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.GET, "/v1/passes/\(passID)", body: Optional<String>.none, as: PassView.self)
            }
        } catch {
            if error.code == .hubUnreachable { throw Self.problem(.unavailable, "hub_unreachable", "The hub is unreachable", error.message) }
            throw Self.problem(.upstream, error.problemCode ?? "hub_error", "The hub refused", error.message)
        }
    }

    /// The log index of an assertion the hub has just logged (by its leaf hash).
    func logIndex(of compact: String) async throws -> UInt64 {
        let hash = Hex.encode(MerkleHash.leaf(Data(compact.utf8)))
        let proof = try await tracked { (hub: HubClient) async throws(NodeError) in
            try await hub.json(.GET, "/v1/log/proofs/inclusion?leaf_hash=\(hash)", body: Optional<String>.none, as: InclusionProofResponse.self)
        }
        return proof.leafIndex
    }

    /// How long an online reservation may be waiting for the hub's answer before the upkeep loop takes it for one
    /// left by a stop (the gate's hub timeout is seconds).
    static let reservationGrace: TimeInterval = 120

    /// Online reservations whose request ended without an answer recorded (the node stopped while the hub was
    /// asked) are decided by the hub's log: an entry the hub logged is admitted at its index (the hub counted it;
    /// the outbox keeps its assertion as accepted), one it never logged is released, so that the visitor's next scan
    /// is decided afresh instead of refused as used. Until then the entry counts here and its assertion is not sent.
    /// A hub that cannot be asked now is asked on the next pass. Returns how many were resolved.
    @discardableResult
    public func resolveReservations(now: Date = Date()) async -> Int {
        let stale: [(entryID: String, passID: String, day: CivilDay, jws: String)]
        do { stale = try await store.staleReservations(before: now.addingTimeInterval(-Self.reservationGrace)) } catch {
            logger.warning("could not read the reservations left by a stop", metadata: ["error": "\(error)"])
            return 0
        }
        var resolved = 0
        for item in stale {
            do {
                let index = try await logIndex(of: item.jws)
                // The log's proof does not carry the pass's first day of use (the hub's answer would have). The
                // entry's own day is kept when none is known: never before the true one, so an offline decision here
                // never ends the pass's validity early, and no longer takes the pass for unused (which would start
                // its days from a later entry).
                try await store.admitOnline(item.entryID, logIndex: index, passID: item.passID, activatedOn: item.day)
                logger.notice("an entry reserved before a stop is admitted: the hub logged it", metadata: ["entry": "\(item.entryID)", "index": "\(index)"])
            } catch let error as NodeError where error.problemCode == "not_in_log" {
                do { try await store.releaseEntry(item.entryID, passID: item.passID, learned: nil) } catch {
                    logger.warning("could not release an entry reserved before a stop", metadata: ["entry": "\(item.entryID)", "error": "\(error)"])
                    continue
                }
                logger.notice("an entry reserved before a stop is released: the hub never logged it", metadata: ["entry": "\(item.entryID)"])
            } catch {
                logger.warning("could not ask the hub about an entry reserved before a stop; asking again later", metadata: ["error": "\(error)"])
                return resolved
            }
            resolved += 1
        }
        return resolved
    }
}

extension NodeAgent {
    /// The visitor's link to the page of a pass this park sold (the receipt's QR, or the message to the visitor),
    /// for its current code: the hub verifies the code and answers a token it keeps only hashed. `url` is the link
    /// on the hub's address.
    public func visitorLink(_ passID: String) async throws -> (link: VisitorLink, url: String) {
        guard let sold = try await store.soldPass(passID) else {
            throw Self.problem(.notFound, "unknown_pass", "Unknown pass", "no pass \(passID) was sold at \(park)")
        }
        guard sold.state != "refunded" else { throw Self.problem(.conflict, "already_refunded", "A refunded pass has no page") }
        try await deliverBeforeChange()
        let body = VisitorLinkRequest(code: sold.code)
        do {
            let link = try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.POST, "/v1/passes/\(passID)/visitor-links", body: body, as: VisitorLink.self)
            }
            return (link, configuration.withLockedValue { $0.hubURL } + link.path)
        } catch {
            throw Self.changeProblem(error)
        }
    }
}
