import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// Shared member identity: a member enrolls once, at any park, and gets a federation member id; parks link their
/// local numbers. The hub keeps name, document and phone encrypted (field key ring) with a blind index of the
/// document, so a second enrollment of the same document finds the same member; parks see masked forms only, and only
/// for members they enrolled or linked.
extension Hub {
    public func enrollMember(_ request: MemberEnrollRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> MemberView {
        let park = try Self.park(of: peer)
        do { try Check.identifier(request.consentVersion, "consent_version") } catch {
            throw Refusal(.invalid, code: "invalid_body", title: "Invalid consent version", detail: error.message)
        }
        guard request.consentedAt <= now.addingTimeInterval(TimeInterval(configuration.assertionSkewSeconds)) else {
            throw Refusal(.invalid, code: "invalid_body", title: "Consent in the future")
        }
        let data: MemberEnrollRequest.Sealed
        do {
            let plain = try HolderSealing.open(request.sealed, with: secrets.holderKey, purpose: MemberEnrollRequest.Sealed.purpose)
            data = try StrictJSON.decode(MemberEnrollRequest.Sealed.self, from: plain)
        } catch {
            throw Refusal(
                .invalid, code: "unreadable_sealed_data", title: "The sealed member data cannot be opened",
                detail: "seal name, document and phone to the hub's holder_seal_key (trust list)")
        }
        let name = data.name.trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(name.count) else { throw Refusal(.invalid, code: "invalid_holder", title: "The name is 1-64 characters") }
        guard let kind = IdentityDocument.Kind(rawValue: data.idType) else {
            throw Refusal(.invalid, code: "invalid_document", title: "Unknown document type")
        }
        let document: IdentityDocument
        do { document = try IdentityDocument(kind: kind, number: data.idNumber) } catch {
            throw Refusal(.invalid, code: "invalid_document", title: "Invalid document number", detail: error.message)
        }
        let phone = data.phone.filter { $0 != " " && $0 != "-" }
        guard (6...20).contains(phone.count), phone.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "+") }) else {
            throw Refusal(.invalid, code: "invalid_phone", title: "Invalid phone number", detail: "6-20 digits, optionally with +")
        }
        let fields = secrets.fields
        let record = MemberRecord(
            id: "M-" + UUIDv7.make(now: now), idType: kind.rawValue, idIndex: PassRules.documentIndex(fields, kind: kind, number: document.number),
            idSealed: try fields.seal(document.number, purpose: "member.id_number"), nameSealed: try fields.seal(name, purpose: "member.name"),
            phoneSealed: try fields.seal(phone, purpose: "member.phone"), idMasked: document.maskedNumber, nameMasked: Masking.name(name),
            phoneMasked: Masking.phone(phone), consentVersion: request.consentVersion, consentedAt: request.consentedAt, enrolledBy: park.rawValue)
        if let local = request.localMemberNumber { try Self.checkIdentifier(local, "local_member_number") }
        // A new member is at this window: linked with the enrollment, in one transaction, or neither is written.
        let (member, existing): (MemberRecord, Bool)
        do { (member, existing) = try await store.enrollMember(record, linking: request.localMemberNumber, now: now) } catch let error as StoreError
            where error.code == .memberConflict
        {
            throw Refusal(.conflict, code: error.code.rawValue, title: "Link refused", detail: error.message)
        }
        if existing, let local = request.localMemberNumber {
            // An existing member shows their current code to be linked.
            guard let code = request.memberCode else {
                throw Refusal(
                    .conflict, code: "member_code_required", title: "The member's code is needed",
                    detail: "an existing member links a local number by showing their current code (member_code)")
            }
            _ = try await presentMember(code: code, park: park, now: now, expecting: member.id)
            try await link(member.id, park: park, localNumber: local, now: now)
        }
        logger.info("member enrolled", metadata: ["member": "\(member.id)", "park": "\(park)", "existing": "\(existing)"])

        var answer = try await view(member, park: park, existing: existing)
        // The code secret goes once, to the window that enrolled the member, for the member's own device. An
        // existing member's enrollment elsewhere answers the member id and masked data only: the secret would let
        // that park make the member's codes (a lost phone is a re-issue, checked against the document).
        if !existing {
            answer.codeSecret = memberCodeSecret(member.id, generation: member.codeGeneration).withUnsafeBytes { Base64URL.encode(Data($0)) }
        }
        return answer
    }

    /// The secret of a member's codes in a generation (generation 0 keeps the original derivation).
    func memberCodeSecret(_ id: String, generation: Int) -> SymmetricKey {
        secrets.fields.derivedKey(generation == 0 ? "member-code|\(id)" : "member-code|\(id)|\(generation)")
    }

    /// Re-issues a member's code secret to a park that knows the member, once the member's document (sealed to the
    /// hub) matches the one the member enrolled with; the old secret's codes stop working at once.
    public func reissueMemberCode(_ id: String, _ request: MemberCodeReissueRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> MemberView {
        var view = try await memberView(id, peer: peer)
        guard let member = try await store.member(id) else { throw Refusal(.notFound, code: "unknown_member", title: "Unknown member") }
        guard let data = passes.openHolder(request.sealed) else {
            throw Refusal(.invalid, code: "unreadable_sealed_data", title: "The sealed document cannot be opened")
        }
        guard let document = PassRules.document(of: data), passes.documentIndex(document) == member.idIndex else {
            throw Refusal(
                .forbidden, code: "holder_mismatch", title: "Not the member's document",
                detail: "a member code is re-issued only to the member, on the document they enrolled with")
        }
        let generation = try await store.nextMemberCodeGeneration(id)
        logger.notice("member code re-issued", metadata: ["member": "\(id)", "generation": "\(generation)", "park": "\(peer.principal)"])
        view.codeSecret = memberCodeSecret(id, generation: generation).withUnsafeBytes { Base64URL.encode(Data($0)) }
        return view
    }

    /// Recognises a member from the rolling code they show (valid for its minute and the one before, once), or from
    /// the one-card registered to them (a blocked card is refused: it may be lost or stolen).
    public func recognizeMember(_ request: MemberRecognitionRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> MemberView {
        let park = try Self.park(of: peer)
        switch (request.code, request.cardID) {
        case (let code?, nil): return try await recognizeMember(code: code, park: park, now: now)
        case (nil, let card?): return try await recognizeMember(card: card, requestID: request.requestID, proof: request.cardProof, park: park, now: now)
        default: throw Refusal(.invalid, code: "invalid_body", title: "Give either code or card_id")
        }
    }

    func recognizeMember(card cardID: String, requestID: String?, proof: CardProof?, park: ParkID, now: Date) async throws -> MemberView {
        try Self.checkIdentifier(cardID, "card_id")
        guard let requestID, let proof else {
            throw Refusal(
                .invalid, code: "invalid_body", title: "A card is recognised with its cryptogram",
                detail: "give request_id and card_proof (operation identify, amount 0) with card_id")
        }
        try Self.checkIdentifier(requestID, "request_id")
        try checkCardProof(proof, .identify, cardID: cardID, amountMinor: 0, park: park, requestID: requestID)
        guard try await store.card(cardID) != nil else {
            throw Refusal(.notFound, code: "unknown_card", title: "Not a card of this federation")
        }
        let (card, _, _) = try await Self.cardCall {
            try await store.updateCard(cardID, now: now) { account, _ in
                try account.present(counter: proof.counter)
                return (CardEffect(), ())
            }
        }
        guard card.account.status == .active else {
            throw Refusal(.conflict, code: "card_blocked", title: "The card is blocked", detail: "a blocked card does not identify its member")
        }
        guard let id = card.memberID, let member = try await store.member(id) else {
            throw Refusal(.notFound, code: "not_a_member_card", title: "The card is not registered to a member")
        }
        return try await view(member, park: park, existing: true)
    }

    func recognizeMember(code: String, park: ParkID, now: Date) async throws -> MemberView {
        try await view(try presentMember(code: code, park: park, now: now), park: park, existing: true)
    }

    /// The member whose current code this is (each code works once): proof that the member is present. With
    /// `expecting`, the code must be that member's.
    func presentMember(code: String, park: ParkID, now: Date, expecting: String? = nil) async throws -> MemberRecord {
        guard let id = MemberCode.memberID(of: code), (try? Check.identifier(id, "member")) != nil, let member = try await store.member(id) else {
            throw Refusal(.notFound, code: "unknown_member", title: "Not a member code of this federation")
        }
        if let expecting, expecting != id {
            throw Refusal(
                .forbidden, code: "member_not_present", title: "Not this member's code",
                detail: "the code shown is another member's: the member \(expecting) must show their own current code")
        }
        switch MemberCode.check(code, secret: memberCodeSecret(id, generation: member.codeGeneration), now: now) {
        case .failure(let refusal):
            throw Refusal(
                refusal == .expired ? .expired : .invalid, code: refusal.rawValue, title: "Member code refused",
                detail: refusal == .expired ? "the code is older than a minute: ask for a fresh one" : "the code does not verify")
        case .success(let step):
            // A use is keyed by the code's generation and step (generation in the high bits), so the first code of a
            // re-issued secret is not mistaken for a replay of the lost phone's code of the same minute.
            guard try await store.useMemberCode(id, step: Int64(member.codeGeneration) << 40 | step, park: park.rawValue, now: now) else {
                throw Refusal(.conflict, code: "code_used", title: "Member code already used", detail: "each code works once")
            }
        }
        return member
    }

    public func linkMember(_ id: String, _ request: MemberLinkRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> MemberView {
        let park = try Self.park(of: peer)
        try Self.checkIdentifier(id, "member id")
        try Self.checkIdentifier(request.localMemberNumber, "local_member_number")
        guard try await store.member(id) != nil else { throw Refusal(.notFound, code: "unknown_member", title: "Unknown member") }
        // A park links its number only to a member in front of it.
        _ = try await presentMember(code: request.code, park: park, now: now, expecting: id)
        try await link(id, park: park, localNumber: request.localMemberNumber, now: now)
        guard let member = try await store.member(id) else { throw Refusal(.notFound, code: "unknown_member", title: "Unknown member") }
        return try await view(member, park: park, existing: true)
    }

    /// Links `park`'s local number to member `id` (the caller has checked the member is present).
    func link(_ id: String, park: ParkID, localNumber: String, now: Date) async throws {
        do { try await store.linkMember(id, park: park.rawValue, localNumber: localNumber, now: now) } catch let error as StoreError {
            throw Refusal(
                error.code == .notFound ? .notFound : .conflict, code: error.code == .notFound ? "unknown_member" : error.code.rawValue,
                title: "Link refused", detail: error.message)
        }
    }

    /// A member for a park that enrolled or linked them (others: 404, as if unknown).
    public func memberView(_ id: String, peer: AuthenticatedPeer) async throws -> MemberView {
        let park = try Self.park(of: peer)
        try Self.checkIdentifier(id, "member id")
        let links = try await store.memberLinks(id, park: park.rawValue)
        guard let member = try await store.member(id), member.enrolledBy == park.rawValue || !links.isEmpty else {
            throw Refusal(.notFound, code: "unknown_member", title: "Unknown member", detail: "no member \(id) enrolled or linked by \(park)")
        }
        return try await view(member, park: park, existing: true)
    }

    func view(_ member: MemberRecord, park: ParkID, existing: Bool) async throws -> MemberView {
        await MemberView(
            memberID: member.id, nameMasked: member.nameMasked, idType: member.idType, idNumberMasked: member.idMasked,
            phoneMasked: member.phoneMasked, enrolledBy: member.enrolledBy, consentVersion: member.consentVersion, existing: existing,
            localNumbers: try store.memberLinks(member.id, park: park.rawValue))
    }
}
