import Foundation
import ParkFedDomain
import ParkFedNode
import ParkFedPKI
import ParkFedTesting
import Testing
import X509

@Suite struct RenewalTests {
    @Test func theAgentRenewsAfterTwoThirdsOfTheLifetimeAndKeepsTalking() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let before = await agent.status().certificate
            let lifetime = before.notAfter.timeIntervalSince(before.renewalDue) * 3
            #expect(abs(lifetime - 90 * 86_400) < 300)
            // Before two thirds: no renewal.
            await agent.maintain(now: before.renewalDue.addingTimeInterval(-60))
            await #expect(agent.status().certificate.serial == before.serial)
            // After two thirds: a new certificate, a new key, the same principal.
            await agent.maintain(now: before.renewalDue.addingTimeInterval(60))
            let after = await agent.status().certificate
            #expect(after.serial != before.serial)
            let chain = try Certificate.parseChain(pem: try String(contentsOfFile: agent.directory.tlsCertificate, encoding: .utf8))
            #expect(chain[0].serialHex == after.serial)
            #expect(chain[0].federationPrincipal == .park(try ParkID("P001")))
            #expect(try await agent.whoami().principal == "park:P001")
            // curl with the new files agrees; the hub recorded both certificates.
            let reply = try await federation.curl("/v1/whoami", certificate: (agent.directory.tlsCertificate, agent.directory.tlsKey))
            #expect(reply.json["principal"] as? String == "park:P001")
            await #expect(try federation.hub.store.certificates(of: .park(try ParkID("P001"))).count == 2)
            // A restarted agent reads the renewed certificate.
            let restarted = try await NodeAgent(directory: agent.directory)
            federation.adopt(restarted)
            await #expect(restarted.status().certificate.serial == after.serial)
        }
    }

    @Test func aParkCannotRenewIntoAnotherPark() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let keyPath = federation.directory.file("other.key"), csrPath = federation.directory.file("other.csr")
            let made = try await ExternalTool.run(
                "openssl",
                [
                    "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-keyout", keyPath, "-subj", "/CN=P002", "-out", csrPath,
                ])
            #expect(made.succeeded)
            let body = #"{"csr":"# + String(data: try JSONEncoder().encode(try String(contentsOfFile: csrPath, encoding: .utf8)), encoding: .utf8)! + "}"
            let reply = try await federation.curl(
                "/v1/certificates/renewals", certificate: (agent.directory.tlsCertificate, agent.directory.tlsKey),
                method: "POST", body: body)
            #expect(reply.httpStatus == 403)
            #expect(reply.json["code"] as? String == "csr_names_other_principal")
        }
    }
}
