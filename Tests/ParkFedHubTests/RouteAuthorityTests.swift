import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedTesting
import Testing

/// Authority in one place per area (#17): every hub route is registered with a stated ``RouteAuthority``, and the
/// check runs before the handler reads anything, so a principal of the wrong kind changes nothing whatever it sends.
@Suite struct RouteAuthorityTests {
    /// Walks the router itself: a route added without a stated rule (straight onto the router) fails here.
    @Test func everyRouteOfTheRouterHasAStatedAuthority() async throws {
        try await TestFederation.run { federation in
            let (router, rules) = HubServer.routes(hub: federation.hub)
            let registered = router.routes.map { "\($0.method) \($0.path)" }
            let stated = rules.map { "\($0.method) \($0.path)" }
            #expect(registered.count > 40)
            #expect(Set(registered).subtracting(stated).isEmpty, "routes without a stated authority: \(Set(registered).subtracting(stated).sorted())")
            #expect(Set(stated).subtracting(registered).isEmpty, "stated but not routed: \(Set(stated).subtracting(registered).sorted())")
            #expect(Set(stated).count == stated.count, "a route stated twice")
            // Only enrollment and the visitors' own pages (a pass, a card, the shop's account pages) go without a
            // certificate (the OCTO routes take an API key).
            let shop = [
                "GET /shop/account", "GET /shop/account/sign-in", "GET /shop/account/sign-up", "GET /shop/privacy", "GET /shop/terms",
                "POST /shop/account/code", "POST /shop/account/delete", "POST /shop/account/holders", "POST /shop/account/sign-in",
                "POST /shop/account/sign-out", "POST /shop/account/sign-up", "GET /shop", "GET /shop/products/{product}", "POST /shop/orders",
                "GET /shop/orders/{order}", "POST /shop/orders/{order}/pay", "POST /shop/orders/{order}/refunds",
            ].map { "\($0) (visitor session cookie)" }
            #expect(
                rules.filter { $0.authority.roles == nil }.map(\.description).sorted()
                    == ([
                        "GET /c/{card}/{counter}/{proof} (card's own cryptogram)", "GET /p/{token} (pass page token)",
                        "POST /v1/enrollments (enrollment token)", "POST /shop/payments/{provider}/notify (payment provider's signature)",
                    ] + shop).sorted())
        }
    }

    /// Every route, called by every kind of principal it does not name (and by no certificate at all), with a body
    /// that is not even JSON: each answers 401 or 403 `forbidden_for_principal` (not 400: the body was never read),
    /// and the hub's database is byte for byte what it was.
    @Test func aPrincipalOfTheWrongKindIsRefusedOnEveryRouteBeforeTheBodyIsRead() async throws {
        try await TestFederation.run { federation in
            let rules = HubServer.routes(hub: federation.hub).rules
            let certificates: [(Principal.Role, (certificate: String, key: String))] = await [
                (.park, try federation.issueCertificate(for: .park(try ParkID("P001")), name: "walk-park")),
                (.regulator, try federation.issueCertificate(for: .regulator("R01"), name: "walk-regulator")),
                (.clearing, try federation.issueCertificate(for: .clearing("C01"), name: "walk-clearing")),
            ]
            let before = try await federation.stateDump()
            var refused = 0
            for rule in rules {
                guard let roles = rule.authority.roles else { continue }
                // Path parameters become plausible values: the refusal must come before they are looked up.
                let path = rule.path.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "X1", options: .regularExpression)
                let body = rule.method == "POST" ? "{not json" : nil
                let anonymous = try await federation.curl(path, method: rule.method, body: body)
                #expect(anonymous.httpStatus == 401, "\(rule) without a certificate: \(anonymous.httpStatus) \(anonymous.body)")
                for (role, certificate) in certificates where !roles.contains(role) {
                    let answer = try await federation.curl(path, certificate: certificate, method: rule.method, body: body)
                    // The OCTO routes answer in OCTO's own error body.
                    let refusal = rule.path.hasPrefix("/octo/") ? #""error":"FORBIDDEN""# : "forbidden_for_principal"
                    #expect(
                        answer.httpStatus == 403 && answer.body.contains(refusal),
                        "\(rule) as \(role): \(answer.httpStatus) \(answer.body)")
                    refused += 1
                }
            }
            #expect(refused > 50)
            let after = try await federation.stateDump()
            #expect(after == before, "changed: \(Set(after).symmetricDifference(before).prefix(6))")
        }
    }

    /// The legitimate side: each kind of principal reaches the routes its authority names (a park its revenue, a
    /// regulator a traffic report, clearing staff the metrics).
    @Test func eachKindOfPrincipalReachesItsOwnRoutes() async throws {
        try await TestFederation.run { federation in
            let park = try await federation.issueCertificate(for: .park(try ParkID("P001")), name: "own-park")
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "own-regulator")
            let clearing = try await federation.issueCertificate(for: .clearing("C01"), name: "own-clearing")
            #expect(try await federation.curl("/v1/revenue", certificate: park).httpStatus == 200)
            #expect(try await federation.curl("/v1/regulator/traffic?from=2026-12-01&to=2026-12-01", certificate: regulator).httpStatus == 200)
            #expect(try await federation.curl("/metrics", certificate: clearing).httpStatus == 200)
            #expect(try await federation.curl("/v1/settlement/batches", certificate: park).httpStatus == 200)
            for certificate in [park, regulator, clearing] {
                #expect(try await federation.curl("/v1/whoami", certificate: certificate).httpStatus == 200)
            }
        }
    }
}
