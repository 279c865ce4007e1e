import Foundation
import ParkFedCrypto
import Testing

@Suite struct FieldProtectionTests {
    static let indexKey = Data(repeating: 1, count: 32)

    @Test func sealedFieldsOpenOnlyForTheirPurposeAndKey() throws {
        let ring = try FieldKeyRing(current: try .generate(id: "k1"), indexKey: Self.indexKey)
        let sealed = try ring.seal("430102199003071234", purpose: "member.id_number")
        #expect(sealed.hasPrefix("v1.k1."))
        #expect(!sealed.contains("430102199003071234"))
        #expect(try ring.open(sealed, purpose: "member.id_number") == "430102199003071234")
        #expect(throws: (any Error).self) { try ring.open(sealed, purpose: "member.phone") }
        var bytes = Array(sealed.utf8)
        bytes[bytes.count - 5] = bytes[bytes.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: (any Error).self) { try ring.open(String(decoding: bytes, as: UTF8.self), purpose: "member.id_number") }
        // Two seals of one value differ (fresh nonces), so equal values cannot be spotted in the file.
        #expect(try ring.seal("x", purpose: "p") != ring.seal("x", purpose: "p"))
    }

    @Test func rotationKeepsOldFieldsReadable() throws {
        let old = try FieldKeyRing.Key.generate(id: "k1")
        let before = try FieldKeyRing(current: old, indexKey: Self.indexKey)
        let sealed = try before.seal("13812341234", purpose: "member.phone")
        let after = try FieldKeyRing(current: try .generate(id: "k2"), previous: [old], indexKey: Self.indexKey)
        #expect(try after.open(sealed, purpose: "member.phone") == "13812341234")
        #expect(try after.seal("13812341234", purpose: "member.phone").hasPrefix("v1.k2."))
        let forgotten = try FieldKeyRing(current: try .generate(id: "k3"), indexKey: Self.indexKey)
        #expect(throws: CryptoError.self) { try forgotten.open(sealed, purpose: "member.phone") }
    }

    @Test func blindIndexesAreStableKeyedAndSeparatedByPurpose() throws {
        let ring = try FieldKeyRing(current: try .generate(id: "k1"), indexKey: Self.indexKey)
        let rotated = try FieldKeyRing(current: try .generate(id: "k2"), indexKey: Self.indexKey)
        let other = try FieldKeyRing(current: try .generate(id: "k1"), indexKey: Data(repeating: 2, count: 32))
        let index = ring.blindIndex("430102199003071234", purpose: "id_number")
        #expect(index.count == 43)
        #expect(index == rotated.blindIndex("430102199003071234", purpose: "id_number"))
        #expect(index != ring.blindIndex("430102199003071234", purpose: "phone"))
        #expect(index != other.blindIndex("430102199003071234", purpose: "id_number"))
    }

    /// Found by `scripts/fuzz member-code`: a code with an empty member id named "" as its member.
    @Test func aMemberCodeWithAnEmptyOrOverlongMemberIDNamesNoOne() {
        #expect(MemberCode.memberID(of: "M1..2x.abc") == nil)
        #expect(MemberCode.memberID(of: "M1.\(String(repeating: "a", count: 65)).1.abc") == nil)
        #expect(MemberCode.memberID(of: "M1.M-1.1.abc") == "M-1")
    }
}
