import Crypto
import Foundation
import ParkFedCrypto
import ParkFedPKI
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// The hub's front door (#17): renewal retires the old certificate, a revoked park comes back only with the
/// operator's re-admission token, hub.json is owner-only, CSV exports cannot carry spreadsheet formulas.
@Suite struct FrontDoorTests {
    @Test func renewalRetiresTheOldCertificate() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            // Keep a copy of the current certificate and key, as someone who copied the files would.
            let oldCert = federation.directory.file("old-cert.pem"), oldKey = federation.directory.file("old-key.pem")
            try FileManager.default.copyItem(atPath: agent.directory.tlsCertificate, toPath: oldCert)
            try FileManager.default.copyItem(atPath: agent.directory.tlsKey, toPath: oldKey)
            #expect(try await federation.curl("/v1/whoami", certificate: (oldCert, oldKey)).httpStatus == 200)
            await agent.maintain(now: agent.status().certificate.renewalDue.addingTimeInterval(60))
            #expect(try await agent.whoami().principal == "park:P001")
            let old = try await federation.curl("/v1/whoami", certificate: (oldCert, oldKey))
            #expect(old.httpStatus == 401 || old.httpStatus == 403, "\(old.httpStatus) \(old.body)")
            #expect(try await federation.curl("/v1/whoami", certificate: (agent.directory.tlsCertificate, agent.directory.tlsKey)).httpStatus == 200)
        }
    }

    @Test func aRevokedParkReturnsOnlyWithAReadmissionTokenAndNewKeys() async throws {
        try await TestFederation.run { federation in
            let first = try await federation.enroll("P009")
            let oldKid = first.signingKey.kid
            await first.shutdown()
            _ = try await federation.hub.revoke(park: try ParkID("P009"))
            // An ordinary token does not bring it back, and the failed enrollment writes nothing (the token stays unused).
            let before = try await federation.hub.store.certificates(of: .park(try ParkID("P009"))).count
            await #expect(throws: (any Error).self) {
                let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P009"), name: "Park P009")
                try await NodeEnrollment.enroll(
                    directory: NodeDirectory(federation.directory.file("again-P009")), hubURL: federation.hubURL,
                    park: try ParkID("P009"), token: token, caFile: federation.caFile)
            }
            await #expect(try federation.hub.store.certificates(of: .park(try ParkID("P009"))).count == before)
            // The operator's re-admission token does, with a new certificate and signing key; the old key stays revoked.
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P009"), name: "Park P009", readmit: true)
            let directory = NodeDirectory(federation.directory.file("readmitted-P009"))
            try await NodeEnrollment.enroll(directory: directory, hubURL: federation.hubURL, park: try ParkID("P009"), token: token, caFile: federation.caFile)
            let agent = try await NodeAgent(directory: directory)
            federation.adopt(agent)
            #expect(try await agent.whoami().principal == "park:P009")
            let keys = try await federation.hub.store.signingKeys().filter { $0.park.rawValue == "P009" }
            #expect(keys.count == 2 && keys.first { $0.kid == oldKid }?.revokedAt != nil && keys.contains { $0.kid != oldKid && $0.revokedAt == nil })
        }
    }

    /// Enrollment, the one route without a certificate, is limited per source address before the body is read;
    /// a refused or failed attempt writes nothing; a park enrolling from another address is not held up by it.
    @Test func enrollmentIsLimitedPerSourceAddressAndAFailedOneWritesNothing() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Front Door", enrollmentsPerMinute: 0.5, enrollmentBurst: 3)) { federation in
            func body(token: String, park: String) throws -> String {
                let csr = try SigningRequest.make(for: .park(try ParkID(park)), key: P256.Signing.PrivateKey())
                let request = EnrollmentRequest(
                    token: token, csr: csr, signingKey: Base64URL.encode(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation), park: park)
                return String(decoding: try StrictJSON.encoder.encode(request), as: UTF8.self)
            }
            let before = try await federation.stateDump()
            var statuses: [Int] = []
            for attempt in 0..<6 {
                let answer = try await federation.curl("/v1/enrollments", method: "POST", body: try body(token: "guess-\(attempt)", park: "P005"))
                statuses.append(answer.httpStatus)
                if answer.httpStatus == 429 { #expect(answer.body.contains("rate_limited")) }
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == 401 }, "\(statuses)")
            #expect(statuses.suffix(3).allSatisfy { $0 == 429 }, "\(statuses)")
            // Guessed tokens were decided on a read: nothing in the database changed.
            let after = try await federation.stateDump()
            #expect(after == before, "changed: \(Set(after).symmetricDifference(before).prefix(6))")
            // The real park, from another loopback address, enrolls with its token while 127.0.0.1 waits.
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P005"), name: "Park P005")
            let answer = try await federation.curl(
                "/v1/enrollments", method: "POST", body: try body(token: token, park: "P005"), extra: ["--interface", "127.0.0.2"])
            #expect(answer.httpStatus == 201, "\(answer.httpStatus) \(answer.body) \(answer.stderr)")
        }
    }

    @Test func hubJsonIsOwnerOnly() async throws {
        let directory = try TemporaryDirectory()
        let hub = try await HubDirectory.initialize(at: directory.file("hub"), configuration: HubConfiguration(federation: "Modes"))
        let mode = try FileManager.default.attributesOfItem(atPath: hub.configuration)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func csvCellsCannotCarryFormulasButNumbersStayNumbers() {
        #expect(CSVField.escape("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(CSVField.escape("+1+1") == "'+1+1" && CSVField.escape("@SUM(A1)") == "'@SUM(A1)" && CSVField.escape("-A1") == "'-A1")
        #expect(CSVField.escape("-135000") == "-135000" && CSVField.escape("P001") == "P001")
        #expect(CSVField.line(["a,b", "x"]) == "\"a,b\",x")
    }
}
