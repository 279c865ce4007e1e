import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol

/// The demo's visitor buys for themselves at the federation's shop: signs up by phone with the code the SMS
/// provider recorded, enters a holder once, books today's combo pass (held while paying), pays with the built-in test
/// provider, gets the e-ticket by SMS, and another park's gate admits it. The shop's seller of record (PFSHOP) then
/// owes that park its allocation in tonight's netting.
extension DemoCommand {
    static func playShop(hub: Hub, hubURL: String, agents: [(ParkManifest, NodeAgent)]) async throws {
        let phone = "13900000008"
        try await hub.sendVisitorCode(to: phone, purpose: "signup")
        let outbox = (hub.directory.path as NSString).appendingPathComponent("sms-outbox.jsonl")
        let sent = try String(contentsOfFile: outbox, encoding: .utf8)
        guard let code = sent.components(separatedBy: CharacterSet.decimalDigits.inverted).last(where: { $0.count == 6 }) else {
            throw DemoError("no code in \(outbox)")
        }
        let (account, _) = try await hub.signUpVisitor(contact: phone, code: code, acceptTerms: true, acceptPrivacy: true, password: nil)
        let holder = try await hub.addVisitorHolder(account: account, HolderInput(name: "吴六", idType: "resident_id", idNumber: "330106199203150027"))
        let today = hub.passes.calendar.day(of: Date())
        guard let slot = try await hub.shopAvailability("JIANGNAN-3P", day: today, baseURL: hubURL).first(where: \.available) else {
            throw DemoError("the shop shows no availability today")
        }
        let order = try await hub.placeShopOrder(
            account: account, product: "JIANGNAN-3P", availabilityID: slot.id, category: "full", holders: [holder.id], baseURL: hubURL)
        _ = try await hub.startShopPayment(
            order, provider: "test", returnURL: hubURL + "/shop/orders/\(order.id)", clientIP: "127.0.0.1", baseURL: hubURL)
        guard let issued = try await hub.store.shopOrder(order.id), issued.status == "issued" else { throw DemoError("the shop order was not issued") }
        let booking = try await hub.shopBooking(issued, baseURL: hubURL)
        guard let unit = booking.unitItems.first, let page = unit.visitorPageUrl,
            let ticket = unit.ticket?.deliveryOptions.first(where: { $0.deliveryFormat == "QRCODE" })?.deliveryValue
        else { throw DemoError("the shop order has no e-ticket") }
        let gate = agents[min(1, agents.count - 1)]
        let decision = try await gate.1.scan(GateScanRequest(code: ticket, gate: "G-SHOP"))
        try await gate.1.deliverOutbox()
        print(
            "      visitor \(Masking.phone(phone)) signed up by SMS code, booked \(order.product) for \(today), paid \(Money(minorUnits: order.amountMinor)) (test provider), order \(order.id) \(issued.status)"
        )
        print("      e-ticket sent by SMS: \(page)")
        print("      admitted at \(gate.0.id) gate G-SHOP: \(decision.decision.rawValue) (\(decision.reason ?? "entries left \(decision.entriesLeft ?? 0)"))")
    }
}
