import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedPKI
import ParkFedProtocol

/// Every decoder that reads from outside, as a libFuzzer target. `PARKFED_FUZZ_TARGET` names the one a process
/// runs (`scripts/fuzz` runs each for a bounded time). A target must never crash, hang or accept something it
/// cannot give back: where a decoder accepts its input, the decoded value is checked for the invariants its type
/// promises.
enum FuzzTargets {
    static let names = [
        "jws", "assertion", "pass-code", "member-code", "csr", "json-bodies", "manifests", "values", "checkpoint",
        "trust-list", "sealed", "bank-statement",
    ]

    static let hubKey = try! Ed25519PEM.parsePrivateKey(pem: fixedKeyPEM)
    static let sealKey = Curve25519.KeyAgreement.PrivateKey()
    static let memberSecret = SymmetricKey(data: Data(repeating: 7, count: 32))

    /// Runs `target` on one input.
    static func run(_ target: String, _ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        switch target {
        case "jws":
            if let jws = try? JWS(compact: text) {
                // A parsed JWS re-serialises to the text it came from.
                precondition(jws.compact == text, "JWS round trip")
                _ = jws.isSigned(by: hubKey.publicKey)
            }
        case "assertion":
            // The payload path: any bytes as the payload of a (badly signed) JWS.
            let compact = Base64URL.encode(Data(#"{"alg":"EdDSA","kid":"k","typ":"parkfed-pass.redeemed+jwt"}"#.utf8)) + "." + Base64URL.encode(data) + ".AAAA"
            if let jws = try? JWS(compact: compact), let payload = try? Assertions.decodePayload(jws) {
                precondition(!payload.id.isEmpty, "an accepted assertion has an id")
            }
        case "pass-code":
            if (try? PassCode(parsing: text)) != nil {
                _ = PassCode.verify(text, key: { _ in (try! ParkID("P001"), hubKey.publicKey, false) }, product: { _ in nil })
            }
        case "member-code":
            if let id = MemberCode.memberID(of: text) { precondition(!id.isEmpty) }
            _ = MemberCode.check(text, secret: memberSecret, now: Date())
        case "csr":
            // CSRs and the PEM keys parks and the operator hand in.
            _ = try? SigningRequest(pem: text)
            _ = try? Ed25519PEM.parsePrivateKey(pem: text)
            _ = try? Ed25519PEM.parsePublicKey(pem: text)
        case "json-bodies":
            decodeAll(data)
        case "manifests":
            _ = try? ProductCatalog.load(data)
            _ = try? StrictJSON.decode(ParkManifest.self, from: data)
            _ = try? StrictJSON.decode(FederationManifest.self, from: data)
            _ = try? StrictJSON.decode(PromotionsManifest.self, from: data)
        case "values":
            // Query parameters and command-line values.
            if let day = try? CivilDay(text) { precondition((try? CivilDay(day.description)) == day, "CivilDay round trip") }
            if let park = try? ParkID(text) { precondition(park.rawValue == text) }
            _ = try? Principal(parsing: text)
            _ = Principal(uri: text)
            for kind in IdentityDocument.Kind.allCases {
                if let document = try? IdentityDocument(kind: kind, number: text) {
                    precondition(!document.maskedNumber.isEmpty && document.maskedNumber.count == document.number.count, "mask keeps the length")
                }
            }
            _ = Masking.name(text)
            _ = Masking.phone(text)
        case "checkpoint":
            _ = try? Checkpoint.verify(note: text, key: hubKey.publicKey)
        case "trust-list":
            _ = try? TrustList.verify(jws: text, hubKey: hubKey.publicKey)
        case "sealed":
            _ = try? HolderSealing.open(text, with: sealKey, purpose: HolderRef.sealPurpose)
        case "bank-statement":
            // Bank statements clearing staff import: camt.053 XML and the CSV form; amounts exact and positive.
            for statement in [try? BankStatement.camt053(data, currency: "CNY"), try? BankStatement.csv(text, id: "F", account: "A", currency: "CNY")] {
                for entry in statement?.entries ?? [] { precondition(entry.amountMinor >= 0 && !entry.entryRef.isEmpty, "a read entry is whole") }
            }
            if let minor = try? BankStatement.minorUnits(text) {
                precondition(minor >= 0 && (try? BankStatement.minorUnits(PaymentRun.amount(minor, currency: "CNY"))) == minor, "amount round trip")
            }
        default:
            fatalError("unknown fuzz target \(target); one of \(names.joined(separator: ", "))")
        }
    }

    /// The request bodies the hub and the node agent decode strictly.
    static func decodeAll(_ data: Data) {
        _ = try? StrictJSON.decode(EnrollmentRequest.self, from: data)
        _ = try? StrictJSON.decode(IngestRequest.self, from: data)
        _ = try? StrictJSON.decode(RegisterCardRequest.self, from: data)
        _ = try? StrictJSON.decode(LoadRequest.self, from: data)
        _ = try? StrictJSON.decode(HoldRequest.self, from: data)
        _ = try? StrictJSON.decode(PassSaleRequest.self, from: data)
        _ = try? StrictJSON.decode(GateScanRequest.self, from: data)
        _ = try? StrictJSON.decode(StockOrder.self, from: data)
        _ = try? StrictJSON.decode(StockSaleRequest.self, from: data)
        _ = try? StrictJSON.decode(StockVoidRequest.self, from: data)
        _ = try? StrictJSON.decode(PassChangeRequest.self, from: data)
        _ = try? StrictJSON.decode(MemberEnrollRequest.self, from: data)
        _ = try? StrictJSON.decode(MemberRecognitionRequest.self, from: data)
        _ = try? StrictJSON.decode(MemberLinkRequest.self, from: data)
        _ = try? StrictJSON.decode(SettlementRunRequest.self, from: data)
        _ = try? StrictJSON.decode(RedeemRequest.self, from: data)
        _ = try? StrictJSON.decode(RenewalRequest.self, from: data)
    }

    /// A fixed Ed25519 key (the RFC 8037 example), so that runs are reproducible.
    static let fixedKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
        -----END PRIVATE KEY-----
        """
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let target = ProcessInfo.processInfo.environment["PARKFED_FUZZ_TARGET"] ?? "jws"
    FuzzTargets.run(target, Data(bytes: start, count: count))
    return 0
}

#if FUZZING
    /// SwiftPM links an executable's entry point as `<module>_main`; under libFuzzer that entry point hands over to
    /// libFuzzer's driver with our callback.
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    @_cdecl("parkfed_fuzz_main")
    func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var arguments = argv
        return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
            guard let data else { return fuzzOneInput(UnsafeRawPointer(bitPattern: 1)!, 0) }
            return fuzzOneInput(UnsafeRawPointer(data), size)
        }
    }
#else
    /// Without libFuzzer (a normal build): replays files through a target, e.g. a crash a fuzzer found, or the seed
    /// corpus: `parkfed-fuzz <target> <file>...`.
    @main
    struct FuzzReplay {
        static func main() throws {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let target = arguments.first, FuzzTargets.names.contains(target) else {
                print("usage: parkfed-fuzz <\(FuzzTargets.names.joined(separator: "|"))> FILE... (or build with scripts/fuzz for libFuzzer)")
                return
            }
            var count = 0
            for path in arguments.dropFirst() {
                var isDirectory: ObjCBool = false
                let files =
                    FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                    ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { (path as NSString).appendingPathComponent($0) } : [path]
                for file in files {
                    FuzzTargets.run(target, try Data(contentsOf: URL(fileURLWithPath: file)))
                    count += 1
                }
            }
            print("\(target): \(count) input(s) replayed without a failure")
        }
    }
#endif
