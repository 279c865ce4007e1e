import Foundation
import NIOConcurrencyHelpers
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// The shop's payment providers by name (`test`, `wechatpay`): those hub.json names (`payment_providers`, the
/// `wechatpay` settings), replaceable by a test.
public final class ShopPayments: Sendable {
    let providers: NIOLockedValueBox<[String: any PaymentProvider]>

    init(_ providers: [any PaymentProvider]) { self.providers = NIOLockedValueBox(Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { $1 })) }

    /// Adds or replaces a provider.
    public func use(_ provider: any PaymentProvider) { providers.withLockedValue { $0[provider.name] = provider } }

    /// The providers a visitor can choose, by name.
    public var names: [String] { providers.withLockedValue { $0.keys.sorted() } }

    func provider(_ name: String) throws -> any PaymentProvider {
        guard let provider = providers.withLockedValue({ $0[name] }) else {
            throw Refusal(.notFound, code: "unknown_provider", title: "This hub takes no payments through \(name)")
        }
        return provider
    }
}

/// Paying for a shop order and giving money back, the same rules for every provider: a payment starts only for a
/// pending order; a provider's word that it was paid (a verified notification, or its answer to a query when the
/// visitor comes back) confirms the order once, for exactly its amount; a payment after the hold expired issues
/// nothing and its whole amount is refunded; a visitor's refund request is decided by ``SelfServiceRefund`` (at once,
/// or by the seller's staff from the queue), the pass's refund logged before the money is sent back through the
/// order's provider; refunds not yet taken by the provider are sent again (``retryShopRefunds(now:)``).
extension Hub {
    /// Starts paying `order` with `providerName`: the test provider pays at once (the order is confirmed now); a real
    /// provider answers the address of its payment page, where the visitor goes.
    public func startShopPayment(
        _ order: ShopOrderRecord, provider providerName: String, returnURL: String, clientIP: String, baseURL: String, now: Date = Date()
    ) async throws -> PaymentStart {
        let provider = try payments.provider(providerName)
        guard order.status == "pending" else { throw Refusal(.conflict, code: "order_not_pending", title: "This order is not waiting for payment") }
        guard order.expiresAt > now else { throw Refusal(.conflict, code: "hold_expired", title: "The hold ended", detail: "book again") }
        let start: PaymentStart
        do {
            start = try await provider.start(
                PaymentOrder(
                    id: order.id, amountMinor: order.amountMinor, currency: order.currency,
                    description: passes.product(order.product)?.name ?? order.product, expiresAt: order.expiresAt, returnURL: returnURL,
                    clientIP: clientIP), now: now)
        } catch let error as PaymentError {
            logger.warning("payment not started", metadata: ["order": "\(order.id)", "provider": "\(providerName)", "error": "\(error)"])
            throw Refusal(.unavailable, code: "payment_unavailable", title: "The payment could not be started", detail: "try again in a moment")
        }
        switch start {
        case .paid(let paymentID): _ = try await shopPaid(order.id, provider: providerName, paymentID: paymentID, baseURL: baseURL, now: now)
        case .redirect: try await store.startShopPayment(order.id, provider: providerName)
        }
        metrics.shopPayment(provider: providerName, event: "started")
        return start
    }

    /// A provider's payment notification: verified by the provider (a forged, stale or undecryptable one is refused
    /// and changes nothing), then the order it names is confirmed for exactly the amount paid.
    public func shopPaymentNotification(provider providerName: String, headers: [String: String], body: Data, baseURL: String, now: Date = Date())
        async throws
    {
        let provider = try payments.provider(providerName)
        let notice: PaymentNotice
        do { notice = try provider.notification(headers: headers, body: body, now: now) } catch let error as PaymentError {
            metrics.shopPayment(provider: providerName, event: "notification_refused")
            logger.warning("payment notification refused", metadata: ["provider": "\(providerName)", "error": "\(error)"])
            throw Refusal(.unauthenticated, code: "notification_refused", title: "The notification does not verify", detail: error.code)
        }
        try await paid(notice, provider: providerName, baseURL: baseURL, now: now)
    }

    /// Asks the order's provider whether a pending order was paid (the visitor came back before the notification).
    @discardableResult
    public func refreshShopPayment(_ order: ShopOrderRecord, baseURL: String, now: Date = Date()) async -> ShopOrderRecord {
        guard order.status == "pending", let name = order.provider, let provider = try? payments.provider(name) else { return order }
        do {
            if let notice = try await provider.query(order.id, now: now) { try await paid(notice, provider: name, baseURL: baseURL, now: now) }
        } catch {
            logger.notice("payment query failed", metadata: ["order": "\(order.id)", "error": "\(error)"])
        }
        return (try? await store.shopOrder(order.id)) ?? order
    }

    func paid(_ notice: PaymentNotice, provider: String, baseURL: String, now: Date) async throws {
        guard let order = try await store.shopOrder(notice.orderID) else { throw Refusal(.notFound, code: "unknown_order", title: "Unknown order") }
        guard notice.amountMinor == order.amountMinor, notice.currency == order.currency else {
            metrics.shopPayment(provider: provider, event: "amount_mismatch")
            logger.error(
                "payment amount differs from the order", metadata: ["order": "\(order.id)", "paid": "\(notice.amountMinor) \(notice.currency)"])
            throw Refusal(.conflict, code: "amount_mismatch", title: "The amount paid is not the order's")
        }
        _ = try await shopPaid(order.id, provider: provider, paymentID: notice.paymentID, baseURL: baseURL, now: now)
    }

    // MARK: Refunds

    /// A visitor's refund request for one ticket of an order of theirs: decided by the product's rule; automatic
    /// refunds are sent at once; others wait in the seller's queue. A second request answers the first.
    public func requestShopRefund(account: String, order orderID: String, pass passID: String, now: Date = Date()) async throws -> ShopRefundRecord {
        guard let order = try await store.shopOrder(orderID), order.account == account else {
            throw Refusal(.notFound, code: "unknown_order", title: "Unknown order")
        }
        guard order.status == "issued" else { throw Refusal(.conflict, code: "order_not_issued", title: "This order has no tickets to refund") }
        if let kept = try await store.shopRefunds(order: orderID).first(where: { $0.passID == passID }) { return kept }
        let booking = try await octoOwned(order.bookingUUID, shopCaller(baseURL: ""))
        guard booking.units.contains(where: { $0.passID == passID }), let record = try await store.pass(passID), let product = passes.product(for: record)
        else { throw Refusal(.notFound, code: "unknown_ticket", title: "Not a ticket of this order") }
        let visitStart = ISO8601DateFormatter().date(from: booking.availabilityID) ?? now
        let decision = SelfServiceRefund.decide(try record.state(product), visitStart: visitStart, today: passes.calendar.day(of: now), now: now)
        let (status, amount, reason): (ShopRefundRecord.Status, Int64, String)
        switch decision {
        case .refused(let code, let detail): throw Refusal(.conflict, code: code, title: "This ticket cannot be refunded", detail: detail)
        case .automatic(let due, let why): (status, amount, reason) = (.approved, due, why)
        case .review(let due, let why): (status, amount, reason) = (.review, due, why)
        }
        let refund = try await store.addShopRefund(
            ShopRefundRecord(
                id: "R-" + UUIDv7.make(now: now), order: orderID, passID: passID, amountMinor: amount, currency: order.currency, status: status, reason: reason,
                createdAt: now))
        metrics.shopRefund(refund.status.rawValue)
        if refund.status == .approved { try await processShopRefund(refund.id, now: now) }
        return try await store.shopRefund(refund.id) ?? refund
    }

    /// The seller's staff decide a refund waiting in the queue: approved (the rule's amount due now is given back) or
    /// declined with a note the visitor sees.
    public func decideShopRefund(_ id: String, approve: Bool, by person: String, note: String?, now: Date = Date()) async throws -> ShopRefundRecord {
        guard let refund = try await store.shopRefund(id) else { throw Refusal(.notFound, code: "unknown_refund", title: "Unknown refund") }
        guard refund.status == .review else { throw Refusal(.conflict, code: "refund_decided", title: "This refund was decided already") }
        let text = note?.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300).description
        if !approve {
            guard let text, !text.isEmpty else { throw Refusal(.invalid, code: "note_required", title: "Say why the refund is declined") }
            guard try await store.moveShopRefund(id, from: .review, to: .declined, decidedBy: person, note: text, now: now) else {
                throw Refusal(.conflict, code: "refund_decided", title: "This refund was decided already")
            }
            metrics.shopRefund("declined")
            return try await store.shopRefund(id) ?? refund
        }
        // The amount is the rule's now (entries may have been made since the request).
        var amount = refund.amountMinor
        if let passID = refund.passID, let record = try await store.pass(passID), let product = passes.product(for: record) {
            amount = (try? record.state(product).refundDue().minorUnits) ?? 0
        }
        guard amount > 0 else { throw Refusal(.conflict, code: "nothing_due", title: "Nothing is due under the product's rule now") }
        guard try await store.moveShopRefund(id, from: .review, to: .approved, amountMinor: amount, decidedBy: person, note: text, now: now) else {
            throw Refusal(.conflict, code: "refund_decided", title: "This refund was decided already")
        }
        try await processShopRefund(id, now: now)
        return try await store.shopRefund(id) ?? refund
    }

    /// Takes a decided refund as far as it goes: the pass's refund logged (signed with the shop seller's issuing key),
    /// then the money sent back through the order's provider. Safe to run again at any step.
    func processShopRefund(_ id: String, now: Date) async throws {
        guard var refund = try await store.shopRefund(id), let order = try await store.shopOrder(refund.order) else { return }
        if refund.status == .approved {
            if let passID = refund.passID, let record = try await store.pass(passID), record.refundedMinor == nil {
                do {
                    try await refundSellersPass(
                        passID, amountMinor: refund.amountMinor, currency: refund.currency, reason: "shop refund \(refund.id) (\(refund.reason))",
                        seller: Self.shopSeller, now: now)
                } catch let denied as PassDenied {
                    logger.warning("shop refund refused by the pass rule", metadata: ["refund": "\(id)", "reason": "\(denied.detail)"])
                    _ = try await store.moveShopRefund(id, from: .approved, to: .declined, note: "refused by the pass rule: \(denied.detail)", now: now)
                    return
                }
            }
            guard try await store.moveShopRefund(id, from: .approved, to: .sending, now: now) else { return }
            refund.status = .sending
        }
        guard refund.status == .sending else { return }
        let providerName = order.provider ?? "test"
        do {
            let provider = try payments.provider(providerName)
            let providerID = try await provider.refund(
                PaymentRefund(
                    orderID: order.id, refundID: refund.id, amountMinor: refund.amountMinor, totalMinor: order.amountMinor, currency: refund.currency,
                    reason: refund.reason), now: now)
            if try await store.completeShopRefund(id, providerRefundID: providerID) { metrics.shopRefund("refunded") }
        } catch {
            logger.warning("shop refund not sent yet", metadata: ["refund": "\(id)", "provider": "\(providerName)", "error": "\(error)"])
            try await store.failedShopRefund(
                id, error: "\(error)", nextAttemptAt: now.addingTimeInterval(Self.deliveryBackoff(afterAttempts: refund.attempts)))
        }
    }

    /// Sends again every refund decided but not yet taken by its provider whose next attempt is due (30 s after a
    /// failure, doubling, at most 6 h apart, as webhooks; run by the hub's outbound delivery loop).
    @discardableResult
    public func retryShopRefunds(now: Date = Date()) async throws -> Int {
        let waiting = try await store.shopRefunds(statuses: [.approved, .sending], dueBy: now)
        for refund in waiting { try await processShopRefund(refund.id, now: now) }
        return waiting.count
    }

    // MARK: E-tickets

    /// Sends the account's contact its e-tickets: each pass's own page, by e-mail or SMS.
    func sendETickets(_ order: ShopOrderRecord, links: [String], language: MessageCatalog.Language = .zh) async {
        guard !links.isEmpty else { return }
        do {
            guard let account = try await store.visitorAccount(id: order.account) else { return }
            let to = try secrets.fields.open(account.contactSealed, purpose: "visitor.contact")
            let name = passes.product(order.product)?.name ?? order.product
            let list = links.joined(separator: "\n")
            let (subject, body) =
                language == .zh
                ? ("ParkFederation 电子票 \(order.id)", "您的订单 \(order.id)（\(name)）已出票。每张票的页面（入园时出示二维码）：\n\(list)")
                : (
                    "ParkFederation e-tickets \(order.id)",
                    "Your order \(order.id) (\(name)) is issued. Each ticket's page (show its QR code at the gate):\n\(list)"
                )
            try await messages.send(OutboundMessage(channel: account.contactKind == "email" ? .email : .sms, to: to, subject: subject, body: body))
        } catch {
            logger.warning("e-tickets not sent", metadata: ["order": "\(order.id)", "error": "\(error)"])
        }
    }
}
