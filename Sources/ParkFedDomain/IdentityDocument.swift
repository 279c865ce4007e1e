/// A real-name identity document as ticketing law requires (实名制): its type and number, validated.
///
/// Mainland resident identity cards (GB 11643-1999) are checked fully: 18 characters, a six-digit region code, a
/// real birth date, and the ISO 7064 MOD 11-2 check character. Other documents are checked for their published
/// formats. The number is never logged or shown in full: use ``maskedNumber``.
public struct IdentityDocument: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, CaseIterable, Codable {
        case residentID = "resident_id"
        case passport
        case hkMacauPermit = "hk_macau_permit"
        case taiwanPermit = "taiwan_permit"
        case foreignPermanentResident = "foreign_permanent_resident"
        case other
    }

    public let kind: Kind
    /// The normalised number (upper case, no spaces).
    public let number: String

    public init(kind: Kind, number raw: String) throws(DomainError) {
        let number = String(raw.filter { $0 != " " }).uppercased()
        let ascii = Array(number.utf8)
        func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
        func isUpperOrDigit(_ byte: UInt8) -> Bool { isDigit(byte) || (byte >= 65 && byte <= 90) }
        switch kind {
        case .residentID:
            try Self.checkResidentID(ascii)
        case .passport:
            guard (5...17).contains(ascii.count), ascii.allSatisfy(isUpperOrDigit) else {
                throw DomainError(.invalidDocument, "a passport number is 5-17 letters and digits")
            }
        case .hkMacauPermit:
            // 港澳居民来往内地通行证: H or M followed by 8 or 10 digits.
            guard let first = ascii.first, first == 72 || first == 77, [9, 11].contains(ascii.count), ascii.dropFirst().allSatisfy(isDigit) else {
                throw DomainError(.invalidDocument, "a Hong Kong/Macau permit number is H or M followed by 8 or 10 digits")
            }
        case .taiwanPermit:
            // 台湾居民来往大陆通行证: 8 digits (or 10 with a reissue suffix).
            guard [8, 10].contains(ascii.count), ascii.allSatisfy(isDigit) else {
                throw DomainError(.invalidDocument, "a Taiwan permit number is 8 or 10 digits")
            }
        case .foreignPermanentResident:
            // 外国人永久居留身份证: 15 characters (2004 format) or 18 beginning with 9 (2017 format).
            guard (ascii.count == 15 && ascii.allSatisfy(isUpperOrDigit)) || (ascii.count == 18 && ascii.first == 57 && ascii.allSatisfy(isUpperOrDigit)) else {
                throw DomainError(.invalidDocument, "a foreign permanent resident ID is 15 characters, or 18 beginning with 9")
            }
        case .other:
            guard (4...32).contains(ascii.count), ascii.allSatisfy(isUpperOrDigit) else {
                throw DomainError(.invalidDocument, "a document number is 4-32 letters and digits")
            }
        }
        self.kind = kind
        self.number = number
    }

    /// GB 11643-1999: weights 2^(17-i) mod 11, check character "10X98765432"[sum mod 11].
    static func checkResidentID(_ ascii: [UInt8]) throws(DomainError) {
        guard ascii.count == 18, ascii.prefix(17).allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw DomainError(.invalidDocument, "a resident ID number is 17 digits and a check digit or X")
        }
        let digits = ascii.prefix(17).map { Int($0) - 48 }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        let expected = Array("10X98765432".utf8)[sum % 11]
        guard ascii[17] == expected else {
            throw DomainError(.invalidDocument, "the resident ID number's check digit is wrong")
        }
        let region = digits[0] * 10 + digits[1]
        guard (11...82).contains(region) else { throw DomainError(.invalidDocument, "the resident ID number's region code is not valid") }
        let year = digits[6...9].reduce(0) { $0 * 10 + $1 }
        let month = digits[10] * 10 + digits[11], day = digits[12] * 10 + digits[13]
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1900...2100).contains(year), (1...12).contains(month), (1...days[month - 1]).contains(day) else {
            throw DomainError(.invalidDocument, "the resident ID number's birth date is not a real date")
        }
    }

    /// The number with its middle hidden, showing at most half of it: up to four characters at each end, and no
    /// more than a quarter of the number at either (`4301**********1234`, a passport `E1*****78`).
    public var maskedNumber: String { Masking.document(number) }

    /// Never the number: the type and the masked form.
    public var description: String { "\(kind.rawValue) \(maskedNumber)" }
}

/// Masked forms of personal data, for parks and logs that may show who, but never in full.
public enum Masking {
    /// A name with its middle hidden: 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明, Anna Lee → A******e.
    public static func name(_ name: String) -> String {
        let characters = Array(name.trimmingCharactersInSpaces())
        switch characters.count {
        case 0: return ""
        case 1: return "*"
        case 2: return String(characters[0]) + "*"
        default: return String(characters[0]) + String(repeating: "*", count: characters.count - 2) + String(characters[characters.count - 1])
        }
    }

    /// A document number showing at most half of its characters (see ``IdentityDocument/maskedNumber``).
    public static func document(_ number: String) -> String {
        let ends = min(4, number.count / 4)
        return keepEnds(number, head: ends, tail: ends)
    }

    /// A phone number with its middle four hidden: 13812341234 → 138****1234.
    public static func phone(_ phone: String) -> String { keepEnds(phone, head: 3, tail: 4) }

    /// Keeps `head` leading and `tail` trailing characters; everything between becomes `*`.
    public static func keepEnds(_ text: String, head: Int, tail: Int) -> String {
        let characters = Array(text)
        guard characters.count > head + tail else { return String(repeating: "*", count: characters.count) }
        return String(characters.prefix(head)) + String(repeating: "*", count: characters.count - head - tail) + String(characters.suffix(tail))
    }
}

extension String {
    fileprivate func trimmingCharactersInSpaces() -> Substring {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice = slice.dropFirst() }
        while slice.last?.isWhitespace == true { slice = slice.dropLast() }
        return slice
    }
}
