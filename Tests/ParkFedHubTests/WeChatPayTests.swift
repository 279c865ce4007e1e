import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// The shop's payments through WeChat Pay API v3 against a local simulator that speaks the protocol (Python with the
/// `cryptography` package, an independent implementation): signed H5 orders, notifications verified and decrypted,
/// a forged one refused and changing nothing, a duplicate issuing nothing twice, a late one refunded through the
/// refund API, the query when the visitor is back first, and a visitor's refund requests decided by the rule (at
/// once, or from the seller's queue) with the money going back through the provider.
@Suite struct WeChatPayTests {
    @Test func signedOrdersVerifiedNotificationsAndRefundsThroughTheProvidersProtocol() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let hub = federation.hub
            _ = try await hub.importResellers(file: TestFederation.partnersDirectory + "/resellers.json")
            let simulator = try await WeChatPaySimulator.start(federation)
            let (account, token, holder) = try await ShopOrderTests.visitor(hub)
            let today = hub.passes.calendar.day(of: Date())
            func availability(_ day: CivilDay) async throws -> String {
                try #require(try await hub.shopAvailability("JIANGNAN-3P", day: day, baseURL: federation.hubURL).first?.id)
            }
            func order(_ day: CivilDay, now: Date = Date()) async throws -> ShopOrderRecord {
                try await hub.placeShopOrder(
                    account: account, product: "JIANGNAN-3P", availabilityID: try await availability(day), category: "full", holders: [holder.id],
                    baseURL: federation.hubURL, now: now)
            }
            func issuedPasses() async throws -> UInt64 { try await hub.store.logSize() }

            // Paying through the page: the hub creates a signed H5 order and sends the visitor to the provider's page.
            let first = try await order(today)
            let page = try await federation.curl("/shop/orders/\(first.id)", extra: ["-H", "cookie: pf_visitor=\(token)"])
            #expect(page.body.contains("id=\"pay-wechatpay\"") && page.body.contains("id=\"pay-test\""))
            let pay = try await federation.curl(
                "/shop/orders/\(first.id)/pay", method: "POST",
                extra: [
                    "-i", "-H", "cookie: pf_visitor=\(token)", "-H", "content-type: application/x-www-form-urlencoded", "-H", "sec-fetch-site: same-origin",
                    "--data-raw", "csrf=\(try ShopAccountTests.token(page.body))&provider=wechatpay",
                ])
            let location = try #require(pay.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location: ") }?.dropFirst(10))
            #expect(location.hasPrefix("https://127.0.0.1:\(simulator.port)/pay/checkmweb?prepay_id=wx") && location.contains("redirect_url="), "\(pay.body)")
            let state = try await simulator.state()
            let held = try #require((state["orders"] as? [String: [String: Any]])?[WeChatPaySimulator.trade(first.id)])
            #expect((held["amount"] as? [String: Any])?["total"] as? Int == 29_900 && (state["auth_failures"] as? [Any])?.isEmpty == true)

            // Paid at the provider, then notifications forged three ways: refused, nothing issued.
            _ = try await simulator.control("/control/pay", ["out_trade_no": WeChatPaySimulator.trade(first.id), "notify": false])
            let before = try await issuedPasses()
            for forge in ["signature", "key", "amount"] {
                let answer = try await simulator.control("/control/notify", ["out_trade_no": WeChatPaySimulator.trade(first.id), "forge": forge])
                #expect((answer["statuses"] as? [Int]).map { $0.allSatisfy { (400..<500).contains($0) } } == true, "\(forge): \(answer)")
            }
            let stillPending = try await hub.store.shopOrder(first.id)?.status
            let after = try await issuedPasses()
            #expect(stillPending == "pending" && after == before)
            #expect(federation.hub.metrics.exposition().contains("event=\"notification_refused\""))
            // The real notification, twice: both taken (204), the ticket issued once, the e-ticket sent by SMS.
            let twice = try await simulator.control("/control/notify", ["out_trade_no": WeChatPaySimulator.trade(first.id), "times": 2])
            #expect(twice["statuses"] as? [Int] == [204, 204], "\(twice)")
            let issued = try #require(try await hub.store.shopOrder(first.id))
            #expect(issued.status == "issued" && issued.provider == "wechatpay" && issued.paymentID?.hasPrefix("42000") == true)
            let booking = try await hub.shopBooking(issued, baseURL: federation.hubURL)
            #expect(booking.status == "CONFIRMED" && booking.unitItems.count == 1)
            let sms = try String(contentsOfFile: hub.directory.path + "/sms-outbox.jsonl", encoding: .utf8)
            let eTicket = try #require(booking.unitItems[0].visitorPageUrl)
            #expect(sms.contains("电子票") && sms.contains(String(eTicket.split(separator: "/").last ?? "-")), "\(sms.suffix(400))")
            // A gate of another park admits it; the visitor asks for a refund: partly used and still valid, the rule
            // gives back the unused parks' allocations at once, through the refund API.
            let code = try #require(booking.unitItems[0].ticket?.deliveryOptions.first { $0.deliveryFormat == "QRCODE" }?.deliveryValue)
            #expect(try await agents[1].scan(GateScanRequest(code: code, gate: "G1")).decision == .allow)
            let units = try #require(try await hub.store.booking(issued.bookingUUID)?.units)
            let partial = try await hub.requestShopRefund(account: account, order: first.id, pass: units[0].passID)
            let pass = try #require(try await hub.store.pass(units[0].passID))
            let allocation = try #require(hub.passes.product("JIANGNAN-3P")?.member(agents[1].park)?.allocationPerEntry)
            #expect(partial.status == .refunded && partial.reason == "partly_used" && partial.amountMinor == 29_900 - allocation, "\(partial)")
            #expect(pass.refundedMinor == 29_900 - allocation)
            let given = try await simulator.refunds(of: first.id)
            #expect(given.count == 1 && (given[0]["amount"] as? [String: Any])?["refund"] as? Int == Int(29_900 - allocation))
            #expect(given[0]["out_refund_no"] as? String == partial.id && partial.providerRefundID == given[0]["refund_id"] as? String)
            // Asking again answers the same refund; another visitor cannot ask for this order's tickets.
            #expect(try await hub.requestShopRefund(account: account, order: first.id, pass: units[0].passID).id == partial.id)
            let (stranger, _, _) = try await ShopOrderTests.visitor(hub, phone: "13800000002")
            await #expect(throws: Refusal.self) { try await hub.requestShopRefund(account: stranger, order: first.id, pass: units[0].passID) }
            #expect(try await simulator.refunds(of: first.id).count == 1)

            // Back from the provider before its notification: the order page asks the provider (query) and issues.
            let second = try await order(today.adding(days: 1))
            _ = try await hub.startShopPayment(second, provider: "wechatpay", returnURL: federation.hubURL, clientIP: "127.0.0.1", baseURL: federation.hubURL)
            _ = try await simulator.control("/control/pay", ["out_trade_no": WeChatPaySimulator.trade(second.id), "notify": false])
            let back = try await federation.curl("/shop/orders/\(second.id)", extra: ["-H", "cookie: pf_visitor=\(token)"])
            let secondStatus = try await hub.store.shopOrder(second.id)?.status
            #expect(back.body.contains("class=\"ticket\"") && secondStatus == "issued", "\(back.body.prefix(300))")
            // Unused, for tomorrow: refunded in full at once.
            let tomorrowPass = try #require(try await hub.store.booking(second.bookingUUID)?.units.first?.passID)
            let whole = try await hub.requestShopRefund(account: account, order: second.id, pass: tomorrowPass)
            #expect(whole.status == .refunded && whole.reason == "before_visit" && whole.amountMinor == 29_900)

            // Unused, for today (its day has begun): the seller's queue decides; a decline needs a note; approval
            // refunds the rule's amount through the provider.
            let third = try await order(today)
            _ = try await hub.startShopPayment(third, provider: "wechatpay", returnURL: federation.hubURL, clientIP: "127.0.0.1", baseURL: federation.hubURL)
            _ = try await simulator.control("/control/pay", ["out_trade_no": WeChatPaySimulator.trade(third.id)])
            let todayPass = try #require(try await hub.store.booking(third.bookingUUID)?.units.first?.passID)
            let queued = try await hub.requestShopRefund(account: account, order: third.id, pass: todayPass)
            let noneYet = try await simulator.refunds(of: third.id)
            #expect(queued.status == .review && queued.reason == "visit_started" && noneYet.isEmpty)
            await #expect(throws: Refusal.self) { try await hub.decideShopRefund(queued.id, approve: false, by: "operator:ops", note: " ") }
            let approved = try await hub.decideShopRefund(queued.id, approve: true, by: "operator:ops", note: nil)
            let thirdRefunds = try await simulator.refunds(of: third.id)
            #expect(approved.status == .refunded && approved.decidedBy == "operator:ops" && thirdRefunds.count == 1)
            await #expect(throws: Refusal.self) { try await hub.decideShopRefund(queued.id, approve: true, by: "operator:ops", note: nil) }

            // Paid after the hold expired: nothing issued, the whole amount refunded through the refund API, once.
            let late = try await order(today, now: Date().addingTimeInterval(-16 * 60))
            _ = try await hub.startShopPayment(
                late, provider: "wechatpay", returnURL: federation.hubURL, clientIP: "127.0.0.1", baseURL: federation.hubURL,
                now: Date().addingTimeInterval(-15.5 * 60))
            _ = try await simulator.control("/control/pay", ["out_trade_no": WeChatPaySimulator.trade(late.id)])
            _ = try await simulator.control("/control/notify", ["out_trade_no": WeChatPaySimulator.trade(late.id)])
            let lateState = try #require(try await hub.store.shopOrder(late.id))
            let lateRefunds = try await simulator.refunds(of: late.id)
            #expect(lateState.status == "refunded" && lateRefunds.count == 1 && (lateRefunds[0]["amount"] as? [String: Any])?["refund"] as? Int == 29_900)
            #expect(try await hub.shopBooking(lateState, baseURL: federation.hubURL).status != "CONFIRMED")
            // The simulator saw no request without a valid merchant signature.
            let failures = try await simulator.state()["auth_failures"] as? [Any]
            #expect(failures?.isEmpty == true, "\(failures ?? [])")
        }
    }
}
