import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedPKI
import ParkFedProtocol
import ParkFedTesting
import Testing
import X509

/// Enrollment over the real HTTPS endpoint, with CSRs made by `openssl req` and sent by `curl`.
@Suite struct EnrollmentTests {
    static func opensslCSR(in directory: TemporaryDirectory, name: String, keyType: String, subject: String) async throws -> String {
        let keyPath = directory.file("\(name).key"), csrPath = directory.file("\(name).csr")
        var arguments = ["req", "-new", "-nodes", "-keyout", keyPath, "-subj", subject, "-out", csrPath]
        arguments += keyType == "ed25519" ? ["-newkey", "ed25519"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        let result = try await ExternalTool.run("openssl", arguments)
        guard result.succeeded else { throw TestSupportError("openssl req failed: \(result.stderr)") }
        return try String(contentsOfFile: csrPath, encoding: .utf8)
    }

    static func body(token: String, csr: String, signingKey: String = SigningKey().publicKey.base64URL, park: String? = nil) -> String {
        let data = try! StrictJSON.encoder.encode(EnrollmentRequest(token: token, csr: csr, signingKey: signingKey, park: park))
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: ["p256", "ed25519"])
    func opensslCSRSentByCurlEnrolls(keyType: String) async throws {
        try await TestFederation.run { federation in
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P001"), name: "West Lake")
            let csr = try await Self.opensslCSR(in: federation.directory, name: "p1-\(keyType)", keyType: keyType, subject: "/CN=P001")
            let reply = try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: token, csr: csr))
            #expect(reply.httpStatus == 201, "\(reply.body)")
            let response = try StrictJSON.decoder.decode(CertificateResponse.self, from: Data(reply.body.utf8))
            #expect(response.principal == "park:P001")
            let chain = try Certificate.parseChain(pem: response.certificateChain)
            #expect(chain.count == 2)
            #expect(chain[0].federationPrincipal == .park(try ParkID("P001")))
            let lifetime = chain[0].notValidAfter.timeIntervalSince(Date())
            #expect(abs(lifetime - 90 * 86_400) < 120)
            // openssl agrees the chain leads to the federation root.
            let certificatePath = federation.directory.file("p1-\(keyType).pem")
            try response.certificateChain.write(toFile: certificatePath, atomically: true, encoding: .utf8)
            let verify = try await ExternalTool.run("openssl", ["verify", "-CAfile", federation.caFile, "-purpose", "sslclient", certificatePath])
            #expect(verify.succeeded, "\(verify.stdout) \(verify.stderr)")
            let text = try await ExternalTool.run("openssl", ["x509", "-in", certificatePath, "-noout", "-ext", "subjectAltName,extendedKeyUsage"])
            #expect(text.stdout.contains("URI:urn:parkfed:park:P001"))
            #expect(text.stdout.contains("TLS Web Client Authentication"))
        }
    }

    @Test func aUsedTokenIsRefused() async throws {
        try await TestFederation.run { federation in
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P001"), name: "West Lake")
            let csr = try await Self.opensslCSR(in: federation.directory, name: "a", keyType: "p256", subject: "/CN=P001")
            #expect(try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: token, csr: csr)).httpStatus == 201)
            let csr2 = try await Self.opensslCSR(in: federation.directory, name: "b", keyType: "p256", subject: "/CN=P001")
            let again = try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: token, csr: csr2))
            #expect(again.httpStatus == 409)
            #expect(again.json["code"] as? String == "token_used")
            #expect(again.json["type"] as? String == "urn:parkfed:problem:token_used")
            await #expect(try federation.hub.store.certificates(of: .park(try ParkID("P001"))).count == 1)
        }
    }

    @Test func anExpiredTokenIsRefused() async throws {
        try await TestFederation.run { federation in
            let token = try await federation.hub.createEnrollmentToken(
                park: try ParkID("P001"), name: "West Lake", now: Date().addingTimeInterval(-25 * 3600))
            let csr = try await Self.opensslCSR(in: federation.directory, name: "a", keyType: "p256", subject: "/CN=P001")
            let reply = try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: token, csr: csr))
            #expect(reply.httpStatus == 401)
            #expect(reply.json["code"] as? String == "token_expired")
        }
    }

    @Test func aTokenForAnotherParkIsRefusedAndStaysUnused() async throws {
        try await TestFederation.run { federation in
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P001"), name: "West Lake")
            // The CSR names P002 ...
            let csr = try await Self.opensslCSR(in: federation.directory, name: "a", keyType: "p256", subject: "/CN=P002")
            let reply = try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: token, csr: csr))
            #expect(reply.httpStatus == 403)
            #expect(reply.json["code"] as? String == "token_for_other_park")
            // ... or the body does.
            let csr1 = try await Self.opensslCSR(in: federation.directory, name: "b", keyType: "p256", subject: "/CN=P001")
            let reply2 = try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: token, csr: csr1, park: "P002"))
            #expect(reply2.json["code"] as? String == "token_for_other_park")
            // The refusals spent nothing: the right park can still enroll with the token.
            #expect(try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: token, csr: csr1, park: "P001")).httpStatus == 201)
        }
    }

    @Test func aCSRWhoseSignatureDoesNotVerifyIsRefused() async throws {
        try await TestFederation.run { federation in
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P001"), name: "West Lake")
            let csr = try await Self.opensslCSR(in: federation.directory, name: "a", keyType: "p256", subject: "/CN=P001")
            // Flip one byte inside the signed part (the subject's CN) and re-encode.
            let derPath = federation.directory.file("a.der")
            _ = try await ExternalTool.run("openssl", ["req", "-in", federation.directory.file("a.csr"), "-outform", "DER", "-out", derPath])
            var der = try Data(contentsOf: URL(fileURLWithPath: derPath))
            let cn = Data("P001".utf8)
            let range = try #require(der.range(of: cn))
            der[range.lowerBound + 3] = UInt8(ascii: "2")
            let tampered =
                "-----BEGIN CERTIFICATE REQUEST-----\n" + der.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
                + "\n-----END CERTIFICATE REQUEST-----\n"
            #expect(tampered != csr)
            let reply = try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: token, csr: tampered))
            #expect(reply.httpStatus == 400)
            #expect(reply.json["code"] as? String == "bad_csr_signature")
        }
    }

    @Test(arguments: [
        ("not pem at all", "malformed_pem"),
        ("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "malformed_csr"),
        ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "malformed_pem"),
    ])
    func aMalformedPEMIsRefused(csr: String, code: String) async throws {
        try await TestFederation.run { federation in
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P001"), name: "West Lake")
            let reply = try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: token, csr: csr))
            #expect(reply.httpStatus == 400)
            #expect(reply.json["code"] as? String == code, "\(reply.body)")
        }
    }

    @Test func malformedBodiesGetProblemDetails() async throws {
        try await TestFederation.run { federation in
            for body in ["{", "[]", #"{"token":"x"}"#, #"{"token":"x","csr":"y","signing_key":"z","extra":1}"#] {
                let reply = try await federation.curl("/v1/enrollments", method: "POST", body: body)
                #expect(reply.httpStatus == 400, "\(body)")
                #expect(reply.json["code"] as? String == "invalid_body", "\(body): \(reply.body)")
            }
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P001"), name: "West Lake")
            let csr = try await Self.opensslCSR(in: federation.directory, name: "a", keyType: "p256", subject: "/CN=P001")
            let badKey = try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: token, csr: csr, signingKey: "short"))
            #expect(badKey.json["code"] as? String == "invalid_signing_key")
            let unknown = try await federation.curl("/v1/enrollments", method: "POST", body: Self.body(token: "pfe_nope", csr: csr))
            #expect(unknown.json["code"] as? String == "token_unknown")
        }
    }

    @Test func tokensAreStoredOnlyAsHashes() async throws {
        try await TestFederation.run { federation in
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P001"), name: "West Lake")
            let dump = try await federation.databaseDump()
            #expect(dump.succeeded && dump.stdout.contains("enrollment_tokens"), "\(dump.stderr)")
            #expect(!dump.stdout.contains(token))
            #expect(!dump.stdout.contains(String(token.dropFirst(4))))
        }
    }
}

/// The documented by-hand path (certs/park-enroll.sh: openssl + curl only) enrolls and then talks.
@Suite struct ByHandEnrollmentTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    @Test(arguments: ["p256", "ed25519"])
    func theCertsScriptEnrollsWithOpensslAndCurl(keyType: String) async throws {
        try await TestFederation.run { federation in
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P007"), name: "By Hand")
            let out = federation.directory.file("byhand-\(keyType)")
            let result = try await ExternalTool.run(
                "bash", [Self.root + "/certs/park-enroll.sh", federation.hubURL, federation.caFile, "P007", token, out, keyType])
            #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("URI:urn:parkfed:park:P007"))
            let reply = try await federation.curl("/v1/whoami", certificate: (out + "/park-cert.pem", out + "/park-key.pem"))
            #expect(reply.json["principal"] as? String == "park:P007", "\(reply.body) \(reply.stderr)")
            let mode = try FileManager.default.attributesOfItem(atPath: out + "/park-key.pem")[.posixPermissions] as? Int
            #expect(mode == 0o600)
            // The signing key openssl made is the one on the trust list.
            let list = try await federation.hub.currentTrustList()
            #expect(list.jws.count > 0)
            await #expect(try federation.hub.store.signingKeys().contains { $0.park.rawValue == "P007" })
        }
    }
}
