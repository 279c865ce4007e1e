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
            // Revoked: the session ends on its next request.
            _ = try await agent.store.revokeDevice(manager.id, now: Date())
            let after = try await TestFederation.nodeCurl(server, "/console/manager", extra: ["-H", "cookie: \(cookie)"])
            #expect(after.httpStatus == 401, "\(after.httpStatus)")
        }
    }
}

@Suite struct NodeConsoleTextTests {
    @Test func everyKeyHasAnEnglishAndAChineseText() {
        #expect(NodeConsoleTextCheck.missingKeys.isEmpty, "\(NodeConsoleTextCheck.missingKeys.sorted())")
    }
}
