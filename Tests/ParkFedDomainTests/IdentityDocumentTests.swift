import ParkFedDomain
import Testing

@Suite struct IdentityDocumentTests {
    /// 11010519491231002X is the worked example of GB 11643-1999 itself.
    @Test(arguments: ["11010519491231002X", "11010519491231002x", "430102199003071234", "44030419851111801X"])
    func validResidentIDNumbersAreAccepted(_ number: String) throws {
        let document = try IdentityDocument(kind: .residentID, number: number)
        #expect(document.number == number.uppercased())
    }

    @Test(arguments: [
        "110105194912310021",  // wrong check digit
        "430102199003071235",  // wrong check digit
        "43010219900307123",  // 17 characters
        "4301021990030712345",  // 19 characters
        "43010219900230123X",  // 30 February (and a check digit that would not match anyway)
        "99010219900307123X",  // no such region
        "4301021990O307123X",  // a letter O inside
    ])
    func invalidResidentIDNumbersAreRefused(_ number: String) {
        #expect(throws: DomainError.self) { try IdentityDocument(kind: .residentID, number: number) }
    }

    @Test func aBadDateWithAValidCheckDigitIsStillRefused() throws {
        // Build a number for 1990-02-30 with the right check character: only the date check can refuse it.
        let base = "43010219900230123"
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(base.compactMap(\.wholeNumberValue), weights).reduce(0) { $0 + $1.0 * $1.1 }
        let check = Array("10X98765432")[sum % 11]
        #expect(throws: DomainError.self) { try IdentityDocument(kind: .residentID, number: base + String(check)) }
    }

    @Test func otherDocumentsFollowTheirFormats() throws {
        _ = try IdentityDocument(kind: .passport, number: "E12345678")
        _ = try IdentityDocument(kind: .hkMacauPermit, number: "H12345678")
        _ = try IdentityDocument(kind: .taiwanPermit, number: "12345678")
        _ = try IdentityDocument(kind: .foreignPermanentResident, number: "911234567890123456")
        #expect(throws: DomainError.self) { try IdentityDocument(kind: .hkMacauPermit, number: "X12345678") }
        #expect(throws: DomainError.self) { try IdentityDocument(kind: .passport, number: "E1") }
        #expect(throws: DomainError.self) { try IdentityDocument(kind: .taiwanPermit, number: "1234567") }
    }

    @Test func masksAreExact() throws {
        #expect(Masking.name("张三") == "张*")
        #expect(Masking.name("张小三") == "张*三")
        #expect(Masking.name("欧阳小明") == "欧**明")
        #expect(Masking.phone("13812341234") == "138****1234")
        let document = try IdentityDocument(kind: .residentID, number: "430102199003071234")
        #expect(document.maskedNumber == "4301**********1234")
        #expect(document.description == "resident_id 4301**********1234")
        #expect(!"\(document)".contains("199003"))
    }
}
