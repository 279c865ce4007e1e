import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol

/// Members at a park: enrolled once for the federation through the hub (name, document and phone sealed to it),
/// recorded as `member.enrolled` / `member.linked` assertions of this park.
extension NodeAgent {
    /// `POST /v1/members` of the local API (window devices).
    public struct MemberEnrollment: Codable, Sendable {
        public var holder: HolderInput
        public var phone: String
        public var consentVersion: String
        public var localMemberNumber: String?
        /// An existing member's current code (from their app), to link `local_member_number` with them present.
        public var memberCode: String?

        public init(holder: HolderInput, phone: String, consentVersion: String, localMemberNumber: String? = nil, memberCode: String? = nil) {
            self.holder = holder
            self.phone = phone
            self.consentVersion = consentVersion
            self.localMemberNumber = localMemberNumber
            self.memberCode = memberCode
        }

        enum CodingKeys: String, CodingKey {
            case holder, phone
            case consentVersion = "consent_version"
            case localMemberNumber = "local_member_number"
            case memberCode = "member_code"
        }
    }

    public func enrollMember(_ enrollment: MemberEnrollment, now: Date = Date()) async throws -> MemberView {
        let document = try Self.holder(enrollment.holder)
        guard let hubKey = trustList.trustList?.holderSealKey else {
            throw Self.problem(.unavailable, "no_trust_list", "No trust list yet", "the hub's sealing key comes with the trust list")
        }
        let name = enrollment.holder.name.trimmingCharacters(in: .whitespaces)
        let plain = try StrictJSON.encoder.encode(
            MemberEnrollRequest.Sealed(
                name: name, idType: document.kind.rawValue, idNumber: document.number,
                phone: enrollment.phone))
        let request = MemberEnrollRequest(
            sealed: try HolderSealing.seal(plain, to: hubKey, purpose: MemberEnrollRequest.Sealed.purpose),
            consentVersion: enrollment.consentVersion, consentedAt: now,
            localMemberNumber: enrollment.localMemberNumber, memberCode: enrollment.memberCode)
        let view: MemberView
        do {
            view = try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.POST, "/v1/members", body: request, as: MemberView.self)
            }
        } catch {
            throw Self.changeProblem(error)
        }
        if !view.existing {
            let holder = try holderRef(document, name: name, nameMasked: Masking.name(name))
            try await record(
                .memberEnrolled(MemberEnrolled(memberID: view.memberID, holder: holder, consentVersion: enrollment.consentVersion, consentedAt: now)),
                now: now)
        }
        if let local = enrollment.localMemberNumber {
            // Linked by the hub in the enrollment itself: record this park's claim of it.
            try await record(.memberLinked(MemberLinked(memberID: view.memberID, localMemberNumber: local)), now: now)
        }
        return view
    }

    /// Links this park's member number to a member who is present (`code`: their current member code).
    /// The member's own data in clear, for the member at the window (the hub records the export).
    public func exportMember(_ memberID: String, _ request: MemberDataRequest) async throws -> MemberExport {
        do {
            return try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.POST, "/v1/members/\(memberID)/export", body: request, as: MemberExport.self)
            }
        } catch {
            throw Self.changeProblem(error)
        }
    }

    /// Erases the member's data at the hub at their request (confirmed); the hub records it in its log.
    public func eraseMember(_ memberID: String, _ request: MemberDataRequest) async throws -> MemberErasure {
        do {
            return try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.POST, "/v1/members/\(memberID)/erasure", body: request, as: MemberErasure.self)
            }
        } catch {
            throw Self.changeProblem(error)
        }
    }

    public func linkMember(_ memberID: String, localNumber: String, code: String, now: Date = Date()) async throws -> MemberView {
        let view: MemberView
        do {
            view = try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(
                    .POST, "/v1/members/\(memberID)/links", body: MemberLinkRequest(localMemberNumber: localNumber, code: code), as: MemberView.self)
            }
        } catch {
            throw Self.changeProblem(error)
        }
        try await record(.memberLinked(MemberLinked(memberID: memberID, localMemberNumber: localNumber)), now: now)
        return view
    }

    /// Recognises a member from the rolling code on their phone (online: the hub checks it and accepts it once).
    public func recognizeMember(code: String) async throws -> MemberView { try await recognizeMember(MemberRecognitionRequest(code: code)) }

    /// Recognises a member from their rolling code or their one-card (online).
    public func recognizeMember(_ request: MemberRecognitionRequest) async throws -> MemberView {
        do {
            return try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.POST, "/v1/members/recognitions", body: request, as: MemberView.self)
            }
        } catch {
            throw Self.changeProblem(error)
        }
    }

    /// A new code secret for a member who lost the phone; the member shows the document they enrolled with, sealed
    /// here to the hub, which compares it. The answer's `code_secret` goes to the member's new app.
    public func reissueMemberCode(_ memberID: String, holder: HolderInput) async throws -> MemberView {
        let document = try Self.holder(holder)
        // The same sealed holder a sale carries (nil only before the trust list brought the hub's sealing key).
        guard let sealed = try holderRef(document, name: holder.name.trimmingCharacters(in: .whitespaces), nameMasked: "").sealed else {
            throw Self.problem(.unavailable, "no_trust_list", "No trust list yet", "the hub's sealing key comes with the trust list")
        }
        let request = MemberCodeReissueRequest(sealed: sealed)
        do {
            return try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.POST, "/v1/members/\(memberID)/code", body: request, as: MemberView.self)
            }
        } catch {
            throw Self.changeProblem(error)
        }
    }
}
