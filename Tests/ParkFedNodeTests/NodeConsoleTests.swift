import Foundation
import ParkFedDomain
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// The node console over the park network with `curl`: sign-in once with the device credential, then a session
/// cookie (HttpOnly, Secure, SameSite=Strict) that a revoked device loses at once; forms need the session's token;
/// a device sees only its role's pages.
@Suite struct NodeConsoleTests {
    @Test func aDeviceSignsInOnceKeepsASessionAndLosesItWhenRevoked() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            try await agent.refreshProducts()
            let server = try await federation.serve(agent)
            let manager = try await agent.addDevice(name: "duty-manager", role: .operator)
            let window = try await agent.addDevice(name: "window-1", role: .window).token
            func signIn(_ credential: String) async throws -> CurlResult {
                try await TestFederation.nodeCurl(
                    server, "/console/sign-in", method: "POST",
                    extra: ["-i", "-H", "content-type: application/x-www-form-urlencoded", "--data-raw", "credential=\(credential)"])
            }
            let wrong = try await signIn("pfd_guessed")
            #expect(wrong.httpStatus == 401 && wrong.body.contains("id=\"error-title\">401"), "\(wrong.body.prefix(300))")
            let signed = try await signIn(manager.token)
            #expect(signed.httpStatus == 303, "\(signed.body.prefix(300))")
            let cookieLine = try #require(signed.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: pf_node_session=") })
            #expect(cookieLine.contains("HttpOnly") && cookieLine.contains("Secure") && cookieLine.contains("SameSite=Strict"))
            let cookie = String(cookieLine.dropFirst("set-cookie: ".count).split(separator: ";")[0])
            let batch = try await agent.orderStock(StockOrder(product: "JIANGNAN-3P", count: 3))
            let page = try await TestFederation.nodeCurl(server, "/console/manager", extra: ["-H", "cookie: \(cookie)"])
            #expect(page.httpStatus == 200 && page.body.contains("id=\"mode-evacuation\"") && page.body.contains("id=\"rejected\""), "\(page.body.prefix(300))")
            #expect(page.body.contains(batch.batch))
            let printerFile = try await TestFederation.nodeCurl(server, "/console/stock/\(batch.batch)/codes.csv", extra: ["-H", "cookie: \(cookie)"])
            #expect(printerFile.httpStatus == 200 && printerFile.body == batch.csv, "\(printerFile.body.prefix(200))")
            // A form without the session's token changes nothing.
            let forged = try await TestFederation.nodeCurl(
                server, "/console/mode", method: "POST",
                extra: ["-H", "cookie: \(cookie)", "-H", "content-type: application/x-www-form-urlencoded", "--data-raw", "mode=evacuation&reason=x&csrf=no"])
            #expect(forged.httpStatus == 403 && forged.body.contains("invalid_form_token"))
            #expect(await agent.status().mode == .normal)
            // A window device may sell, not run the park.
            let windowCookie = try #require(
                try await signIn(window).body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: pf_node_session=") }
            ).dropFirst("set-cookie: ".count).split(separator: ";")[0]
            let refused = try await TestFederation.nodeCurl(server, "/console/manager", extra: ["-H", "cookie: \(windowCookie)"])
            #expect(refused.httpStatus == 403 && refused.body.contains("forbidden_for_device"))
            let windowPage = try await TestFederation.nodeCurl(server, "/console/window", extra: ["-H", "cookie: \(windowCookie)"])
            #expect(windowPage.httpStatus == 200)
            // The window sells, then transfers the pass from its page: the new holder's code replaces the old one.
            func token(_ page: CurlResult) throws -> String { try #require(page.body.firstMatch(of: /name="csrf" value="([^"]+)"/)?.1).description }
            func post(_ path: String, _ form: String) async throws -> CurlResult {
                try await TestFederation.nodeCurl(
                    server, path, method: "POST",
                    extra: ["-i", "-H", "cookie: \(windowCookie)", "-H", "content-type: application/x-www-form-urlencoded", "--data-raw", form])
            }
            let sale = try await post(
                "/console/window/sales",
                "csrf=\(try token(windowPage))&product=JIANGNAN-3P&heads=1&holder_name=%E5%BC%A0%E4%B8%89&id_type=resident_id&id_number=11010519491231002X")
            let ticketPath = try #require(sale.body.firstMatch(of: /location: (\/console\/window\/passes\/[^\r\n]+)/.ignoresCase())?.1).description
            let ticket = try await TestFederation.nodeCurl(server, ticketPath, extra: ["-H", "cookie: \(windowCookie)"])
            #expect(ticket.body.contains("data:image/png;base64,") && ticket.body.contains("张*"), "\(ticket.body.prefix(300))")
            let passID = String(ticketPath.split(separator: "/").last!)
            let before = try #require(try await agent.store.soldPass(passID)).code
            let moved = try await post(
                ticketPath + "/transfer", "csrf=\(try token(ticket))&holder_name=Li+Si&id_type=passport&id_number=E12345678&resale_minor=16000")
            #expect(moved.httpStatus == 303, "\(moved.body.prefix(400))")
            let transferred = try #require(try await agent.store.soldPass(passID))
            #expect(transferred.code != before && transferred.holderMasked.hasPrefix("L"), "\(transferred)")
            // The park's only operator device cannot revoke itself from the console (it would lock the park out).
            let devicesPage = try await TestFederation.nodeCurl(server, "/console/devices", extra: ["-H", "cookie: \(cookie)"])
            let lockout = try await TestFederation.nodeCurl(
                server, "/console/devices/\(manager.id)/revoke", method: "POST",
                extra: [
                    "-H", "cookie: \(cookie)", "-H", "content-type: application/x-www-form-urlencoded", "--data-raw",
                    "csrf=\(try token(devicesPage))&confirm=yes",
                ])
            #expect(lockout.httpStatus == 409 && lockout.body.contains("last_operator_device"), "\(lockout.body.prefix(300))")
            #expect(try await agent.store.devices().first { $0.id == manager.id }?.revoked == false)
            // Revoked: the session ends on its next request.
            _ = try await agent.store.revokeDevice(manager.id, now: Date())
            let after = try await TestFederation.nodeCurl(server, "/console/manager", extra: ["-H", "cookie: \(cookie)"])
            #expect(after.httpStatus == 401, "\(after.httpStatus)")
        }
    }
}

extension NodeConsoleTests {
    /// Signs a device in; the session cookie (`name=value`).
    static func sessionCookie(_ server: RunningServer, _ credential: String) async throws -> String {
        let signed = try await TestFederation.nodeCurl(
            server, "/console/sign-in", method: "POST",
            extra: ["-i", "-H", "content-type: application/x-www-form-urlencoded", "--data-raw", "credential=\(credential)"])
        let line = try #require(signed.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: pf_node_session=") })
        return String(line.dropFirst("set-cookie: ".count).split(separator: ";")[0])
    }

    @Test func theDutyManagerSeesWhatWaitsWhatTheHubFoundAndTheMoney() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let (p1, p2, p3) = (agents[0], agents[1], agents[2])
            let any2 = try await PassTests.sell(p1, "ANY2-OF-3")
            try await p1.deliverOutbox()
            #expect(try await PassTests.scan(p1, any2.code).decision == .allow)
            #expect(try await PassTests.scan(p2, any2.code).decision == .allow)
            let server1 = try await federation.serve(p1)
            let server3 = try await federation.serve(p3)
            let manager1 = try await Self.sessionCookie(server1, try await p1.addDevice(name: "manager-1", role: .operator).token)
            let manager3 = try await Self.sessionCookie(server3, try await p3.addDevice(name: "manager-3", role: .operator).token)

            // The hub is down: P003's gate admits offline; the entry waits in the outbox, and what only the hub knows
            // is said to be unavailable (the page itself still answers).
            await federation.stopHub()
            let offline = try await PassTests.scan(p3, any2.code)
            #expect(offline.decision == .allow && offline.mode == .offline)
            let waiting = try await TestFederation.nodeCurl(server3, "/console/manager", extra: ["-H", "cookie: \(manager3)"])
            #expect(waiting.httpStatus == 200 && waiting.body.contains("id=\"money-unavailable\""), "\(waiting.body.prefix(300))")
            let pendingTable = try #require(waiting.body.firstMatch(of: /<table id="pending">(.*?)<\/table>/.dotMatchesNewlines())?.1)
            #expect(pendingTable.contains(AssertionType.passRedeemed.rawValue), "\(pendingTable)")

            // Back: the entry is delivered, and the hub reports it as a conflict on both parks' pages.
            try await federation.startHub()
            try await p3.deliverOutbox()
            let after = try await TestFederation.nodeCurl(server3, "/console/manager", extra: ["-H", "cookie: \(manager3)"])
            let conflicts = try #require(after.body.firstMatch(of: /<table id="conflicts">(.*?)<\/table>/.dotMatchesNewlines())?.1)
            #expect(conflicts.contains(any2.passID) && conflicts.contains("already_used"), "\(conflicts)")
            let pendingAfter = try #require(after.body.firstMatch(of: /<table id="pending">.*?<tbody>(.*?)<\/tbody>/.dotMatchesNewlines())?.1)
            #expect(!pendingAfter.contains(AssertionType.passRedeemed.rawValue) && pendingAfter.contains("None."), "\(pendingAfter)")
            // The selling park's money: today's sale, and what it owes P002 for the entry there (not P003's conflict).
            let issuer = try await TestFederation.nodeCurl(server1, "/console/manager", extra: ["-H", "cookie: \(manager1)"])
            #expect(issuer.body.contains(any2.passID), "the issuer sees the conflict of its pass")
            let sales = try #require(issuer.body.firstMatch(of: /id="sales-today">([^<]*)</)?.1)
            #expect(sales.contains("(1 "), "\(sales)")
            let positions = try #require(issuer.body.firstMatch(of: /<table id="open-positions">(.*?)<\/table>/.dotMatchesNewlines())?.1)
            #expect(positions.contains("pass entries") && positions.contains("Owed by us"), "\(positions)")
            #expect(!positions.contains("Owed to us"), "\(positions)")
        }
    }
}

@Suite struct NodeConsoleTextTests {
    @Test func everyKeyHasAnEnglishAndAChineseText() {
        #expect(NodeConsoleTextCheck.missingKeys.isEmpty, "\(NodeConsoleTextCheck.missingKeys.sorted())")
    }
}
