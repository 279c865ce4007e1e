import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol

/// Valid assertion data of every type, varied by a counter (pass ids carry the issuer: each park sells its own
/// passes): for tests, schema checks and benchmarks.
public enum SampleAssertions {
    static let digest = Base64URL.encode([UInt8](repeating: 7, count: 32))

    public static func data(_ i: Int, issuer: ParkID = try! ParkID("P001")) -> AssertionData {
        let holder = HolderRef(nameMasked: "张*三", idType: .residentID, idDigest: digest)
        switch i % 11 {
        case 0:
            return .passIssued(
                PassIssued(
                    passID: "PASS-\(issuer)-\(i)", product: "JIANGNAN-3P", channel: .window, priceMinor: 29_900,
                    holder: holder, validFrom: "2026-11-25", validUntil: "2026-12-31"))
        case 1:
            return .passRedeemed(
                PassRedeemed(passID: "PASS-\(issuer)-\(i)", issuerPark: issuer, gate: "G1", enteredAt: Date(), offline: false, code: "sample.code.\(i)"))
        case 2: return .passRefunded(PassRefunded(passID: "PASS-\(issuer)-\(i)", amountMinor: 9_900, reason: "unused park"))
        case 3:
            return .passTransferred(PassTransferred(passID: "PASS-\(issuer)-\(i)", newHolder: holder, generation: 1, resalePriceMinor: 29_900, feeMinor: 500))
        case 4:
            return .cardLoaded(CardLoaded(cardID: "CARD-\(i)", loadID: "LOAD-\(i)", principalMinor: 100_000, bonusMinor: 20_000, promotion: "LOAD1000GET200"))
        case 5: return .cardSpent(CardSpent(cardID: "CARD-\(i)", requestID: "REQ-\(i)", amountMinor: 12_000, principalMinor: 10_000, bonusMinor: 2_000))
        case 6: return .cardRefunded(CardRefunded(cardID: "CARD-\(i)", requestID: "REQ-\(i)", amountMinor: 12_000))
        case 7: return .cardBlocked(CardBlocked(cardID: "CARD-\(i)", reason: "lost", replacementCardID: "CARD-\(i)-B"))
        case 8: return .memberEnrolled(MemberEnrolled(memberID: "M-\(i)", holder: holder, consentVersion: "2026-01", consentedAt: Date()))
        case 9: return .memberLinked(MemberLinked(memberID: "M-\(i)", localMemberNumber: "LOCAL-\(i)"))
        default: return .gateExits(GateExits(gate: "EXIT-\(i)", count: 1 + i % 7, countedAt: Date()))
        }
    }
}
