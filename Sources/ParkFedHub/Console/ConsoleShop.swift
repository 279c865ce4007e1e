import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol
import ParkFedStore

/// The shop's pages: the products with their parks and rules, availability by day with the places left (the numbers
/// the hub enforces for every channel), an order of one ticket per holder of the account, held while the visitor
/// pays, the rules shown before payment, the payment (the built-in test provider), and the e-tickets (each pass's own
/// page). Works on a phone without a script.
extension ConsolePages {
    func registerShop(on router: Router<HubRequestContext>, book: RouteBook) {
        let shop = router.group("shop").add(middleware: VisitorLimitMiddleware(limiter: hub.visitorLimiter, metrics: hub.metrics))
        for (method, path) in [
            (HTTPRequest.Method.get, "/shop"), (.get, "/shop/products/{product}"), (.post, "/shop/orders"), (.get, "/shop/orders/{order}"),
            (.post, "/shop/orders/{order}/pay"), (.post, "/shop/orders/{order}/refunds"),
        ] {
            book.add(method, path, .visitorSession)
        }
        book.add(.post, "/shop/payments/{provider}/notify", .providerSignature)
        // A provider's server posts here (no session, no form token: the provider's signature is checked). Answers as
        // WeChat Pay API v3 expects: 204 when taken, 4xx with {"code":"FAIL","message":…} otherwise (it retries).
        router.post("shop/payments/:provider/notify") { request, context -> Response in
            let provider = try context.parameters.identifier("provider")
            let body = Data(buffer: try await request.body.collect(upTo: 64 * 1024))
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            do {
                try await hub.shopPaymentNotification(provider: provider, headers: headers, body: body, baseURL: Self.baseURL(request))
                return Response(status: .noContent)
            } catch let refusal as Refusal {
                let problem = ProblemDetails(refusal)
                let answer = try JSONSerialization.data(withJSONObject: ["code": "FAIL", "message": problem.code])
                return Response(
                    status: .init(code: problem.status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: answer)))
            }
        }
        shop.get("") { request, _ -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let products = try await hub.shopProducts(baseURL: Self.baseURL(request)).map { product -> [String: Any] in
                let domain = hub.passes.product(product.id)
                return [
                    "id": product.id, "name": domain?.name ?? product.internalName,
                    "parks": domain?.members.map(\.park.rawValue).joined(separator: " · ") ?? "",
                    "price": domain.map { money($0.price.minorUnits) } ?? "", "timed": domain?.slots.isEmpty == false ? words["shopTimed"]! : "",
                ]
            }
            return shopPage("shop-home", title: "shopTitle", request: request, subject: Self.anonymous, ["products": products])
        }
        shop.get("products/:product") { request, context -> Response in
            let id = try context.parameters.identifier("product")
            let words = ConsoleText.words(Self.language(request).0)
            guard let product = hub.passes.product(id), try await hub.shopProducts(baseURL: Self.baseURL(request)).contains(where: { $0.id == id }) else {
                throw Refusal(.notFound, code: "unknown_product", title: "Unknown product")
            }
            let today = hub.passes.calendar.day(of: Date())
            let day = (request.uri.queryParameters["date"].flatMap { try? CivilDay(String($0)) }).map { max($0, today) } ?? today
            let availability = try await hub.shopAvailability(id, day: day, baseURL: Self.baseURL(request))
            let signed = try await signedIn(request)
            var holders: [VisitorHolderRecord] = []
            if let signed { holders = try await hub.store.visitorHolders(signed.0.id) }
            var units = [["value": "full", "label": words["shopFull"]!]]
            units += product.categories.filter { $0.kind != .group }.map { ["value": $0.id, "label": $0.id] }
            return shopPage(
                "shop-product", title: "shopTitle", request: request, subject: signed.map { Self.visitorSubject($0.1) } ?? Self.anonymous,
                [
                    "id": id, "name": product.name, "price": money(product.price.minorUnits), "day": day.description,
                    "days": (0..<14).map { offset -> [String: String] in
                        let other = today.adding(days: offset)
                        return ["day": other.description, "current": other == day ? "current" : ""]
                    },
                    "slots": availability.map {
                        [
                            "id": $0.id, "start": String($0.localDateTimeStart.dropFirst(11).prefix(5)),
                            "end": String($0.localDateTimeEnd.dropFirst(11).prefix(5)),
                            "allDay": $0.allDay ? [true] : [], "available": $0.available ? [true] : [], "status": words["shopStatus_\($0.status)"] ?? $0.status,
                            "vacancies": $0.vacancies.map(String.init) ?? "—",
                        ] as [String: Any]
                    },
                    "rules": rules(product, words), "units": units, "signedIn": signed == nil ? [] : [true], "signedOut": signed == nil ? [true] : [],
                    "holders": holders.map { ["id": $0.id, "name": $0.nameMasked, "document": $0.idMasked] },
                ])
        }
        shop.post("orders") { request, _ -> Response in
            guard let (account, token) = try await signedIn(request) else { return PageResponse.redirect("/shop/account/sign-in" + Self.langQuery(request)) }
            let form = try await shopForm(request, subject: Self.visitorSubject(token))
            let holders = form.values("holder")
            let product = form["product"] ?? ""
            do {
                let order = try await hub.placeShopOrder(
                    account: account.id, product: product, availabilityID: form["availability"] ?? "", category: form["unit"] ?? "full",
                    holders: holders, baseURL: Self.baseURL(request))
                return PageResponse.redirect("/shop/orders/\(order.id)" + Self.langQuery(request))
            } catch let refusal as Refusal {
                return shopPage(
                    "shop-message", title: "shopTitle", request: request, subject: Self.visitorSubject(token), refusal: refusal,
                    ["back": "/shop/products/\(product)" + Self.langQuery(request)])
            }
        }
        shop.get("orders/:order") { request, context -> Response in
            guard let (account, token) = try await signedIn(request) else { return PageResponse.redirect("/shop/account/sign-in" + Self.langQuery(request)) }
            let words = ConsoleText.words(Self.language(request).0)
            guard let found = try await hub.store.shopOrder(try context.parameters.identifier("order")), found.account == account.id else {
                throw Refusal(.notFound, code: "unknown_order", title: "Unknown order")
            }
            // Back from a provider's page before its notification: ask the provider.
            let order = await hub.refreshShopPayment(found, baseURL: Self.baseURL(request))
            let (booking, units) = try await hub.shopBookingWithUnits(order, baseURL: Self.baseURL(request))
            let product = hub.passes.product(order.product)
            let refunds = try await hub.store.shopRefunds(order: order.id)
            let tickets = booking.unitItems.enumerated().compactMap { index, unit -> [String: Any]? in
                guard let link = unit.visitorPageUrl else { return nil }
                let pass = index < units.count ? units[index].passID : ""
                let refund = refunds.first { $0.passID == pass }
                return [
                    "link": link, "holder": unit.contact.fullName ?? "", "unit": unit.unitId, "pass": pass,
                    "refund": refund.map { refundText($0, order.currency, words) } ?? "", "canRefund": refund == nil && order.status == "issued" ? [true] : [],
                ]
            }
            let orderRefunds = refunds.filter { $0.passID == nil }.map { refundText($0, order.currency, words) }
            return shopPage(
                "shop-order", title: "shopOrder", request: request, subject: Self.visitorSubject(token),
                [
                    "id": order.id, "name": product?.name ?? order.product, "amount": MoneyText.format(order.amountMinor, currency: order.currency),
                    "when": booking.availability.localDateTimeStart.replacingOccurrences(of: "T", with: " ").prefix(16).description,
                    "status": words["shopOrder_\(order.status)"] ?? order.status, "pending": order.status == "pending" ? [true] : [],
                    "expires": Self.time(order.expiresAt), "rules": product.map { rules($0, words) } ?? [],
                    "tickets": tickets, "hasTickets": tickets.isEmpty ? [] : [true], "orderRefunds": orderRefunds,
                    "providers": hub.payments.names.map { ["value": $0, "label": words["shopPay_\($0)"] ?? $0] },
                ])
        }
        shop.post("orders/:order/pay") { request, context -> Response in
            guard let (account, token) = try await signedIn(request) else { return PageResponse.redirect("/shop/account/sign-in" + Self.langQuery(request)) }
            let form = try await shopForm(request, subject: Self.visitorSubject(token))
            let id = try context.parameters.identifier("order")
            guard let order = try await hub.store.shopOrder(id), order.account == account.id else {
                throw Refusal(.notFound, code: "unknown_order", title: "Unknown order")
            }
            let back = "/shop/orders/\(order.id)" + Self.langQuery(request)
            do {
                // The test provider pays at once; a real one sends the visitor to its page and notifies the hub.
                switch try await hub.startShopPayment(
                    order, provider: form["provider"] ?? "test", returnURL: Self.baseURL(request) + back, clientIP: Self.clientIP(request, context),
                    baseURL: Self.baseURL(request))
                {
                case .paid: return PageResponse.redirect(back)
                case .redirect(let url): return PageResponse.redirect(url)
                }
            } catch let refusal as Refusal {
                return shopPage(
                    "shop-message", title: "shopTitle", request: request, subject: Self.visitorSubject(token), refusal: refusal, ["back": back])
            }
        }
        shop.post("orders/:order/refunds") { request, context -> Response in
            guard let (account, token) = try await signedIn(request) else { return PageResponse.redirect("/shop/account/sign-in" + Self.langQuery(request)) }
            let form = try await shopForm(request, subject: Self.visitorSubject(token))
            let id = try context.parameters.identifier("order")
            let back = "/shop/orders/\(id)" + Self.langQuery(request)
            do {
                _ = try await hub.requestShopRefund(account: account.id, order: id, pass: form["pass"] ?? "")
                return PageResponse.redirect(back)
            } catch let refusal as Refusal {
                return shopPage(
                    "shop-message", title: "shopTitle", request: request, subject: Self.visitorSubject(token), refusal: refusal, ["back": back])
            }
        }
    }

    /// The rules shown before payment: validity, refunds, transfers, the parks and their entries.
    func rules(_ product: ComboProduct, _ words: [String: String]) -> [String] {
        let validity: String =
            switch product.validity {
            case .fixed(let from, let until): PageResponse.format(words, "shopRuleFixed", ["from": from.description, "until": until.description])
            case .fromFirstUse(let days, let window): PageResponse.format(words, "shopRuleFirstUse", ["days": String(days), "window": String(window)])
            }
        return [
            validity, words["shopRefund_\(product.refundRule.rawValue)"] ?? product.refundRule.rawValue,
            words[product.transfer.allowed ? "shopTransferYes" : "shopTransferNo"]!,
            words["shopParks"]! + " " + product.members.map { "\($0.park) ×\($0.entries)" }.joined(separator: ", "),
            words[product.realName ? "shopRealName" : "shopNoRealName"]!,
        ]
    }

    /// A refund as the visitor reads it: its amount and where it stands.
    func refundText(_ refund: ShopRefundRecord, _ currency: String, _ words: [String: String]) -> String {
        let text = PageResponse.format(
            words, "shopRefund_status_\(refund.status.rawValue)",
            ["amount": MoneyText.format(refund.amountMinor, currency: currency), "id": refund.providerRefundID ?? refund.id])
        return refund.note.map { text + " — " + $0 } ?? text
    }

    /// The visitor's address (a provider asks for it against fraud).
    static func clientIP(_ request: Request, _ context: HubRequestContext) -> String {
        context.sourceAddress == "unknown" ? "127.0.0.1" : context.sourceAddress
    }

    /// The hub's address as the visitor reached it (for the e-ticket links).
    static func baseURL(_ request: Request) -> String {
        let host = request.head.authority ?? "127.0.0.1"
        return "https://" + host
    }
}
