import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// The visitors' shop, through its pages (curl as the phone's browser): the availability the shop shows is what the
/// hub enforces (a hold takes a place at once), the rules are shown before payment, the test provider's payment
/// issues the e-tickets once (a second notification issues nothing), another park's gate admits the ticket, and a
/// payment after the hold expired issues nothing and is refunded.
@Suite struct ShopOrderTests {
    /// An account (signed up by phone with the code the SMS provider recorded) with one holder.
    static func visitor(_ hub: Hub, phone: String = "13800000001") async throws -> (account: String, session: String, holder: VisitorHolderRecord) {
        try await hub.sendVisitorCode(to: phone, purpose: "signup")
        let sms = try String(contentsOfFile: hub.directory.path + "/sms-outbox.jsonl", encoding: .utf8)
        let code = try #require(sms.components(separatedBy: CharacterSet.decimalDigits.inverted).last { $0.count == 6 })
        let (account, token) = try await hub.signUpVisitor(contact: phone, code: code, acceptTerms: true, acceptPrivacy: true, password: nil)
        let holder = try await hub.addVisitorHolder(account: account, HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X"))
        return (account, token, holder)
    }

    @Test func aVisitorBooksAHeldTicketPaysOnceAndAnotherParksGateAdmitsIt() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let hub = federation.hub
            _ = try await hub.importResellers(file: TestFederation.partnersDirectory + "/resellers.json")
            let (account, token, holder) = try await Self.visitor(hub)
            let cookie = "pf_visitor=\(token)"
            func get(_ path: String) async throws -> CurlResult { try await federation.curl(path, extra: ["-H", "cookie: \(cookie)"]) }
            func post(_ path: String, _ body: String) async throws -> CurlResult {
                try await federation.curl(
                    path, method: "POST",
                    extra: [
                        "-i", "-H", "cookie: \(cookie)", "-H", "content-type: application/x-www-form-urlencoded", "-H", "sec-fetch-site: same-origin",
                        "--data-raw", body,
                    ])
            }
            let today = hub.passes.calendar.day(of: Date())
            func vacancies() async throws -> Int? { try await hub.shopAvailability("JIANGNAN-3P", day: today, baseURL: federation.hubURL).first?.vacancies }

            let home = try await get("/shop")
            #expect(
                home.httpStatus == 200 && home.body.contains("data-product=\"JIANGNAN-3P\"") && !home.body.contains("data-product=\"LAKE-AND-MUSEUM-2026\""))
            let page = try await get("/shop/products/JIANGNAN-3P?lang=zh")
            #expect(page.httpStatus == 200 && page.body.contains("付款前请阅读") && page.body.contains("可转让"), "\(page.body.prefix(300))")
            // The places the page shows are the hub's (P003's 8,000 of the day, the fewest of the product's parks).
            let shown = try #require(page.body.components(separatedBy: "class=\"num vacancies\">").dropFirst().first?.prefix { $0.isNumber })
            #expect(Int(shown) == (try await vacancies()) && Int(shown) == 8_000)
            let availability = try #require(page.body.components(separatedBy: "data-availability=\"").dropFirst().first?.prefix { $0 != "\"" })
            let csrf = try ShopAccountTests.token(page.body)
            let booked = try await post(
                "/shop/orders",
                ShopAccountTests.form(["csrf": csrf, "product": "JIANGNAN-3P", "availability": String(availability), "unit": "full"])
                    + "&holder=\(holder.id)")
            #expect(booked.httpStatus == 303, "\(booked.body.prefix(400))")
            let location = try #require(booked.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location: ") }).dropFirst(10)
            let orderID = String(location.split(separator: "/").last!.split(separator: "?")[0])
            #expect(try await vacancies() == 7_999, "the hold takes its place at once, for every channel")
            // Someone else's order is not found for this visitor; a forged form changes nothing.
            #expect(try await federation.curl("/shop/orders/\(orderID)").httpStatus == 303, "signed out: to the sign-in page")
            #expect(try await post("/shop/orders", "csrf=forged&product=JIANGNAN-3P").httpStatus == 403)

            let order = try await get("/shop/orders/\(orderID)")
            #expect(order.body.contains("299.00") && order.body.contains("id=\"pay-test\"") && order.body.contains("id=\"rules\""), "\(order.body.prefix(400))")
            #expect(try await post("/shop/orders/\(orderID)/pay", "csrf=\(try ShopAccountTests.token(order.body))&provider=test").httpStatus == 303)
            let paid = try await get("/shop/orders/\(orderID)")
            #expect(try await get("/shop/account").body.contains("/shop/orders/\(orderID)"), "the order is in the account")
            let link = try #require(paid.body.components(separatedBy: "href=\"").dropFirst().first { $0.contains("/p/") }?.prefix { $0 != "\"" })
            #expect(!paid.body.contains("id=\"pay-test\""))
            // A second notification of the same payment issues nothing more.
            let stored = try #require(try await hub.store.shopOrder(orderID))
            #expect(stored.status == "issued")
            _ = try await hub.shopPaid(orderID, provider: "test", paymentID: "again", baseURL: federation.hubURL)
            let booking = try await hub.shopBooking(stored, baseURL: federation.hubURL)
            #expect(booking.status == "CONFIRMED" && booking.unitItems.count == 1)
            // The e-ticket's page, and another park's gate admits the pass.
            let ticketPage = try await federation.curl(String(link.dropFirst(federation.hubURL.count)))
            #expect(ticketPage.httpStatus == 200 && ticketPage.body.contains("张*三"), "\(ticketPage.body.prefix(300))")
            let passCode = try #require(booking.unitItems.first?.ticket?.deliveryOptions.first { $0.deliveryFormat == "QRCODE" }?.deliveryValue)
            #expect(try await agents[1].scan(GateScanRequest(code: passCode, gate: "G1")).decision == .allow)

            // Paid after its hold expired: nothing issued, the order is refunded, the place is free again.
            let late = try await hub.placeShopOrder(
                account: account, product: "JIANGNAN-3P", availabilityID: String(availability), category: "full", holders: [holder.id],
                baseURL: federation.hubURL)
            let after = Date().addingTimeInterval(16 * 60)
            let refunded = try await hub.shopPaid(late.id, provider: "test", paymentID: "late", baseURL: federation.hubURL, now: after)
            #expect(refunded.status == "refunded", "the test provider gave the money back")
            let given = try await hub.store.shopRefunds(order: late.id)
            #expect(
                given.count == 1 && given[0].amountMinor == 29_900 && given[0].providerRefundID?.hasPrefix("TR-") == true && given[0].reason == "late_payment")
            #expect(try await hub.shopBooking(refunded, baseURL: federation.hubURL, now: after).status != "CONFIRMED")
        }
    }

    /// A provider that refuses its first refund (unreachable), as a real one can be.
    final class RefusingFirstRefund: PaymentProvider, @unchecked Sendable {
        var name: String { "test" }
        private let lock = NSLock()
        private var refunds = 0
        func start(_ order: PaymentOrder, now: Date) async throws -> PaymentStart { .paid("T-flaky") }
        func query(_ orderID: String, now: Date) async throws -> PaymentNotice? { nil }
        func notification(headers: [String: String], body: Data, now: Date) throws -> PaymentNotice { throw PaymentError("unsupported", "none") }
        func refund(_ refund: PaymentRefund, now: Date) async throws -> String {
            let count = lock.withLock { () -> Int in
                refunds += 1
                return refunds
            }
            guard count > 1 else { throw PaymentError("unreachable", "the provider did not answer") }
            return "TR-second-try"
        }
    }

    @Test func aRefundTheProviderDidNotTakeIsSentAgainAfterItsBackoff() async throws {
        try await TestFederation.run { federation in
            let hub = federation.hub
            _ = try await hub.importResellers(file: TestFederation.partnersDirectory + "/resellers.json")
            hub.payments.use(RefusingFirstRefund())
            let (account, _, holder) = try await Self.visitor(hub)
            let today = hub.passes.calendar.day(of: Date())
            let slot = try #require(try await hub.shopAvailability("JIANGNAN-3P", day: today, baseURL: federation.hubURL).first?.id)
            let late = try await hub.placeShopOrder(
                account: account, product: "JIANGNAN-3P", availabilityID: slot, category: "full", holders: [holder.id], baseURL: federation.hubURL)
            let after = Date().addingTimeInterval(16 * 60)
            #expect(try await hub.shopPaid(late.id, provider: "test", paymentID: "late", baseURL: federation.hubURL, now: after).status == "refund_due")
            let waiting = try #require(try await hub.store.shopRefunds(order: late.id).first)
            #expect(waiting.status == .sending && waiting.attempts == 1 && waiting.lastError?.contains("unreachable") == true)
            // Not due again yet; due after the first backoff (30 s): sent, the order refunded.
            #expect(try await hub.retryShopRefunds(now: after.addingTimeInterval(10)) == 0)
            #expect(try await hub.retryShopRefunds(now: after.addingTimeInterval(31)) == 1)
            let sent = try #require(try await hub.store.shopRefunds(order: late.id).first)
            #expect(sent.status == .refunded && sent.providerRefundID == "TR-second-try" && sent.amountMinor == 29_900)
            #expect(try await hub.store.shopOrder(late.id)?.status == "refunded")
        }
    }
}
