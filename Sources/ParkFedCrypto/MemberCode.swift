import Crypto
import Foundation

/// A member's rolling QR code: `M1.<member id>.<60-second step>.<base64url HMAC-SHA256 (16 bytes)>`, made by the
/// member's app from a per-member secret the hub derived and handed over at enrollment. A code is good for its own
/// step and the one before (clock drift), and the hub accepts each (member, step) once, so a screenshot is useless
/// a minute later and after its first use.
public enum MemberCode {
    public static let step: TimeInterval = 60

    public static func step(at date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / step).rounded(.down)) }

    /// The code for `memberID` at `date`.
    public static func make(memberID: String, secret: SymmetricKey, at date: Date) -> String {
        let current = step(at: date)
        return "M1.\(memberID).\(current).\(Base64URL.encode(mac(memberID: memberID, step: current, secret: secret)))"
    }

    static func mac(memberID: String, step: Int64, secret: SymmetricKey) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("\(memberID)|\(step)".utf8), using: secret)).prefix(16)
    }

    /// Why a code is refused.
    public enum Refusal: String, Error, Sendable {
        case invalid = "invalid_code"
        case expired = "code_expired"
    }

    /// The member id a code names, before its check.
    public static func memberID(of text: String) -> String? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "M1", (1...64).contains(parts[1].utf8.count) else { return nil }
        return String(parts[1])
    }

    /// Checks a code against the member's secret at `now`; returns its step.
    public static func check(_ text: String, secret: SymmetricKey, now: Date) -> Result<Int64, Refusal> {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard text.utf8.count <= 200, parts.count == 4, parts[0] == "M1", let codeStep = Int64(parts[2]), let mac = Base64URL.decode(parts[3]),
            mac.count == 16
        else { return .failure(.invalid) }
        let expected = Self.mac(memberID: String(parts[1]), step: codeStep, secret: secret)
        // Constant-time comparison of the tags.
        guard zip(expected, mac).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { return .failure(.invalid) }
        let current = step(at: now)
        guard codeStep == current || codeStep == current - 1 else { return .failure(codeStep < current ? .expired : .invalid) }
        return .success(codeStep)
    }
}

extension FieldKeyRing {
    /// A key derived from the ring's fixed secret for `purpose` (HKDF-SHA256): e.g. each member's code secret.
    public func derivedKey(_ purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: indexKey, info: Data("parkfed derived key|\(purpose)".utf8), outputByteCount: 32)
    }
}
