import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// `POST /v1/assertions` over real mutual TLS: every rejection reason, duplicates, durability.
@Suite struct IngestTests {
    static func submit(_ agent: NodeAgent, _ compacts: [String]) async throws -> IngestResponse {
        try await agent.hub.json(.POST, "/v1/assertions", body: IngestRequest(assertions: compacts), as: IngestResponse.self)
    }

    static func sign(_ agent: NodeAgent, _ i: Int = 0, now: Date = Date(), id: String? = nil) throws -> String {
        try Assertions.sign(SampleAssertions.data(i), park: agent.park, key: agent.signingKey, now: now, id: id).1.compact
    }

    @Test func acceptedAssertionsGetLogIndexesAndRetriesAreDuplicates() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let batch = try (0..<10).map { try Self.sign(agent, $0) }
            let first = try await Self.submit(agent, batch)
            #expect(first.results.map(\.status) == Array(repeating: .accepted, count: 10))
            #expect(first.results.map(\.index) == (0..<10).map { UInt64($0) })
            #expect(first.treeSize == 10)
            // The same batch again: the same answers, nothing appended.
            let again = try await Self.submit(agent, batch)
            #expect(again.results.map(\.status) == Array(repeating: .duplicate, count: 10))
            #expect(again.results.map(\.index) == first.results.map(\.index))
            #expect(again.treeSize == 10)
            await #expect(try federation.hub.store.logSize() == 10)
        }
    }

    @Test func everyRejectionReasonIsReportedPerItem() async throws {
        try await TestFederation.run { federation in
            let p1 = try await federation.enroll("P001")
            federation.adopt(p1)
            let p2 = try await federation.enroll("P002")
            federation.adopt(p2)
            let good = try Self.sign(p1, 0)
            let parts = good.split(separator: ".").map(String.init)
            // A payload changed after signing.
            var payload = try JSONSerialization.jsonObject(with: Base64URL.decode(parts[1])!) as! [String: Any]
            var data = payload["data"] as! [String: Any]
            data["price_minor"] = 1
            payload["data"] = data
            let tampered = parts[0] + "." + Base64URL.encode(try JSONSerialization.data(withJSONObject: payload)) + "." + parts[2]
            // Signed by a key that is not on the trust list.
            let stranger = try Assertions.sign(SampleAssertions.data(1), park: p1.park, key: SigningKey()).1.compact
            // Signed by P2 (its own key, naming itself), sent over P1's connection.
            let fromP2 = try Self.sign(p2, 2)
            // Signed by P1's key but claiming to be P2's.
            let claimsP2 = try JWS.sign(
                payload: try Assertions.encoder.encode(AssertionPayload(id: UUIDv7.make(), park: p2.park, issuedAt: Date(), data: SampleAssertions.data(3))),
                kid: p1.signingKey.kid, type: AssertionType.passTransferred.jwsType, with: p1.signingKey
            ).compact
            // Schema violations: an unknown member, a wrong typ, a bad amount, a bad id.
            func signRaw(_ json: String, typ: String) throws -> String {
                try JWS.sign(payload: Data(json.utf8), kid: p1.signingKey.kid, type: typ, with: p1.signingKey).compact
            }
            let stamp = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            let extraMember = try signRaw(
                #"{"id":"\#(UUIDv7.make())","type":"member.linked","park":"P001","issued_at":"\#(stamp)","data":{"member_id":"M1","local_member_number":"L1","vip":true}}"#,
                typ: "parkfed-member.linked+jwt")
            let wrongTyp = try signRaw(
                #"{"id":"\#(UUIDv7.make())","type":"member.linked","park":"P001","issued_at":"\#(stamp)","data":{"member_id":"M1","local_member_number":"L1"}}"#,
                typ: "parkfed-card.spent+jwt")
            let badSum = try signRaw(
                #"{"id":"\#(UUIDv7.make())","type":"card.spent","park":"P001","issued_at":"\#(stamp)","data":{"card_id":"C1","request_id":"R1","amount_minor":100,"principal_minor":80,"bonus_minor":10,"currency":"CNY"}}"#,
                typ: "parkfed-card.spent+jwt")
            let badID = try signRaw(
                #"{"id":"not-a-uuid","type":"member.linked","park":"P001","issued_at":"\#(stamp)","data":{"member_id":"M1","local_member_number":"L1"}}"#,
                typ: "parkfed-member.linked+jwt")
            let future = try Self.sign(p1, 4, now: Date().addingTimeInterval(600))
            let ancient = try Self.sign(p1, 5, now: Date().addingTimeInterval(-8 * 86_400))
            let noneAlg = "eyJhbGciOiJub25lIn0." + parts[1] + "."
            let garbage = "this is not a jws"
            // The same id with different bytes.
            let id = UUIDv7.make()
            let original = try Self.sign(p1, 6, id: id)
            let conflicting = try Self.sign(p1, 7, id: id)

            let batch = [
                good, tampered, stranger, fromP2, claimsP2, extraMember, wrongTyp, badSum, badID, future, ancient, noneAlg, garbage, original, conflicting,
            ]
            let response = try await Self.submit(p1, batch)
            let reasons = response.results.map { $0.status == .rejected ? $0.reason! : $0.status.rawValue }
            #expect(
                reasons == [
                    "accepted", "bad_signature", "unknown_kid", "issuer_mismatch", "issuer_mismatch", "schema_violation", "schema_violation",
                    "schema_violation", "schema_violation", "clock_skew", "clock_skew", "unsupported_algorithm", "malformed_jws", "accepted", "id_conflict",
                ])
            #expect(response.results[5].detail?.contains("data.vip") == true, "\(response.results[5].detail ?? "")")
            #expect(response.treeSize == 2)
            // Resubmitting the conflicting one later is still a conflict, never an overwrite.
            let later = try await Self.submit(p1, [conflicting])
            #expect(later.results[0].reason == "id_conflict")
            await #expect(try federation.hub.store.logEntry(index: 1)?.jws == original)
        }
    }

    @Test func aLongerDelayWindowAcceptsStoreAndForwardedAssertions() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Offline", assertionMaxDelaySeconds: 7 * 86_400)) { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let response = try await Self.submit(
                agent,
                [
                    try Self.sign(agent, 1, now: Date().addingTimeInterval(-6 * 86_400)),
                    try Self.sign(agent, 2, now: Date().addingTimeInterval(-8 * 86_400)),
                    try Self.sign(agent, 3, now: Date().addingTimeInterval(600)),
                ])
            #expect(response.results.map { $0.reason ?? $0.status.rawValue } == ["accepted", "clock_skew", "clock_skew"])
        }
    }

    @Test func aRevokedParksKeyIsRefused() async throws {
        try await TestFederation.run { federation in
            let p1 = try await federation.enroll("P001")
            federation.adopt(p1)
            let p2 = try await federation.enroll("P002")
            federation.adopt(p2)
            let fromP2 = try Self.sign(p2, 1)
            _ = try await federation.hub.revoke(park: try ParkID("P002"))
            // P2 itself can no longer connect; its key is refused even if another channel carried the assertion.
            let response = try await Self.submit(p1, [fromP2])
            #expect(response.results[0].reason == "revoked_kid")
            await #expect(throws: NodeError.self) { _ = try await Self.submit(p2, [fromP2]) }
        }
    }

    @Test func onlyParksSubmitAndBatchesAreBounded() async throws {
        try await TestFederation.run { federation in
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "r")
            let reply = try await federation.curl("/v1/assertions", certificate: regulator, method: "POST", body: #"{"assertions":["x"]}"#)
            #expect(reply.httpStatus == 403)
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let credentials = (agent.directory.tlsCertificate, agent.directory.tlsKey)
            let empty = try await federation.curl("/v1/assertions", certificate: credentials, method: "POST", body: #"{"assertions":[]}"#)
            #expect(empty.json["code"] as? String == "invalid_batch")
            let tooMany = "{\"assertions\":[" + Array(repeating: "\"x\"", count: 1001).joined(separator: ",") + "]}"
            let big = try await federation.curl("/v1/assertions", certificate: credentials, method: "POST", body: tooMany)
            #expect(big.json["code"] as? String == "invalid_batch")
            let notJSON = try await federation.curl("/v1/assertions", certificate: credentials, method: "POST", body: "{")
            #expect(notJSON.json["code"] as? String == "invalid_body")
        }
    }

    @Test func acknowledgedAssertionsSurviveAHubRestart() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let batch = try (0..<25).map { try Self.sign(agent, $0) }
            let response = try await Self.submit(agent, batch)
            #expect(response.treeSize == 25)
            let root = federation.hub.log.snapshotRoot()
            // A fresh hub process on the same files rebuilds the same tree.
            let reopened = try await Hub(directory: federation.hub.directory)
            #expect(reopened.log.size == 25)
            #expect(reopened.log.snapshotRoot() == root)
            let checkpoint = try await Checkpoint.verify(note: try reopened.log.latestCheckpointNote(), key: federation.hub.signingKey.publicKey)
            #expect(checkpoint.size == 25 && checkpoint.rootHash == root)
        }
    }
}
