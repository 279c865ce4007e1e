import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// A member's rights over their data (PIPL art. 45 and 47), exercised in person: at any park's window the member
/// shows their current code (proof they are present, used once), and the park asks the hub for an export of their
/// data in clear or for its erasure. Each request is recorded; an erasure is a signed `retention.purged` statement
/// naming the member and the redacted enrollment entries, so `verify-log` still passes. Where the law keeps records
/// longer (a pass the member held is a transaction record: three years after its validity), those stay until the
/// retention run reduces them.
extension Hub {
    public static let erasureBasis = "PIPL art. 47: erasure at the member's request; transaction records kept as the E-Commerce Law asks"

    public func exportMember(_ id: String, _ request: MemberDataRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> MemberExport {
        let park = try Self.park(of: peer)
        try Self.checkIdentifier(id, "member id")
        let member = try await presentMember(code: request.code, park: park, now: now, expecting: id)
        let fields = secrets.fields
        let (links, cards) = try await store.memberData(id)
        let export = MemberExport(
            memberID: member.id, name: try fields.open(member.nameSealed, purpose: "member.name"), idType: member.idType,
            idNumber: try fields.open(member.idSealed, purpose: "member.id_number"), phone: try fields.open(member.phoneSealed, purpose: "member.phone"),
            consentVersion: member.consentVersion, consentedAt: member.consentedAt, enrolledBy: member.enrolledBy,
            links: links.map { .init(park: $0.park, localNumber: $0.local, linkedAt: $0.at) }, cards: cards, exportedAt: now)
        try await store.recordMemberRequest(id, park: park.rawValue, action: "export", logIndex: nil, now: now)
        logger.notice("member data exported", metadata: ["member": "\(id)", "park": "\(park)"])
        return export
    }

    public func eraseMember(_ id: String, _ request: MemberDataRequest, peer: AuthenticatedPeer, now: Date = Date()) async throws -> MemberErasure {
        let park = try Self.park(of: peer)
        try Self.checkIdentifier(id, "member id")
        guard request.confirm == true else {
            throw Refusal(.invalid, code: "confirm_required", title: "Confirm the erasure", detail: "an erasure cannot be undone: send confirm true")
        }
        _ = try await presentMember(code: request.code, park: park, now: now, expecting: id)
        var redactions: [RetentionChange.Redaction] = []
        try await store.forEachWholeEntry(types: [AssertionType.memberEnrolled.rawValue]) { index, jws, leafHash in
            guard let parsed = try? JWS(compact: jws), let payload = try? Assertions.decodePayload(parsed),
                case .memberEnrolled(let data) = payload.data, data.memberID == id
            else { return }
            redactions.append(.init(index: index, leafHash: leafHash))
        }
        let redacted = Array(redactions.prefix(RetentionStatement.maximumEntries))
        let statement = RetentionStatement(
            id: "RP-" + UUIDv7.make(now: now), issuedAt: now, retentionDays: configuration.realNameRetentionDays, basis: Self.erasureBasis,
            endedBefore: passes.calendar.day(of: now).description, passes: [], holdersRemoved: 1,
            redacted: redacted.map { .init(index: $0.index, leafHash: Base64URL.encode($0.leafHash)) }, member: id)
        let index = try await log.record(statement, change: RetentionChange(passIDs: [], redactions: redacted, member: id), now: now)
        try await store.recordMemberRequest(id, park: park.rawValue, action: "erasure", logIndex: index, now: now)
        logger.notice("member erased", metadata: ["member": "\(id)", "park": "\(park)", "log_index": "\(index)"])
        return MemberErasure(
            memberID: id, erasedAt: now, statementIndex: index, redactedEntries: redacted.count,
            note: "identity, phone, links and code history erased; passes the member held are transaction records kept until their retention ends")
    }
}
