import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedTesting
import Testing

@Suite struct MetricsTests {
    @Test func theOpsListenerExportsPrometheusCountsOfEnrollmentsAndRefusals() async throws {
        try await TestFederation.run { federation in
            let ops = try await RunningServer.start(logger: federation.logger) { onRunning in
                HubServer.opsApplication(hub: federation.hub, host: "127.0.0.1", port: 0, logger: federation.logger, onServerRunning: onRunning)
            }
            federation.adopt(ops)
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            _ = try await federation.curl("/v1/whoami")  // refused: no certificate
            _ = try await federation.curl("/v1/whoami", certificate: (agent.directory.tlsCertificate, agent.directory.tlsKey))
            let scrape = try await ExternalTool.run("curl", ["-sS", "http://127.0.0.1:\(ops.port)/metrics"])
            #expect(scrape.succeeded)
            let text = scrape.stdout
            #expect(text.contains(#"parkfed_hub_enrollments_total{outcome="accepted"} 1"#), "\(text)")
            #expect(text.contains(#"parkfed_hub_http_requests_total{method="GET",route="/v1/whoami",status="200"} 1"#), "\(text)")
            #expect(text.contains(#"parkfed_hub_http_requests_total{method="GET",route="/v1/whoami",status="401"} 1"#), "\(text)")
            #expect(text.contains("parkfed_hub_http_request_duration_seconds_bucket"))
            let ready = try await ExternalTool.run("curl", ["-sS", "http://127.0.0.1:\(ops.port)/readyz"])
            #expect(ready.stdout.contains("\"ready\""))
        }
    }

    @Test func everyAnswerCarriesItsOwnRequestIDEvenARefusal() async throws {
        try await TestFederation.run { federation in
            var ids: Set<String> = []
            for _ in 0..<3 {
                let reply = try await federation.curl("/v1/whoami", extra: ["-D", "-"])
                #expect(reply.httpStatus == 401)
                let line = reply.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id:") }
                let id = try #require(line.map { String($0.dropFirst("x-request-id:".count)).trimmingCharacters(in: .whitespaces) })
                #expect(!id.isEmpty)
                ids.insert(id)
            }
            #expect(ids.count == 3)
        }
    }

    @Test func metricsOverMutualTLSAreForClearingStaffNotParks() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let park = try await federation.curl("/metrics", certificate: (agent.directory.tlsCertificate, agent.directory.tlsKey))
            #expect(park.httpStatus == 403)
            #expect(park.json["code"] as? String == "forbidden_for_principal")
            let clearing = try await federation.issueCertificate(for: .clearing("C01"), name: "c01")
            let scrape = try await federation.curl("/metrics", certificate: clearing)
            #expect(scrape.httpStatus == 200)
            #expect(scrape.body.contains("parkfed_hub_trust_list_sequence") || scrape.body.contains("parkfed_hub_http_requests_total"))
        }
    }

    @Test func refusedCertificatesAreCountedByReason() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            _ = try await federation.hub.revoke(park: try ParkID("P001"))
            _ = try await federation.curl("/v1/whoami", certificate: (agent.directory.tlsCertificate, agent.directory.tlsKey))
            #expect(federation.hub.metrics.exposition().contains(#"parkfed_hub_authentication_refusals_total{code="certificate_revoked"} 1"#))
        }
    }
}
