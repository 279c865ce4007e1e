import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// Combo passes at the hub: the product catalogue, exactly-once entries (a gate's `pass.redeemed` is decided and
/// logged in one transaction, so two gates can never both take the last entry), refunds and transfers by the
/// issuing park, the revocation list gates fetch, and the conflicts offline entries caused.
extension Hub {
    /// Imports `partners/products.json` (validated: allocations add up, parks and dates are real).
    public func importProducts(file: String, now: Date = Date()) async throws -> Int {
        guard let data = FileManager.default.contents(atPath: file) else { throw WireError("cannot read \(file)") }
        let products = try ProductCatalog.load(data)
        try await passes.install(products, now: now)
        return products.count
    }

    /// A gate's entry: decided against the pass's state and logged in the same transaction when admitted.
    public func redeem(_ request: RedeemRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> RedeemResponse {
        _ = try Self.park(of: peer)
        let outcome: (result: IngestResult, payload: AssertionPayload, effect: AssertionEffectResult?)
        do {
            outcome = try await decide(request.assertion, peer: peer, expecting: .passRedeemed, now: now)
        } catch let denied as PassDenied {
            metrics.gateDecision(reason: denied.reason)
            let passID =
                (try? JWS(compact: request.assertion)).flatMap { try? Assertions.decodePayload($0) }.flatMap { payload -> String? in
                    if case .passRedeemed(let data) = payload.data { return data.passID } else { return nil }
                } ?? ""
            return RedeemResponse(decision: .deny, reason: denied.reason, detail: denied.detail, passID: passID)
        }
        guard case .passRedeemed(let data) = outcome.payload.data else {
            throw Refusal(.failed, code: "internal_error", title: "Unexpected payload")
        }
        switch outcome.effect {
        case .admitted(let admission):
            metrics.gateDecision(reason: "allow")
            // The admission carries the pass's activation day: no read of the pass after the append.
            return RedeemResponse(
                decision: .allow, passID: data.passID, entriesLeft: admission.entriesLeft,
                activatedOn: admission.activatedOn?.description, usableUntil: admission.usableUntil?.description,
                logIndex: outcome.result.index)
        case .conflict(let refusal):
            return RedeemResponse(decision: .deny, reason: refusal.rawValue, passID: data.passID)
        case .refused(let refusal):
            return RedeemResponse(decision: .deny, reason: refusal.reason, detail: refusal.detail, passID: data.passID)
        case .applied, nil:
            // A retried request: answer as the entry was first decided.
            guard let entry = try await store.passEntry(outcome.payload.id) else {
                throw Refusal(.failed, code: "internal_error", title: "Entry not recorded")
            }
            if entry.counted {
                let record = try await store.pass(data.passID)
                return RedeemResponse(decision: .allow, passID: data.passID, activatedOn: record?.activatedOn?.description, logIndex: outcome.result.index)
            }
            return RedeemResponse(decision: .deny, reason: entry.conflict, passID: data.passID)
        }
    }

    /// A pass as the hub knows it: for its issuing park, clearing staff and the operator.
    public func passView(_ id: String, peer: AuthenticatedPeer) async throws -> PassView {
        try Self.checkIdentifier(id, "pass id")
        guard let record = try await store.pass(id) else {
            throw Refusal(.notFound, code: "unknown_pass", title: "Unknown pass", detail: "no pass \(id)")
        }
        switch peer.principal {
        case .park(let park) where park == record.issuer: break
        case .clearing, .hub: break
        default: throw Refusal(.forbidden, code: "forbidden_for_principal", title: "Only the issuing park and clearing staff see a pass")
        }
        guard let product = passes.product(for: record) else {
            throw Refusal(.conflict, code: "unknown_product", title: "Unknown product", detail: "product \(record.product) is not in the catalogue")
        }
        let state = record.state(product)
        return PassView(
            passID: id, product: record.product, issuer: record.issuer.rawValue, generation: record.generation,
            state: record.refundedMinor == nil ? "active" : "refunded", validFrom: record.validFrom.description, validUntil: record.validUntil.description,
            activatedOn: record.activatedOn?.description, usableUntil: state.usableUntil.description,
            entries: record.entries.sorted { $0.key.rawValue < $1.key.rawValue }.map { PassView.Entries(park: $0.key.rawValue, count: $0.value) },
            entriesUsed: state.usedTotal, refundDueMinor: record.refundedMinor == nil ? ((try? state.refundDue().minorUnits) ?? 0) : 0,
            refundedMinor: record.refundedMinor, currency: product.price.currency.code)
    }

    /// A sale the hub decides before the park answers its window (`POST /v1/passes`: timed passes, whose slot
    /// capacity is federation-wide): the signed `pass.issued` is logged with its pass in one transaction, or refused
    /// (`slot_full`) with nothing logged.
    public func issuePass(_ request: PassChangeRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> PassView {
        _ = try Self.park(of: peer)
        let outcome: (result: IngestResult, payload: AssertionPayload, effect: AssertionEffectResult?)
        do {
            outcome = try await decide(request.assertion, peer: peer, expecting: .passIssued, now: now)
        } catch let denied as PassDenied {
            throw Refusal(.conflict, code: denied.reason, title: "Sale refused", detail: denied.detail)
        }
        guard case .passIssued(let data) = outcome.payload.data else { throw Refusal(.failed, code: "internal_error", title: "Unexpected payload") }
        return try await passView(data.passID, peer: peer)
    }

    /// The issuing park refunds a pass: its signed `pass.refunded` must name exactly the refund due now.
    public func refundPass(_ id: String, _ request: PassChangeRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> PassView {
        try await change(id, request, peer: peer, type: .passRefunded, now: now)
    }

    /// The issuing park transfers a pass to a new holder: next generation, within the product's cap and fee.
    public func transferPass(_ id: String, _ request: PassChangeRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> PassView {
        try await change(id, request, peer: peer, type: .passTransferred, now: now)
    }

    func change(_ id: String, _ request: PassChangeRequest, peer: AuthenticatedPeer, type: AssertionType, now: Date) async throws -> PassView {
        _ = try Self.park(of: peer)
        try Self.checkIdentifier(id, "pass id")
        do {
            let outcome = try await decide(request.assertion, peer: peer, expecting: type, now: now)
            let named: String? =
                switch outcome.payload.data {
                case .passRefunded(let data): data.passID
                case .passTransferred(let data): data.passID
                default: nil
                }
            guard named == id else {
                throw Refusal(.invalid, code: "pass_mismatch", title: "The assertion is about another pass")
            }
        } catch let denied as PassDenied {
            throw Refusal(denied.reason == "unknown_pass" ? .notFound : .conflict, code: denied.reason, title: "Pass change refused", detail: denied.detail)
        }
        return try await passView(id, peer: peer)
    }

    /// A park's assertion whose effect decides the answer, checked within the federation's clock windows.
    func decide(_ assertion: String, peer: AuthenticatedPeer, expecting type: AssertionType, now: Date) async throws
        -> (result: IngestResult, payload: AssertionPayload, effect: AssertionEffectResult?)
    {
        try await log.decide(
            assertion, from: peer.principal, trustEpoch: peer.trustEpoch, now: now, skew: TimeInterval(configuration.assertionSkewSeconds),
            maxDelay: TimeInterval(configuration.assertionMaxDelaySeconds), expecting: type)
    }

    public func passRevocations(after: Int64, peer: AuthenticatedPeer) async throws -> PassRevocations {
        let rows = try await store.passRevocations(after: after, limit: 10_000)
        return PassRevocations(
            revocations: rows.map { .init(seq: $0.seq, passID: $0.passID, minimumGeneration: $0.minimumGeneration, refunded: $0.refunded) },
            last: rows.last?.seq ?? after)
    }

    /// Conflicting offline entries: a park sees those at its gates or of its passes; clearing staff see all.
    public func passConflicts(peer: AuthenticatedPeer) async throws -> PassConflicts {
        let park: ParkID?
        switch peer.principal {
        case .park(let id): park = id
        case .clearing, .operator, .hub: park = nil
        default: throw Refusal(.forbidden, code: "forbidden_for_principal", title: "Not for this principal")
        }
        let rows = try await store.passConflicts(park: park, limit: 1000)
        return PassConflicts(
            conflicts: rows.map {
                .init(
                    entryID: $0.entryID, passID: $0.passID, park: $0.park, issuer: $0.issuer, reason: $0.reason, enteredAt: $0.enteredAt, logIndex: $0.logIndex)
            })
    }
}
