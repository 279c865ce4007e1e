import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

@Suite struct TrustListTests {
    @Test func theNodeAgentCachesAVerifiedListAndReportsItsAge() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            await #expect(agent.trustList.status().present == false)
            try await agent.refreshTrustList()
            let list = try #require(agent.trustList.trustList)
            #expect(list.parks.filter { $0.kind == nil }.map(\.park) == ["P001"])
            #expect(list.activeKey(kid: agent.signingKey.kid, at: Date())?.park == "P001")
            let status = await agent.trustList.status()
            #expect(status.present && !status.stale)
            #expect(status.sequence == list.sequence)
            // An hour later, without a refresh, the list is visibly stale (but still there).
            let later = await agent.trustList.status(now: Date().addingTimeInterval(3600))
            #expect(later.stale && later.present)
            #expect((later.ageSeconds ?? 0) >= 3599)
            // The cache survives a restart of the agent.
            let restarted = try await NodeAgent(directory: agent.directory)
            federation.adopt(restarted)
            #expect(restarted.trustList.trustList == list)
        }
    }

    @Test func theHubSignsANewSequenceOnlyWhenTheListChanges() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let credentials = (agent.directory.tlsCertificate, agent.directory.tlsKey)
            let first = try await federation.curl("/v1/trust-list", certificate: credentials, extra: ["-D", "-"])
            #expect(first.httpStatus == 200)
            #expect(first.body.lowercased().contains("etag: \"tl-1\""))
            #expect(first.body.lowercased().contains("content-type: application/jose"))
            let cached = try await federation.curl("/v1/trust-list", certificate: credentials, extra: ["-H", "If-None-Match: \"tl-1\""])
            #expect(cached.httpStatus == 304)
            let other = try await federation.enroll("P002")
            federation.adopt(other)
            let second = try await federation.curl("/v1/trust-list", certificate: credentials, extra: ["-H", "If-None-Match: \"tl-1\""])
            #expect(second.httpStatus == 200)
            let (list, jws) = try TrustList.verify(jws: second.body, hubKey: federation.hub.signingKey.publicKey)
            #expect(list.sequence == 2)
            #expect(list.parks.filter { $0.kind == nil }.map(\.park) == ["P001", "P002"])
            #expect(jws.header.kid == federation.hub.signingKey.kid)
            // A revocation is a change too: the park's keys are listed as revoked.
            _ = try await federation.hub.revoke(park: try ParkID("P002"))
            try await agent.refreshTrustList()
            let revoked = try #require(agent.trustList.trustList)
            #expect(revoked.sequence == 3)
            #expect(revoked.parks.first { $0.park == "P002" }?.status == "revoked")
            #expect(revoked.activeKey(kid: other.signingKey.kid, at: Date()) == nil)
        }
    }

    @Test func aListWithABadSignatureIsRefusedAndTheCacheKept() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            try await agent.refreshTrustList()
            let good = try #require(agent.trustList.trustList)
            // Signed by someone else's key, claiming a higher sequence.
            let rogue = SigningKey()
            var forgedList = good
            forgedList.sequence = 99
            let forged = try JWS.sign(
                payload: try StrictJSON.encoder.encode(forgedList), kid: federation.hub.signingKey.kid, type: TrustList.jwsType, with: rogue)
            await #expect(throws: NodeError.self) { try await agent.trustList.accept(jws: forged.compact, etag: nil) }
            // A changed payload under the hub's real signature.
            let parts = try await federation.hub.currentTrustList().jws.split(separator: ".").map(String.init)
            let tampered = parts[0] + "." + Base64URL.encode(try StrictJSON.encoder.encode(forgedList)) + "." + parts[2]
            await #expect(throws: NodeError.self) { try await agent.trustList.accept(jws: tampered, etag: nil) }
            #expect(agent.trustList.trustList == good)
        }
    }

    @Test func anOlderSequenceIsRefusedAsARollback() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let old = try await federation.hub.currentTrustList()
            let other = try await federation.enroll("P002")
            federation.adopt(other)
            try await agent.refreshTrustList()
            #expect(agent.trustList.trustList?.sequence == old.sequence + 1)
            do {
                try await agent.trustList.accept(jws: old.jws, etag: nil)
                Issue.record("an older trust list was accepted")
            } catch let error as NodeError {
                #expect(error.code == .trustListRejected)
                #expect(error.message.contains("older"))
            }
            #expect(agent.trustList.trustList?.sequence == old.sequence + 1)
        }
    }
}
