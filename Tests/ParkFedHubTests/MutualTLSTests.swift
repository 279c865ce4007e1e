import Crypto
import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedPKI
import ParkFedProtocol
import SwiftASN1
import ParkFedTesting
import Testing
import X509

/// Every endpoint but enrollment needs a client certificate the hub issued and still trusts.
@Suite struct MutualTLSTests {
    @Test func curlGetsWhoamiOverHTTP2WithTheParkCertificate() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let credentials = (agent.directory.tlsCertificate, agent.directory.tlsKey)
            let reply = try await federation.curl("/v1/whoami", certificate: credentials, http2: true)
            #expect(reply.httpStatus == 200)
            #expect(reply.httpVersion == "2")
            #expect(reply.body == #"{"principal":"park:P001"}"#)
            let http1 = try await federation.curl("/v1/whoami", certificate: credentials, http2: false)
            #expect(http1.httpVersion == "1.1")
            #expect(http1.json["principal"] as? String == "park:P001")
        }
    }

    @Test func theNodeAgentTalksToTheHubOverMutualTLS() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            #expect(try await agent.whoami().principal == "park:P001")
        }
    }

    @Test func noClientCertificateIsRefusedWithProblemDetails() async throws {
        try await TestFederation.run { federation in
            for path in ["/v1/whoami", "/v1/trust-list", "/healthz"] {
                let reply = try await federation.curl(path)
                #expect(reply.httpStatus == 401, "\(path)")
                #expect(reply.json["code"] as? String == "client_certificate_required")
            }
        }
    }

    @Test func aCertificateFromAnotherCAIsRefusedAtTheHandshake() async throws {
        try await TestFederation.run { federation in
            let otherCA = try FederationCA.create(federationName: "Rogue")
            let key = P256.Signing.PrivateKey()
            let certificate = try otherCA.issueClientCertificate(for: .park(try ParkID("P001")), publicKey: .init(key.publicKey))
            let certificatePath = federation.directory.file("rogue-cert.pem"), keyPath = federation.directory.file("rogue-key.pem")
            try SecretFile.writePublic(try certificate.pemString(), to: certificatePath)
            try SecretFile.write(key.pemRepresentation, to: keyPath)
            for http2 in [true, false] {
                let reply = try await federation.curl("/v1/whoami", certificate: (certificatePath, keyPath), http2: http2)
                #expect(reply.exitStatus != 0, "the handshake must fail: \(reply.body)")
                #expect(reply.httpStatus == 0)
            }
        }
    }

    @Test func anExpiredCertificateIsRefused() async throws {
        try await TestFederation.run { federation in
            let expired = try await federation.issueCertificate(
                for: .park(try ParkID("P001")), name: "expired", validity: 3600, notValidBefore: Date().addingTimeInterval(-10 * 86_400),
                now: Date().addingTimeInterval(-2 * 86_400))
            let reply = try await federation.curl("/v1/whoami", certificate: expired)
            #expect(reply.exitStatus != 0 || reply.httpStatus == 401, "\(reply.body)")
            #expect(reply.httpStatus != 200)
            // And the hub's own check refuses it too, should TLS ever let one through.
            let pem = try String(contentsOfFile: expired.certificate, encoding: .utf8)
            let der = try Certificate.parseChain(pem: pem)[0]
            var serializer = DER.Serializer()
            try serializer.serialize(der)
            await #expect {
                _ = try await federation.hub.authenticate(certificateDER: serializer.serializedBytes)
            } throws: { error in
                (error as? Refusal)?.code == "certificate_expired"
            }
        }
    }

    @Test func aRevokedParkIsRefusedOnItsNextRequestWithoutARestart() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let credentials = (agent.directory.tlsCertificate, agent.directory.tlsKey)
            #expect(try await federation.curl("/v1/whoami", certificate: credentials).httpStatus == 200)
            // Revoke through a second handle on the same data directory, as `parkfed hub revoke` does from another process.
            let operatorHub = try await Hub(directory: federation.hub.directory)
            await #expect(try operatorHub.revoke(park: try ParkID("P001")) == 1)
            let reply = try await federation.curl("/v1/whoami", certificate: credentials)
            #expect(reply.httpStatus == 403)
            #expect(reply.json["code"] as? String == "certificate_revoked")
            // The node agent's pooled connection is refused as well.
            await #expect(throws: (any Error).self) { _ = try await agent.whoami() }
            // A revoked park cannot enroll again with a new token.
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P001"), name: "again")
            let csr = try await EnrollmentTests.opensslCSR(in: federation.directory, name: "again", keyType: "p256", subject: "/CN=P001")
            let again = try await federation.curl("/v1/enrollments", method: "POST", body: EnrollmentTests.body(token: token, csr: csr))
            #expect(again.json["code"] as? String == "park_revoked")
        }
    }

    @Test func aCertificateTheHubDidNotRecordIsRefused() async throws {
        try await TestFederation.run { federation in
            // Signed by the right CA but never recorded by the hub (e.g. a stolen CA key, or a restored old database).
            let key = P256.Signing.PrivateKey()
            let certificate = try federation.hub.ca.issueClientCertificate(for: .park(try ParkID("P009")), publicKey: .init(key.publicKey))
            let certificatePath = federation.directory.file("unrecorded-cert.pem"), keyPath = federation.directory.file("unrecorded-key.pem")
            try SecretFile.writePublic(try certificate.pemString(), to: certificatePath)
            try SecretFile.write(key.pemRepresentation, to: keyPath)
            let reply = try await federation.curl("/v1/whoami", certificate: (certificatePath, keyPath))
            #expect(reply.httpStatus == 403)
            #expect(reply.json["code"] as? String == "unknown_certificate")
        }
    }

    @Test(arguments: ["regulator", "clearing"])
    func staffCertificatesCarryTheirPrincipal(role: String) async throws {
        try await TestFederation.run { federation in
            let principal = try Principal(parsing: "\(role):X01")
            let credentials = try await federation.issueCertificate(for: principal, name: role)
            let reply = try await federation.curl("/v1/whoami", certificate: credentials)
            #expect(reply.json["principal"] as? String == "\(role):X01")
            await #expect(try federation.hub.revoke(principal: principal) == 1)
            #expect(try await federation.curl("/v1/whoami", certificate: credentials).httpStatus == 403)
        }
    }

    @Test func unknownPathsGetProblemDetails() async throws {
        try await TestFederation.run { federation in
            let credentials = try await federation.issueCertificate(for: .regulator("R01"), name: "r")
            let reply = try await federation.curl("/v1/nothing-here", certificate: credentials)
            #expect(reply.httpStatus == 404)
            #expect(reply.json["code"] as? String == "not_found")
            let health = try await federation.curl("/readyz", certificate: credentials)
            #expect(health.json["status"] as? String == "ready")
        }
    }
}
