import Foundation
import ParkFedCrypto
import ParkFedDomain

/// The payload of every assertion: a unique id, the type, the issuing park, when, and the type's data.
///
/// Travels as a JWS compact serialisation (`alg: EdDSA`, `kid` of the park's key on the trust list,
/// `typ: parkfed-<type>+jwt`), so any JOSE library can verify it. Schemas: `schemas/assertions/<type>.schema.json`.
public struct AssertionPayload: Sendable, Hashable {
    public var id: String
    public var park: ParkID
    public var issuedAt: Date
    public var data: AssertionData

    public init(id: String, park: ParkID, issuedAt: Date, data: AssertionData) {
        self.id = id
        self.park = park
        self.issuedAt = issuedAt
        self.data = data
    }

    public var type: AssertionType { data.type }
}

/// The data of each assertion type.
public enum AssertionData: Sendable, Hashable {
    case passIssued(PassIssued)
    case passRedeemed(PassRedeemed)
    case passRefunded(PassRefunded)
    case passTransferred(PassTransferred)
    case cardLoaded(CardLoaded)
    case cardSpent(CardSpent)
    case cardRefunded(CardRefunded)
    case cardBlocked(CardBlocked)
    case memberEnrolled(MemberEnrolled)
    case memberLinked(MemberLinked)
    case gateExits(GateExits)

    public var type: AssertionType {
        switch self {
        case .passIssued: .passIssued
        case .passRedeemed: .passRedeemed
        case .passRefunded: .passRefunded
        case .passTransferred: .passTransferred
        case .cardLoaded: .cardLoaded
        case .cardSpent: .cardSpent
        case .cardRefunded: .cardRefunded
        case .cardBlocked: .cardBlocked
        case .memberEnrolled: .memberEnrolled
        case .memberLinked: .memberLinked
        case .gateExits: .gateExits
        }
    }

    func validate() throws(WireError) {
        switch self {
        case .passIssued(let data): try data.validate()
        case .passRedeemed(let data): try data.validate()
        case .passRefunded(let data): try data.validate()
        case .passTransferred(let data): try data.validate()
        case .cardLoaded(let data): try data.validate()
        case .cardSpent(let data): try data.validate()
        case .cardRefunded(let data): try data.validate()
        case .cardBlocked(let data): try data.validate()
        case .memberEnrolled(let data): try data.validate()
        case .memberLinked(let data): try data.validate()
        case .gateExits(let data): try data.validate()
        }
    }
}

extension AssertionPayload: Codable {
    enum CodingKeys: String, CodingKey {
        case id, type, park, data
        case issuedAt = "issued_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        park = try container.decode(ParkID.self, forKey: .park)
        issuedAt = try container.decode(Date.self, forKey: .issuedAt)
        let type = try container.decode(AssertionType.self, forKey: .type)
        switch type {
        case .passIssued: data = .passIssued(try container.decode(PassIssued.self, forKey: .data))
        case .passRedeemed: data = .passRedeemed(try container.decode(PassRedeemed.self, forKey: .data))
        case .passRefunded: data = .passRefunded(try container.decode(PassRefunded.self, forKey: .data))
        case .passTransferred: data = .passTransferred(try container.decode(PassTransferred.self, forKey: .data))
        case .cardLoaded: data = .cardLoaded(try container.decode(CardLoaded.self, forKey: .data))
        case .cardSpent: data = .cardSpent(try container.decode(CardSpent.self, forKey: .data))
        case .cardRefunded: data = .cardRefunded(try container.decode(CardRefunded.self, forKey: .data))
        case .cardBlocked: data = .cardBlocked(try container.decode(CardBlocked.self, forKey: .data))
        case .memberEnrolled: data = .memberEnrolled(try container.decode(MemberEnrolled.self, forKey: .data))
        case .memberLinked: data = .memberLinked(try container.decode(MemberLinked.self, forKey: .data))
        case .gateExits: data = .gateExits(try container.decode(GateExits.self, forKey: .data))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(park, forKey: .park)
        try container.encode(issuedAt, forKey: .issuedAt)
        switch data {
        case .passIssued(let value): try container.encode(value, forKey: .data)
        case .passRedeemed(let value): try container.encode(value, forKey: .data)
        case .passRefunded(let value): try container.encode(value, forKey: .data)
        case .passTransferred(let value): try container.encode(value, forKey: .data)
        case .cardLoaded(let value): try container.encode(value, forKey: .data)
        case .cardSpent(let value): try container.encode(value, forKey: .data)
        case .cardRefunded(let value): try container.encode(value, forKey: .data)
        case .cardBlocked(let value): try container.encode(value, forKey: .data)
        case .memberEnrolled(let value): try container.encode(value, forKey: .data)
        case .memberLinked(let value): try container.encode(value, forKey: .data)
        case .gateExits(let value): try container.encode(value, forKey: .data)
        }
    }
}

/// Makes and reads assertions: signing, and the strict checks the hub enforces on every payload.
public enum Assertions {
    /// JSON with millisecond timestamps (`2026-11-25T08:00:00.123Z`), sorted keys.
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 date-time: \(text)")
        }
        return decoder
    }()

    /// Signs `data` as an assertion of `park` with its signing key. The id is a new UUIDv7.
    public static func sign(_ data: AssertionData, park: ParkID, key: SigningKey, now: Date = Date(), id: String? = nil) throws -> (AssertionPayload, JWS) {
        let payload = AssertionPayload(id: id ?? UUIDv7.make(now: now), park: park, issuedAt: now, data: data)
        let jws = try JWS.sign(payload: try encoder.encode(payload), kid: key.kid, type: payload.type.jwsType, with: key)
        return (payload, jws)
    }

    /// Decodes and checks a payload: the JSON must be exactly what the schema of its type allows (no unknown or
    /// missing members, right types, field rules), the id a UUIDv7, and the JWS `typ` must name the same type.
    public static func decodePayload(_ jws: JWS) throws(WireError) -> AssertionPayload {
        let payload = try StrictJSON.decode(AssertionPayload.self, from: jws.payload, decoder: decoder, encoder: encoder) { $0.type.rawValue }
        guard UUIDv7.isValid(payload.id) else { throw WireError("id must be a lower-case UUIDv7") }
        guard jws.header.typ == payload.type.jwsType else {
            throw WireError("JWS typ \(jws.header.typ ?? "none") does not match payload type \(payload.type.rawValue)")
        }
        try payload.data.validate()
        return payload
    }
}

/// UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits; sorts by time.
public enum UUIDv7 {
    public static func make(now: Date = Date()) -> String {
        // Two draws of the system generator (each a getrandom(2) call; a draw per byte was ten calls) give the 74
        // random bits; the text is written straight into the string's storage.
        var random = SystemRandomNumberGenerator()
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let high = random.next() as UInt64, low = random.next() as UInt64
        // 48 bits of milliseconds, version 7, 12 random bits; variant 10, 62 random bits.
        let first = (millis << 16) | 0x7000 | (high & 0x0fff)
        let second = 0x8000_0000_0000_0000 | (low & 0x3fff_ffff_ffff_ffff)
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { text in
            var at = 0
            for position in 0..<32 {
                if position == 8 || position == 12 || position == 16 || position == 20 {
                    text[at] = UInt8(ascii: "-")
                    at += 1
                }
                let word = position < 16 ? first : second
                text[at] = digits.utf8Start[Int((word >> UInt64(60 - 4 * (position % 16))) & 0xf)]
                at += 1
            }
            return at
        }
    }

    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (i, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) else { return false }
            }
        }
        return bytes[14] == UInt8(ascii: "7") && [UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "b")].contains(bytes[19])
    }
}
