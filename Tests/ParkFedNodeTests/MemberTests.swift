import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// A member enrolls once for the federation, at any park; parks link their numbers and see masked forms only, and
/// only for members they enrolled or linked.
@Suite struct MemberTests {
    @Test func aMemberEnrollsOnceAndOnlyTheParksThatKnowThemSeeThemMasked() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let (p1, p2, p3) = (agents[0], agents[1], agents[2])
            let enrollment = NodeAgent.MemberEnrollment(
                holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X"),
                phone: "13812345678", consentVersion: "2026-01", localMemberNumber: "WL-0001")
            let first = try await p1.enrollMember(enrollment)
            #expect(!first.existing && first.memberID.hasPrefix("M-"))
            #expect(first.nameMasked == "张*三" && first.idNumberMasked == "1101**********002X" && first.phoneMasked == "138****5678")
            #expect(first.localNumbers == ["WL-0001"] && first.enrolledBy == "P001")
            // The same person at another park (document typed differently) is the same member.
            let again = try await p2.enrollMember(
                NodeAgent.MemberEnrollment(
                    holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "110105 19491231002x"), phone: "138 1234 5678", consentVersion: "2026-01")
            )
            #expect(again.existing && again.memberID == first.memberID)
            // An existing member's enrollment elsewhere never answers the code secret (that park could make the member's codes).
            #expect(again.codeSecret == nil && first.codeSecret != nil)
            let firstSecret = SymmetricKey(data: try #require(first.codeSecret.flatMap { Base64URL.decode($0) }))
            // P003 neither enrolled nor linked the member: it cannot see them, until it links its own number.
            let hidden = try await p3.hub.send(.GET, "/v1/members/\(first.memberID)")
            #expect(hidden.status == 404)
            // Linking needs the member present: without their current code (a made-up one) nothing is linked.
            await #expect(throws: Refusal.self) {
                try await p3.linkMember(
                    first.memberID, localNumber: "MUS-77",
                    code: MemberCode.make(memberID: first.memberID, secret: SymmetricKey(size: .bits256), at: Date()))
            }
            let linked = try await p3.linkMember(
                first.memberID, localNumber: "MUS-77", code: MemberCode.make(memberID: first.memberID, secret: firstSecret, at: Date()))
            #expect(linked.localNumbers == ["MUS-77"] && linked.idNumberMasked == "1101**********002X")
            // A local number already linked to someone else is refused; a bad document or phone is refused.
            let other = try await p1.enrollMember(
                NodeAgent.MemberEnrollment(
                    holder: HolderInput(name: "王五", idType: "resident_id", idNumber: "430102199003071234"),
                    phone: "13900000000", consentVersion: "2026-01"))
            let otherSecret = SymmetricKey(data: try #require(other.codeSecret.flatMap { Base64URL.decode($0) }))
            await #expect(throws: Refusal.self) {
                try await p3.linkMember(other.memberID, localNumber: "MUS-77", code: MemberCode.make(memberID: other.memberID, secret: otherSecret, at: Date()))
            }
            // A new member whose local number is taken: refused whole, before anything is written (the same document
            // enrolls afterwards as a new member, with its code secret).
            let taken = NodeAgent.MemberEnrollment(
                holder: HolderInput(name: "赵六", idType: "resident_id", idNumber: "110105195001010012"),
                phone: "13900000002", consentVersion: "2026-01", localMemberNumber: "MUS-77")
            await #expect(throws: Refusal.self) { try await p3.enrollMember(taken) }
            var untaken = taken
            untaken.localMemberNumber = "MUS-78"
            let fresh = try await p3.enrollMember(untaken)
            #expect(!fresh.existing && fresh.codeSecret != nil && fresh.localNumbers == ["MUS-78"])
            await #expect(throws: Refusal.self) {
                try await p1.enrollMember(
                    NodeAgent.MemberEnrollment(
                        holder: HolderInput(name: "李四", idType: "resident_id", idNumber: "110105194912310021"),
                        phone: "13900000001", consentVersion: "2026-01"))
            }
            await #expect(throws: Refusal.self) {
                try await p1.enrollMember(
                    NodeAgent.MemberEnrollment(
                        holder: HolderInput(name: "李四", idType: "passport", idNumber: "E7654321"),
                        phone: "call me", consentVersion: "2026-01"))
            }
            // The enrollment and the links are this park's signed assertions in the log.
            try await p1.deliverOutbox()
            try await p3.deliverOutbox()
            let (outbox1, outbox3) = (await p1.status().outbox, await p3.status().outbox)
            #expect(outbox1.accepted == 3 && outbox3.accepted == 3, "\(outbox3)")
            // Nothing personal is in clear in the hub's database.
            for file in [federation.hub.store.path, federation.hub.store.path + "-wal"] where FileManager.default.fileExists(atPath: file) {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                for secret in ["11010519491231002X", "13812345678", "张小三", "430102199003071234"] {
                    #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in clear in \(file)")
                }
            }
            let stored = try await #require(try federation.hub.store.member(first.memberID))
            #expect(try federation.hub.secrets.fields.open(stored.phoneSealed, purpose: "member.phone") == "13812345678")
        }
    }

    @Test func anotherParkRecognisesAMembersRollingCodeOnceWithinItsMinute() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let enrolled = try await agents[0].enrollMember(
                NodeAgent.MemberEnrollment(
                    holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X"), phone: "13812345678", consentVersion: "2026-01"))
            let secret = SymmetricKey(data: try #require(enrolled.codeSecret.flatMap { Base64URL.decode($0) }))
            // The member's app shows a fresh code; another park recognises the member, masked.
            let code = MemberCode.make(memberID: enrolled.memberID, secret: secret, at: Date())
            let seen = try await agents[1].recognizeMember(code: code)
            #expect(seen.memberID == enrolled.memberID && seen.nameMasked == "张*三" && seen.codeSecret == nil)
            // A screenshot of the same code is refused, as are a code two minutes old and a forged one.
            await #expect(throws: Refusal.self) { try await agents[1].recognizeMember(code: code) }
            let old = MemberCode.make(memberID: enrolled.memberID, secret: secret, at: Date().addingTimeInterval(-150))
            let stale = try await agents[1].hub.send(
                .POST, "/v1/members/recognitions", body: try StrictJSON.encoder.encode(MemberRecognitionRequest(code: old)))
            #expect(stale.status == 410)
            let forged = MemberCode.make(memberID: enrolled.memberID, secret: SymmetricKey(size: .bits256), at: Date())
            let refused = try await agents[1].hub.send(
                .POST, "/v1/members/recognitions", body: try StrictJSON.encoder.encode(MemberRecognitionRequest(code: forged)))
            #expect(refused.status == 400 && String(decoding: refused.body, as: UTF8.self).contains("invalid_code"))
        }
    }

    @Test func anotherParkRecognisesAMemberFromTheirCardButNotFromABlockedOrAnonymousOne() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let enrolled = try await agents[0].enrollMember(
                NodeAgent.MemberEnrollment(
                    holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X"), phone: "13812345678", consentVersion: "2026-01"))
            let secret = SymmetricKey(data: try #require(enrolled.codeSecret.flatMap { Base64URL.decode($0) }))
            // Binding a card needs the member present: no code, or another member's, binds nothing.
            await #expect(throws: NodeError.self) { try await agents[0].registerCard("IC-M1", kind: .ic, memberID: enrolled.memberID) }
            let card = try SimulatedCard(
                try await agents[0].registerCard(
                    "IC-M1", kind: .ic, memberID: enrolled.memberID,
                    memberCode: MemberCode.make(memberID: enrolled.memberID, secret: secret, at: Date())))
            let anonymous = try SimulatedCard(try await agents[0].registerCard("IC-ANON", kind: .wristband))
            // A card can only be registered to a member the hub knows.
            await #expect(throws: NodeError.self) {
                try await agents[0].registerCard("IC-X", kind: .ic, memberID: "M-NOBODY", memberCode: "M1.M-NOBODY.1.AAAAAAAAAAAAAAAAAAAAAA")
            }

            func identify(_ card: SimulatedCard, _ request: String) -> MemberRecognitionRequest {
                MemberRecognitionRequest(cardID: card.id, requestID: request, cardProof: card.proof(.identify, park: "P002", requestID: request))
            }
            let seen = try await agents[1].recognizeMember(identify(card, "ID-1"))
            #expect(seen.memberID == enrolled.memberID && seen.nameMasked == "张*三" && seen.idNumberMasked == "1101**********002X")
            // The same card works again with a fresh cryptogram (a card is not a one-time code); a card without a
            // member does not identify anyone.
            #expect(try await agents[1].recognizeMember(identify(card, "ID-2")).memberID == enrolled.memberID)
            func problem(_ body: String) async throws -> (Int, String) {
                let answer = try await agents[1].hub.send(.POST, "/v1/members/recognitions", body: Data(body.utf8))
                return (answer.status, String(decoding: answer.body, as: UTF8.self))
            }
            func problem(_ request: MemberRecognitionRequest) async throws -> (Int, String) {
                try await problem(String(decoding: try StrictJSON.encoder.encode(request), as: UTF8.self))
            }
            var (status, text) = try await problem(identify(anonymous, "ID-3"))
            #expect(status == 404 && text.contains("not_a_member_card"))
            // The card id alone (read off the card, or guessed) is not the card: refused.
            (status, text) = try await problem(#"{"card_id":"IC-M1"}"#)
            #expect(status == 400)
            (status, text) = try await problem(
                MemberRecognitionRequest(cardID: "IC-M1", requestID: "ID-4", cardProof: CardProof(counter: 50, cryptogram: "AAAAAAAAAAAAAAAAAAAAAA")))
            #expect(status == 403 && text.contains("card_not_present"))
            // A replayed cryptogram (recorded by a reader) is refused.
            let recorded = identify(card, "ID-5")
            _ = try await agents[1].recognizeMember(recorded)
            (status, text) = try await problem(recorded)
            #expect(status == 403 && text.contains("card_not_present"))
            (status, text) = try await problem(#"{"card_id":"IC-M1","code":"M1.x.1.aaaaaaaaaaaaaaaaaaaaaa"}"#)
            #expect(status == 400)
            // Once the member reports the card lost, it no longer identifies them.
            let blocked = try await agents[0].hub.send(.POST, "/v1/cards/IC-M1/block", body: try StrictJSON.encoder.encode(BlockCardRequest(reason: "lost")))
            #expect(blocked.status == 200)
            (status, text) = try await problem(identify(card, "ID-6"))
            #expect(status == 409 && text.contains("card_blocked"))
        }
    }

    @Test func aLostPhoneGetsANewMemberCodeOnTheEnrolledDocumentAndOldCodesStopWorking() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
            let enrolled = try await agents[0].enrollMember(NodeAgent.MemberEnrollment(holder: holder, phone: "13812345678", consentVersion: "2026-01"))
            let oldSecret = SymmetricKey(data: try #require(enrolled.codeSecret.flatMap { Base64URL.decode($0) }))
            #expect(
                try await agents[1].recognizeMember(code: MemberCode.make(memberID: enrolled.memberID, secret: oldSecret, at: Date())).memberID
                    == enrolled.memberID)
            // Another person's document gets nothing; a park that does not know the member gets 404.
            await #expect(throws: Refusal.self) {
                try await agents[0].reissueMemberCode(
                    enrolled.memberID, holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "430102199003071234"))
            }
            await #expect(throws: Refusal.self) { try await agents[1].reissueMemberCode(enrolled.memberID, holder: holder) }
            let reissued = try await agents[0].reissueMemberCode(enrolled.memberID, holder: holder)
            let newSecret = SymmetricKey(data: try #require(reissued.codeSecret.flatMap { Base64URL.decode($0) }))
            // A fresh code made with the old secret (the lost phone) is refused; the new phone's code works.
            let stale = try await agents[1].hub.send(
                .POST, "/v1/members/recognitions",
                body: try StrictJSON.encoder.encode(
                    MemberRecognitionRequest(code: MemberCode.make(memberID: enrolled.memberID, secret: oldSecret, at: Date()))))
            #expect(stale.status == 400 && String(decoding: stale.body, as: UTF8.self).contains("invalid_code"))
            #expect(
                try await agents[1].recognizeMember(code: MemberCode.make(memberID: enrolled.memberID, secret: newSecret, at: Date())).memberID
                    == enrolled.memberID)
        }
    }
}
