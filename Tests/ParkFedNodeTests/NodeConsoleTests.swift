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
            let page = try await TestFederation.nodeCurl(server, "/console/manager", extra: ["-H", "cookie: \(cookie)"])
            #expect(page.httpStatus == 200 && page.body.contains("id=\"mode-evacuation\""), "\(page.body.prefix(300))")
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
            #expect(try await TestFederation.nodeCurl(server, "/console/window", extra: ["-H", "cookie: \(windowCookie)"]).httpStatus == 200)
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
