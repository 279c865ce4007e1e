import Foundation
import ParkFedCrypto
import Testing

/// RFC 8037 Appendix A: the Ed25519 key, its thumbprint and the signed example.
enum RFC8037 {
    static let d = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
    static let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    static let thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    static let payload = "Example of Ed25519 signing"
    static let jws =
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
}

@Suite struct JWSTests {
    @Test func verifiesTheRFC8037Example() throws {
        let key = try VerifyingKey(base64URL: RFC8037.x)
        let jws = try JWS(compact: RFC8037.jws)
        #expect(jws.header.alg == "EdDSA")
        #expect(String(decoding: jws.payload, as: UTF8.self) == RFC8037.payload)
        try jws.verify(with: key)
    }

    @Test func derivesTheRFC8037PublicKeyAndThumbprint() throws {
        let key = try SigningKey(rawRepresentation: Base64URL.decode(RFC8037.d)!)
        #expect(key.publicKey.base64URL == RFC8037.x)
        #expect(key.publicKey.thumbprint == RFC8037.thumbprint)
        #expect(key.kid == RFC8037.thumbprint)
    }

    @Test func signsAndVerifiesWithKidAndType() throws {
        let key = SigningKey()
        let jws = try JWS.sign(payload: Data(#"{"a":1}"#.utf8), kid: key.kid, type: "test+jwt", with: key)
        let parsed = try JWS(compact: jws.compact)
        #expect(parsed.header.kid == key.kid)
        #expect(parsed.header.typ == "test+jwt")
        #expect(parsed.isSigned(by: key.publicKey))
        #expect(!parsed.isSigned(by: SigningKey().publicKey))
    }

    @Test func detectsAnyChangedPayloadByte() throws {
        let key = SigningKey()
        let jws = try JWS.sign(payload: Data(#"{"amount":100}"#.utf8), kid: nil, type: nil, with: key)
        let parts = jws.compact.split(separator: ".").map(String.init)
        let forged = parts[0] + "." + Base64URL.encode(Data(#"{"amount":900}"#.utf8)) + "." + parts[2]
        #expect(throws: CryptoError.self) { try JWS(compact: forged).verify(with: key.publicKey) }
    }

    @Test(arguments: ["", "a.b", "a.b.c.d", "!!.e30.AA", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiJ9.e30.AA"])
    func refusesMalformedOrForeignTokens(_ compact: String) {
        #expect(throws: CryptoError.self) { try JWS(compact: compact) }
    }

    @Test func base64URLAgreesWithFoundationOnRandomBytes() {
        var generator = SplitMix(seed: 17)  // fixed: the same bytes every run
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let reference = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == reference)
            #expect(Base64URL.decode(reference) == Data(bytes))
        }
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base64URL.decode("ab c") == nil)
        #expect(Base64URL.decode("é") == nil)
    }

    @Test func base64URLIsCanonicalAndUnpadded() {
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
        #expect(Base64URL.decode("-_8") == Data([0xfb, 0xff]))
        #expect(Base64URL.decode("-_8=") == nil)
        #expect(Base64URL.decode("-_9") == nil)  // stray low bits: not canonical
        #expect(Base64URL.decode("A") == nil)
    }
}

@Suite struct HexTests {
    @Test func hexRoundTripsAndRefusesBadDigits() {
        #expect(Hex.encode([0x00, 0xab, 0xff]) == "00abff")
        #expect(Hex.decode("00ABff") == Data([0x00, 0xab, 0xff]))
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}

/// SplitMix64 for this test target (which does not link the testing module): fixed seeds, replayable bytes.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
