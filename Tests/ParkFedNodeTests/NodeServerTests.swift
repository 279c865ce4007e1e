import Foundation
import ParkFedNode
import ParkFedTesting
import Testing

@Suite struct NodeServerTests {
    @Test func theLocalAPIReportsHealthReadinessAndTheHubLink() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let server = try await federation.serve(agent)
            federation.adopt(server)
            let monitor = try await agent.addDevice(name: "prometheus", role: .monitor).token
            let console = try await agent.addDevice(name: "console", role: .operator).token
            func get(_ path: String, token: String? = nil) async throws -> (Int, [String: Any]) {
                let result = try await TestFederation.nodeCurl(server, path, token: token)
                let json = (try? JSONSerialization.jsonObject(with: Data(result.body.utf8))) as? [String: Any] ?? [:]
                return (result.httpStatus, json)
            }
            #expect(try await get("/healthz").0 == 200)
            // The upkeep loop fetches the trust list as the server starts; wait for it.
            try await waitUntil("the node ready") { try await get("/readyz").0 == 200 }
            let whoami = try await get("/v1/hub/whoami", token: console)
            #expect(whoami.1["principal"] as? String == "park:P001")
            let status = try await get("/v1/status", token: monitor)
            #expect(status.1["park"] as? String == "P001")
            #expect((status.1["hub"] as? [String: Any])?["reachable"] as? Bool == true)
            #expect((status.1["trust_list"] as? [String: Any])?["present"] as? Bool == true)
            // Every answer carries its request id, and the metrics count requests by route and status.
            let headers = try await TestFederation.nodeCurl(server, "/v1/no-such-thing", extra: ["-D", "-", "-o", "/dev/null"])
            #expect(headers.body.lowercased().contains("x-request-id: "), "\(headers.body)")
            let metrics = try await TestFederation.nodeCurl(server, "/metrics", token: monitor).body
            #expect(metrics.contains(#"parkfed_node_http_requests_total{park="P001",route="/v1/status",status="200"} 1"#), "\(metrics)")
            #expect(metrics.contains(#",status="404"} 1"#))
            #expect(metrics.contains("parkfed_node_outbox_pending") && metrics.contains("parkfed_node_trust_list_age_seconds"))
        }
    }

    @Test func anUnreachableHubIsReportedNotHidden() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            await federation.hubServer.stop()
            await #expect(throws: NodeError.self) { try await agent.refreshTrustList() }
            let status = await agent.status()
            #expect(status.hub.reachable == false)
            #expect(status.hub.lastError != nil)
            #expect(status.trustList.present == false)
        }
    }
}

@Suite struct NodeMetricsTests {
    @Test func theNodeExportsHubLinkTrustListAgeAndCertificateExpiry() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            try await agent.refreshTrustList()
            let server = try await federation.serve(agent)
            federation.adopt(server)
            let scrape = try await TestFederation.nodeCurl(server, "/metrics", token: try agent.addDevice(name: "prometheus", role: .monitor).token).body
            #expect(scrape.contains(#"parkfed_node_hub_reachable{park="P001"} 1"#), "\(scrape)")
            #expect(scrape.contains(#"parkfed_node_trust_list_present{park="P001"} 1"#))
            #expect(scrape.contains(#"parkfed_node_trust_list_stale{park="P001"} 0"#))
            #expect(scrape.contains("parkfed_node_certificate_expiry_seconds"))
        }
    }
}
