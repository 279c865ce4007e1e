import Foundation

/// `POST /v1/members` (hub, parks): enroll a member once for the whole federation. The park seals the real name,
/// document and phone to the hub (``HolderSealing``); the hub answers with the federation member id, the existing one
/// when the document is already a member.
public struct MemberEnrollRequest: Codable, Sendable {
    public var sealed: String
    public var consentVersion: String
    public var consentedAt: Date
    /// This park's member number, linked in the same call: at once for a new member (enrolling at this window),
    /// and for an existing one only with their current code (`member_code`): the member is present.
    public var localMemberNumber: String?
    public var memberCode: String?

    public init(sealed: String, consentVersion: String, consentedAt: Date, localMemberNumber: String? = nil, memberCode: String? = nil) {
        self.sealed = sealed
        self.consentVersion = consentVersion
        self.consentedAt = consentedAt
        self.localMemberNumber = localMemberNumber
        self.memberCode = memberCode
    }

    enum CodingKeys: String, CodingKey {
        case sealed
        case consentVersion = "consent_version"
        case consentedAt = "consented_at"
        case localMemberNumber = "local_member_number"
        case memberCode = "member_code"
    }

    /// What a park seals about a member.
    public struct Sealed: Codable, Sendable, Hashable {
        public var name: String
        public var idType: String
        public var idNumber: String
        public var phone: String
        public init(name: String, idType: String, idNumber: String, phone: String) {
            self.name = name
            self.idType = idType
            self.idNumber = idNumber
            self.phone = phone
        }
        enum CodingKeys: String, CodingKey {
            case name, phone
            case idType = "id_type"
            case idNumber = "id_number"
        }
        public static let purpose = "parkfed.member"
    }
}

/// `POST /v1/members/{id}/links` (hub, parks): link this park's local member number to a federation member.
public struct MemberLinkRequest: Codable, Sendable {
    public var localMemberNumber: String
    /// The member's current code: a park links its number only with the member present.
    public var code: String
    public init(localMemberNumber: String, code: String) {
        self.localMemberNumber = localMemberNumber
        self.code = code
    }
    enum CodingKeys: String, CodingKey {
        case code
        case localMemberNumber = "local_member_number"
    }
}

/// A member as a park may see it: masked forms only, and only for a member it enrolled or linked.
public struct MemberView: Codable, Sendable, Hashable {
    public var memberID: String
    public var nameMasked: String
    public var idType: String
    public var idNumberMasked: String
    public var phoneMasked: String
    public var enrolledBy: String
    public var consentVersion: String
    /// True when this enrollment found an existing member (a member enrolls once).
    public var existing: Bool
    /// This park's local member numbers for the member.
    public var localNumbers: [String]
    /// The secret (base64url) of the member's rolling QR code, answered to the enrolling window only, for the
    /// member's app (see `MemberCode`).
    public var codeSecret: String?

    public init(
        memberID: String, nameMasked: String, idType: String, idNumberMasked: String, phoneMasked: String, enrolledBy: String,
        consentVersion: String, existing: Bool, localNumbers: [String]
    ) {
        self.memberID = memberID
        self.nameMasked = nameMasked
        self.idType = idType
        self.idNumberMasked = idNumberMasked
        self.phoneMasked = phoneMasked
        self.enrolledBy = enrolledBy
        self.consentVersion = consentVersion
        self.existing = existing
        self.localNumbers = localNumbers
    }

    enum CodingKeys: String, CodingKey {
        case existing
        case memberID = "member_id"
        case nameMasked = "name_masked"
        case idType = "id_type"
        case idNumberMasked = "id_number_masked"
        case phoneMasked = "phone_masked"
        case enrolledBy = "enrolled_by"
        case consentVersion = "consent_version"
        case localNumbers = "local_numbers"
        case codeSecret = "code_secret"
    }
}

/// `POST /v1/members/recognitions` (hub, parks): a member shows their rolling QR code, or presents their one-card
/// (IC card, wristband) at a reader, at another park. Exactly one of the two.
public struct MemberRecognitionRequest: Codable, Sendable {
    public var code: String?
    public var cardID: String?
    /// With `card_id`: the card's cryptogram (operation `identify`, amount 0, request id `request_id`).
    public var requestID: String?
    public var cardProof: CardProof?
    public init(code: String) { self.code = code }
    public init(cardID: String, requestID: String, cardProof: CardProof) {
        self.cardID = cardID
        self.requestID = requestID
        self.cardProof = cardProof
    }

    enum CodingKeys: String, CodingKey {
        case code
        case cardID = "card_id"
        case requestID = "request_id"
        case cardProof = "card_proof"
    }
}

/// `POST /v1/members/{id}/code` (hub, parks that enrolled or linked the member; node: window devices): a new code
/// secret for a member who lost the phone, proven by the member's document sealed to the hub (`HolderRef.Sealed`,
/// purpose `parkfed.holder`). Every code of the old secret stops working.
public struct MemberCodeReissueRequest: Codable, Sendable {
    public var sealed: String
    public init(sealed: String) { self.sealed = sealed }
}

/// `POST /v1/members/{id}/export` and `/erasure` (parks): the member, present at the window, shows their current
/// code; an erasure also confirms it (`confirm: true`), as it cannot be undone.
public struct MemberDataRequest: Codable, Sendable {
    public var code: String
    public var confirm: Bool?
    public init(code: String, confirm: Bool? = nil) {
        self.code = code
        self.confirm = confirm
    }
}

/// A member's own data, in clear, for the member (PIPL art. 45): printed or handed over at the window where they
/// asked. Every export is recorded.
public struct MemberExport: Codable, Sendable, Hashable {
    public struct Link: Codable, Sendable, Hashable {
        public var park: String
        public var localNumber: String
        public var linkedAt: Date
        public init(park: String, localNumber: String, linkedAt: Date) {
            self.park = park
            self.localNumber = localNumber
            self.linkedAt = linkedAt
        }
        enum CodingKeys: String, CodingKey {
            case park
            case localNumber = "local_number"
            case linkedAt = "linked_at"
        }
    }
    public var memberID: String
    public var name: String
    public var idType: String
    public var idNumber: String
    public var phone: String
    public var consentVersion: String
    public var consentedAt: Date
    public var enrolledBy: String
    public var links: [Link]
    public var cards: [String]
    public var exportedAt: Date

    public init(
        memberID: String, name: String, idType: String, idNumber: String, phone: String, consentVersion: String, consentedAt: Date, enrolledBy: String,
        links: [Link], cards: [String], exportedAt: Date
    ) {
        self.memberID = memberID
        self.name = name
        self.idType = idType
        self.idNumber = idNumber
        self.phone = phone
        self.consentVersion = consentVersion
        self.consentedAt = consentedAt
        self.enrolledBy = enrolledBy
        self.links = links
        self.cards = cards
        self.exportedAt = exportedAt
    }

    enum CodingKeys: String, CodingKey {
        case name, phone, links, cards
        case memberID = "member_id"
        case idType = "id_type"
        case idNumber = "id_number"
        case consentVersion = "consent_version"
        case consentedAt = "consented_at"
        case enrolledBy = "enrolled_by"
        case exportedAt = "exported_at"
    }
}

/// What an erasure did (PIPL art. 47): the member's identity, phone, blind index, links and code history are gone,
/// and the logged enrollment assertions are redacted (a signed statement vouches for their leaf hashes). Transaction
/// records the law keeps longer (passes the member held) stay until their own retention ends.
public struct MemberErasure: Codable, Sendable, Hashable {
    public var memberID: String
    public var erasedAt: Date
    public var statementIndex: UInt64
    public var redactedEntries: Int
    public var note: String

    public init(memberID: String, erasedAt: Date, statementIndex: UInt64, redactedEntries: Int, note: String) {
        self.memberID = memberID
        self.erasedAt = erasedAt
        self.statementIndex = statementIndex
        self.redactedEntries = redactedEntries
        self.note = note
    }

    enum CodingKeys: String, CodingKey {
        case note
        case memberID = "member_id"
        case erasedAt = "erased_at"
        case statementIndex = "statement_index"
        case redactedEntries = "redacted_entries"
    }
}
