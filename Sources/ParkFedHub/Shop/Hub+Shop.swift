import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// The visitors' own shop: the federation sells as its own seller of record (`PFSHOP` in `partners/resellers.json`,
/// a settlement participant like a reseller, whose net is the retail price), through the same rules as a reseller's
/// OCTO bookings: the same availability (slots, and each park's places of the day, as gates and resellers see them),
/// a hold of the places while the visitor pays, passes signed by the hub under the seller's issuing key when the
/// payment is confirmed, the same refund rule. An order is a visitor's hold with its payment; a paid order issues its
/// passes exactly once; an order whose hold expired before payment is refunded.
extension Hub {
    /// The seller of record of the shop's sales.
    public static let shopSeller = try! ParkID("PFSHOP")
    static let shopHoldMinutes = 15

    func shopCaller(baseURL: String) -> OctoCaller { OctoCaller(reseller: Self.shopSeller, pricing: true, baseURL: baseURL) }

    /// What the shop sells: its seller's products.
    public func shopProducts(baseURL: String) async throws -> [Octo.Product] { try await octoProducts(shopCaller(baseURL: baseURL)) }

    /// The availability of `product` on `day` (one per slot, or the day), with vacancies as the hub enforces them.
    public func shopAvailability(_ product: String, day: CivilDay, baseURL: String, now: Date = Date()) async throws -> [Octo.Availability] {
        try await octoAvailability(
            try Self.octoRequest(["productId": product, "optionId": Octo.defaultOption, "localDate": day.description]), shopCaller(baseURL: baseURL),
            now: now)
    }

    /// An OCTO request built from plain values (the same decoding an outside reseller's request goes through).
    static func octoRequest<T: Decodable>(_ fields: [String: Any]) throws -> T {
        try JSONDecoder().decode(T.self, from: try JSONSerialization.data(withJSONObject: fields))
    }

    /// A visitor's order: one unit of `category` for each of the account's holders named, on hold for 15 minutes.
    public func placeShopOrder(
        account: String, product: String, availabilityID: String, category: String, holders: [String], baseURL: String, now: Date = Date()
    ) async throws -> ShopOrderRecord {
        guard (1...10).contains(holders.count), Set(holders).count == holders.count else {
            throw Refusal(.invalid, code: "invalid_order", title: "Choose 1-10 holders, each once")
        }
        let kept = try await store.visitorHolders(account)
        guard holders.allSatisfy({ id in kept.contains { $0.id == id } }) else {
            throw Refusal(.notFound, code: "unknown_holder", title: "Not a holder of this account")
        }
        let uuid = UUID().uuidString.lowercased()
        let booking: Octo.Booking
        do {
            booking = try await octoHold(
                try Self.octoRequest([
                    "uuid": uuid, "productId": product, "optionId": Octo.defaultOption, "availabilityId": availabilityID,
                    "expirationMinutes": Self.shopHoldMinutes, "unitItems": holders.map { _ in ["unitId": category] },
                ]), shopCaller(baseURL: baseURL), now: now)
        } catch let error as Octo.ErrorBody {
            throw Refusal(.conflict, code: "not_available", title: "Not available", detail: error.errorMessage)
        }
        let order = ShopOrderRecord(
            id: "O-" + UUIDv7.make(now: now), account: account, bookingUUID: uuid, product: product, amountMinor: booking.pricing?.retail ?? 0,
            currency: booking.pricing?.currency ?? configuration.currency, holders: holders, status: "pending", createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(Self.shopHoldMinutes * 60)))
        try await store.addShopOrder(order)
        return order
    }

    /// A payment the provider confirmed for an order: the booking is confirmed with the holders' names and documents
    /// (passes issued once: a second notification finds the order issued), or, when the hold expired first, the
    /// order is marked for refund (`refund_due`) and nothing is issued.
    @discardableResult
    public func shopPaid(_ orderID: String, provider: String, paymentID: String, baseURL: String, now: Date = Date()) async throws -> ShopOrderRecord {
        guard var order = try await store.shopOrder(orderID) else { throw Refusal(.notFound, code: "unknown_order", title: "Unknown order") }
        guard order.status == "pending" else { return order }
        let holders = try await store.visitorHolders(order.account)
        let fields = secrets.fields
        let people = try order.holders.map { id -> [String: Any] in
            guard let holder = holders.first(where: { $0.id == id }) else { throw Refusal(.conflict, code: "holder_removed", title: "A holder was removed") }
            return [
                "fullName": try fields.open(holder.nameSealed, purpose: "visitor.holder.name"),
                "identityDocument": ["type": holder.idType, "number": try fields.open(holder.idSealed, purpose: "visitor.holder.id_number")],
            ]
        }
        do {
            _ = try await octoConfirm(
                order.bookingUUID,
                try Self.octoRequest(["contact": people[0], "unitItems": people.map { ["unitId": order.unitCategory ?? "full", "contact": $0] }]),
                shopCaller(baseURL: baseURL), now: now)
            order.status = "issued"
        } catch let error as Octo.ErrorBody {
            logger.notice("shop order not issued", metadata: ["order": "\(order.id)", "reason": "\(error.errorMessage)"])
            order.status = "refund_due"
        }
        // A payment after the hold expired: its whole refund is recorded with the order's new state, then sent.
        let refund =
            order.status == "refund_due"
            ? ShopRefundRecord(
                id: "R-" + UUIDv7.make(now: now), order: order.id, passID: nil, amountMinor: order.amountMinor, currency: order.currency, status: .sending,
                reason: "late_payment", createdAt: now) : nil
        guard try await store.markShopOrder(order.id, status: order.status, provider: provider, paymentID: paymentID, refund: refund, now: now) else {
            return try await store.shopOrder(order.id) ?? order
        }
        metrics.shopPayment(provider: provider, event: order.status == "issued" ? "issued" : "late")
        if let refund { try await processShopRefund(refund.id, now: now) }
        if order.status == "issued" {
            let booking = try await shopBooking(order, baseURL: baseURL, now: now)
            await sendETickets(order, links: booking.unitItems.compactMap(\.visitorPageUrl))
        }
        return try await store.shopOrder(order.id) ?? order
    }

    /// An order with its booking as the visitor sees it (e-ticket links once issued).
    public func shopBooking(_ order: ShopOrderRecord, baseURL: String, now: Date = Date()) async throws -> Octo.Booking {
        try await shopBookingWithUnits(order, baseURL: baseURL, now: now).booking
    }

    /// The booking as the visitor sees it with its stored units (their passes), read once.
    func shopBookingWithUnits(_ order: ShopOrderRecord, baseURL: String, now: Date = Date()) async throws -> (
        booking: Octo.Booking, units: [OctoUnitRecord]
    ) {
        let caller = shopCaller(baseURL: baseURL)
        let record = try await octoOwned(order.bookingUUID, caller)
        return (try await octoView(record, try await octoAdmitted(caller), caller, now: now), record.units)
    }
}
