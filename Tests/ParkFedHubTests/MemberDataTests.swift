import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// A member's rights over their data, in person: an export in clear at any park where they show their current code,
/// and an erasure that leaves nothing of their identity at the hub (sealed fields, blind index, links, the sealed
/// holder inside the logged enrollment), recorded, with the log still verifying.
@Suite struct MemberDataTests {
    @Test func aPresentMemberExportsTheirDataAndHasItErasedAndTheLogStillVerifies() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let hub = federation.hub
            let enrolled = try await p1.enrollMember(
                NodeAgent.MemberEnrollment(
                    holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X"), phone: "13812345678",
                    consentVersion: "2026-01", localMemberNumber: "WL-0001"))
            try await p1.deliverOutbox()
            let id = enrolled.memberID
            let secret = SymmetricKey(data: try #require(enrolled.codeSecret.flatMap { Base64URL.decode($0) }))
            func code(minutesAgo: Double) -> String { MemberCode.make(memberID: id, secret: secret, at: Date().addingTimeInterval(-60 * minutesAgo)) }
            // P002 linked its number two minutes ago (each code works once; the member's next two are for the requests).
            let earlier = Date().addingTimeInterval(-120)
            _ = try await hub.linkMember(
                id, MemberLinkRequest(localMemberNumber: "GC-9", code: MemberCode.make(memberID: id, secret: secret, at: earlier)),
                peer: AuthenticatedPeer(principal: .park(p2.park), serial: "test", notAfter: .distantFuture), now: earlier)

            // Without the member present (a made-up code), nothing is exported.
            let absent = try await p2.hub.send(
                .POST, "/v1/members/\(id)/export",
                body: try StrictJSON.encoder.encode(MemberDataRequest(code: MemberCode.make(memberID: id, secret: SymmetricKey(size: .bits256), at: Date()))))
            #expect(absent.status == 400 || absent.status == 403, "\(absent.status)")
            // With them: their data in clear, with every park's link.
            let export = try await p2.hub.json(
                .POST, "/v1/members/\(id)/export", body: MemberDataRequest(code: code(minutesAgo: 1)), as: MemberExport.self)
            #expect(export.name == "张小三" && export.idNumber == "11010519491231002X" && export.phone == "13812345678" && export.consentVersion == "2026-01")
            #expect(export.links.map { "\($0.park) \($0.localNumber)" } == ["P001 WL-0001", "P002 GC-9"] && export.enrolledBy == "P001")

            let member = try #require(try await hub.store.member(id))
            let sealed = [member.idSealed, member.nameSealed, member.phoneSealed, member.idIndex]
            // An erasure must be confirmed; then it takes everything, in one signed statement.
            let unconfirmed = try await p2.hub.send(
                .POST, "/v1/members/\(id)/erasure", body: try StrictJSON.encoder.encode(MemberDataRequest(code: code(minutesAgo: 0))))
            #expect(unconfirmed.status == 400 && String(decoding: unconfirmed.body, as: UTF8.self).contains("confirm_required"))
            let fresh = code(minutesAgo: 0)
            let erased = try await p2.hub.json(
                .POST, "/v1/members/\(id)/erasure", body: MemberDataRequest(code: fresh, confirm: true), as: MemberErasure.self)
            #expect(erased.memberID == id && erased.redactedEntries == 1, "\(erased)")
            #expect(try await hub.store.member(id) == nil)
            #expect(try await p1.hub.send(.GET, "/v1/members/\(id)").status == 404)
            let dump = try await federation.databaseDump()
            for value in sealed { #expect(!dump.stdout.contains(value), "an erased member's sealed value is still in the database") }
            #expect(try await hub.store.memberRequests(id).map(\.action) == ["export", "erasure"])
            let statement = try RetentionStatement.verify(
                try JWS(compact: try #require(try await hub.store.logEntry(index: erased.statementIndex)).jws), hubKey: hub.signingKey.publicKey)
            #expect(statement.member == id && statement.redacted.count == 1 && statement.passes.isEmpty)
            let report = try await LogVerifier(hub: hub).verify()
            #expect(report.ok && report.redacted == 1, "\(report.problems)")
            // The same person enrolling again is a new member: nothing linked them to the erased one.
            let again = try await p1.enrollMember(
                NodeAgent.MemberEnrollment(
                    holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X"), phone: "13812345678",
                    consentVersion: "2026-01"))
            #expect(!again.existing && again.memberID != id)
        }
    }
}
