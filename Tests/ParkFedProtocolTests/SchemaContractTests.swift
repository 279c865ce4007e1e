import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// The JSON Schemas in schemas/ are the contract: everything we send is checked against them by Python
/// `jsonschema`, an implementation that is not ours, and our JWS by `jwcrypto`.
@Suite struct SchemaContractTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func schema(_ name: String) -> String { root + "/schemas/\(name).schema.json" }

    static func validate(_ pairs: [(schema: String, instance: String)]) async throws -> ExternalTool.Result {
        try await ExternalTool.run("python3", [root + "/Tests/verifiers/validate_schemas.py"] + pairs.map { "\($0.schema)=\($0.instance)" })
    }

    @Test func everyMessageTheHubAndNodeExchangeMatchesItsSchema() async throws {
        try await TestFederation.run { federation in
            let directory = federation.directory
            var pairs: [(String, String)] = []
            func keep(_ name: String, _ json: String, schema: String) throws {
                let path = directory.file("\(name).json")
                try json.write(toFile: path, atomically: true, encoding: .utf8)
                pairs.append((Self.schema(schema), path))
            }
            // Enrollment request and response, as a park sends them with curl.
            let token = try await federation.hub.createEnrollmentToken(park: try ParkID("P001"), name: "West Lake")
            let keyPath = directory.file("p.key"), csrPath = directory.file("p.csr")
            _ = try await ExternalTool.run(
                "openssl",
                [
                    "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-keyout", keyPath, "-subj", "/CN=P001", "-out", csrPath,
                ])
            let request = String(
                decoding: try StrictJSON.encoder.encode(
                    EnrollmentRequest(
                        token: token, csr: try String(contentsOfFile: csrPath, encoding: .utf8), signingKey: SigningKey().publicKey.base64URL, park: "P001")),
                as: UTF8.self)
            try keep("enrollment-request", request, schema: "enrollment-request")
            let enrolled = try await federation.curl("/v1/enrollments", method: "POST", body: request)
            #expect(enrolled.httpStatus == 201)
            try keep("certificate-response", enrolled.body, schema: "certificate-response")
            let again = try await federation.curl("/v1/enrollments", method: "POST", body: request)
            try keep("problem-token-used", again.body, schema: "problem")
            try keep("problem-no-cert", try await federation.curl("/v1/whoami").body, schema: "problem")

            let agent = try await federation.enroll("P002")
            federation.adopt(agent)
            let credentials = (agent.directory.tlsCertificate, agent.directory.tlsKey)
            try keep("whoami", try await federation.curl("/v1/whoami", certificate: credentials).body, schema: "whoami")
            try keep("readyz", try await federation.curl("/readyz", certificate: credentials).body, schema: "health")
            try keep("problem-404", try await federation.curl("/v1/none", certificate: credentials).body, schema: "problem")
            let renewal = String(
                decoding: try StrictJSON.encoder.encode(RenewalRequest(csr: try String(contentsOfFile: csrPath, encoding: .utf8))), as: UTF8.self)
            try keep("renewal-request", renewal, schema: "renewal-request")
            let jws = try await federation.curl("/v1/trust-list", certificate: credentials).body
            let payload = try JWS(compact: jws).payload
            try keep("trust-list", String(decoding: payload, as: UTF8.self), schema: "trust-list")
            try await agent.refreshTrustList()
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            try await keep("node-status", String(decoding: try encoder.encode(agent.status()), as: UTF8.self), schema: "node-status")
            // Ingest and the log.
            let batch = try (0..<12).map { try Assertions.sign(SampleAssertions.data($0), park: agent.park, key: agent.signingKey).1.compact }
            let ingestRequest = String(decoding: try StrictJSON.encoder.encode(IngestRequest(assertions: batch + ["garbage"])), as: UTF8.self)
            try keep("ingest-request", ingestRequest, schema: "ingest-request")
            let ingest = try await federation.curl("/v1/assertions", certificate: credentials, method: "POST", body: ingestRequest)
            #expect(ingest.httpStatus == 200)
            try keep("ingest-response", ingest.body, schema: "ingest-response")
            try keep(
                "inclusion-proof", try await federation.curl("/v1/log/proofs/inclusion?index=3&tree_size=12", certificate: credentials).body,
                schema: "inclusion-proof")
            try keep(
                "consistency-proof", try await federation.curl("/v1/log/proofs/consistency?first=5&second=12", certificate: credentials).body,
                schema: "consistency-proof")
            // Every assertion type's payload against its own schema.
            for (i, compact) in batch.prefix(10).enumerated() {
                let jws = try JWS(compact: compact)
                let payload = try Assertions.decodePayload(jws)
                let path = directory.file("assertion-\(i).json")
                try jws.payload.write(to: URL(fileURLWithPath: path))
                pairs.append((Self.root + "/schemas/assertions/\(payload.type.rawValue).schema.json", path))
            }
            // One-card stored value.
            @discardableResult
            func cardCall(_ path: String, _ body: (some Encodable)?, request: String, response: String) async throws -> String {
                var text: String?
                if let body {
                    text = String(decoding: try StrictJSON.encoder.encode(body), as: UTF8.self)
                    try keep(request + "-" + String(pairs.count), text!, schema: request)
                }
                let reply = try await federation.curl(
                    path, certificate: credentials, method: body == nil && !path.hasSuffix("capture") ? "GET" : "POST", body: text)
                #expect((200..<300).contains(reply.httpStatus), "\(path): \(reply.body)")
                try keep(response + "-" + String(pairs.count), reply.body, schema: response)
                return reply.body
            }
            let park = agent.park.rawValue
            let card9 = try SimulatedCard(
                try StrictJSON.decoder.decode(
                    CardView.self,
                    from: Data(
                        try await cardCall("/v1/cards", RegisterCardRequest(cardID: "IC-9", kind: .ic), request: "card-register-request", response: "card").utf8
                    )))
            try await cardCall(
                "/v1/cards/IC-9/loads", LoadRequest(loadID: "L1", promotion: "LOAD1000GET200-OWN"), request: "card-load-request", response: "card-load")
            try await cardCall(
                "/v1/cards/IC-9/holds",
                HoldRequest(requestID: "R1", amountMinor: 12_000, cardProof: card9.proof(.hold, amountMinor: 12_000, park: park, requestID: "R1")),
                request: "card-hold-request", response: "card-authorisation")
            try await cardCall("/v1/cards/IC-9/holds/R1/capture", Optional<String>.none, request: "", response: "card-authorisation")
            try await cardCall(
                "/v1/cards/IC-9/holds/R1/refunds",
                CardRefundRequest(refundID: "F1", amountMinor: 100, cardProof: card9.proof(.refund, amountMinor: 100, park: park, requestID: "F1")),
                request: "card-refund-request", response: "card-authorisation")
            try await cardCall("/v1/cards/IC-9/statement", Optional<String>.none, request: "", response: "card-statement")
            try await cardCall("/v1/cards", RegisterCardRequest(cardID: "IC-10", kind: .ic), request: "card-register-request", response: "card")
            try await cardCall(
                "/v1/cards/IC-9/block",
                BlockCardRequest(reason: "damaged", replacementCardID: "IC-10", cardProof: card9.proof(.move, park: park, requestID: "IC-10")),
                request: "card-block-request", response: "card")
            let refused = try await federation.curl(
                "/v1/cards/IC-9/holds", certificate: credentials, method: "POST",
                body: #"{"request_id":"R2","amount_minor":1,"card_proof":{"counter":999,"cryptogram":"AAAAAAAAAAAAAAAAAAAAAA"}}"#)
            try keep("problem-card", refused.body, schema: "problem")
            pairs.append((Self.schema("promotions"), Self.root + "/partners/promotions.json"))
            // The example federation.
            pairs.append((Self.schema("federation-manifest"), Self.root + "/partners/federation.json"))
            pairs.append((Self.schema("reseller-manifest"), Self.root + "/partners/resellers.json"))
            for park in try PartnerCatalog.load(directory: Self.root + "/partners").parks {
                pairs.append((Self.schema("park-manifest"), Self.root + "/partners/parks/\(park.id).json"))
            }

            let result = try await Self.validate(pairs)
            #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.split(separator: "\n").filter { $0.hasPrefix("valid ") }.count == pairs.count)
        }
    }

    @Test func everyPassMessageMatchesItsSchema() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let directory = federation.directory
            var pairs: [(String, String)] = []
            func keep(_ name: String, _ value: some Encodable, schema: String) throws {
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                let path = directory.file("\(name)-\(pairs.count).json")
                try encoder.encode(value).write(to: URL(fileURLWithPath: path))
                pairs.append((Self.schema(schema), path))
            }
            pairs.append((Self.schema("products"), Self.root + "/partners/products.json"))
            let credentials = (p1.directory.tlsCertificate, p1.directory.tlsKey)
            let products = try await federation.curl("/v1/products", certificate: credentials)
            try products.body.write(toFile: directory.file("products.json"), atomically: true, encoding: .utf8)
            pairs.append((Self.schema("products"), directory.file("products.json")))

            let saleRequest = PassSaleRequest(
                product: "JIANGNAN-3P", channel: "window",
                holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X"))
            try keep("sale-request", saleRequest, schema: "pass-sale-request")
            let sale = try await p1.sellPass(saleRequest)
            try keep("sale-response", sale, schema: "pass-sale-response")
            let code = try PassCode(parsing: sale.code)
            try code.jws.payload.write(to: URL(fileURLWithPath: directory.file("code.json")))
            pairs.append((Self.schema("pass-code-payload"), directory.file("code.json")))
            let scan = GateScanRequest(code: sale.code, gate: "G1")
            try keep("scan", scan, schema: "gate-scan-request")
            try keep("allow", try await p2.scan(scan), schema: "gate-decision")
            try keep("allow", try await p2.scan(scan), schema: "gate-decision")
            try keep("deny", try await p2.scan(scan), schema: "gate-decision")
            // Emergency modes: the request, a fast-check and an evacuation answer, the status naming the mode.
            try keep("mode-request", GateModeRequest(mode: .fastCheck, reason: "peak"), schema: "gate-mode-request")
            try keep(
                "reissue-order", PassReissueOrder(holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")),
                schema: "pass-reissue-order")
            try await p2.setMode(.fastCheck, by: "test", reason: "peak")
            try keep("fast-check", try await p2.scan(scan), schema: "gate-decision")
            try await p2.setMode(.evacuation, by: "test", reason: "drill")
            try keep("evacuation", try await p2.scan(scan), schema: "gate-decision")
            try await keep("status-with-mode", p2.status(), schema: "node-status")
            try await p2.setMode(.normal, by: "test", reason: "over")
            // Categories and groups: the sale, the code carrying them, the gate's answer with the proof to check or the heads.
            let visitor = HolderInput(name: "王五", idType: "resident_id", idNumber: "430102199003071234")
            let groupRequest = PassSaleRequest(product: "JIANGNAN-3P", channel: "ota", holder: visitor, category: "group", heads: 12)
            try keep("group-sale-request", groupRequest, schema: "pass-sale-request")
            let group = try await p1.sellPass(groupRequest)
            try keep("group-sale", group, schema: "pass-sale-response")
            try PassCode(parsing: group.code).jws.payload.write(to: URL(fileURLWithPath: directory.file("group-code.json")))
            pairs.append((Self.schema("pass-code-payload"), directory.file("group-code.json")))
            try keep("group-allow", try await p2.scan(GateScanRequest(code: group.code, gate: "G1")), schema: "gate-decision")
            let child = try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: visitor, category: "child"))
            try keep("child-allow", try await p2.scan(GateScanRequest(code: child.code, gate: "G1")), schema: "gate-decision")
            // Pre-printed stock: the order, the batch with its CSV, a printed code, its sale and a void.
            let order = StockOrder(product: "JIANGNAN-3P", category: "student", count: 3)
            try keep("stock-order", order, schema: "stock-order")
            let batch = try await p1.orderStock(order)
            try keep("stock-batch", batch, schema: "stock-batch")
            let printed = try await #require(try p1.store.stockCode(serial: batch.lastSerial))
            try PassCode(parsing: printed.code).jws.payload.write(to: URL(fileURLWithPath: directory.file("stock-code.json")))
            pairs.append((Self.schema("pass-code-payload"), directory.file("stock-code.json")))
            let stockSale = StockSaleRequest(channel: "window", holder: visitor)
            try keep("stock-sale-request", stockSale, schema: "stock-sale-request")
            try keep("stock-sale", try await p1.sellStock(serial: batch.firstSerial, stockSale), schema: "pass-sale-response")
            try keep("stock-void", StockVoidRequest(reason: "torn at the printer"), schema: "stock-void-request")
            let redeemed = PassRedeemed(passID: sale.passID, issuerPark: p1.park, gate: "G9", enteredAt: Date(), offline: false, code: sale.code)
            let redeem = RedeemRequest(assertion: try Assertions.sign(.passRedeemed(redeemed), park: p2.park, key: p2.signingKey).1.compact)
            try keep("redeem-request", redeem, schema: "redeem-request")
            try keep("redeem-response", try await p2.hub.json(.POST, "/v1/passes/entries", body: redeem, as: RedeemResponse.self), schema: "redeem-response")
            try await p1.deliverOutbox()
            try keep("pass-view", try await p1.hub.json(.GET, "/v1/passes/\(sale.passID)", body: Optional<String>.none, as: PassView.self), schema: "pass-view")
            let transfer = PassTransferOrder(newHolder: HolderInput(name: "李四", idType: "passport", idNumber: "E12345678"), resalePriceMinor: 20_000)
            try keep("transfer-order", transfer, schema: "pass-transfer-order")
            try keep("transferred", try await p1.transferPass(sale.passID, transfer), schema: "pass-sale-response")
            try keep("refund-order", PassRefundOrder(reason: "rain"), schema: "pass-refund-order")
            try keep("refund-result", try await p1.refundPass(sale.passID, reason: "rain"), schema: "pass-refund-result")
            let change = PassChangeRequest(assertion: redeem.assertion)
            try keep("change", change, schema: "pass-change-request")
            try keep(
                "revocations", try await p2.hub.json(.GET, "/v1/passes/revocations?after=0", body: Optional<String>.none, as: PassRevocations.self),
                schema: "pass-revocations")
            try keep(
                "conflicts", try await p2.hub.json(.GET, "/v1/passes/conflicts", body: Optional<String>.none, as: PassConflicts.self),
                schema: "pass-conflicts")
            // Members.
            let member = try await p1.enrollMember(
                NodeAgent.MemberEnrollment(
                    holder: HolderInput(name: "王五", idType: "resident_id", idNumber: "430102199003071234"),
                    phone: "13900000000", consentVersion: "2026-01"))
            try keep("member", member, schema: "member")
            try keep("member-link", MemberLinkRequest(localMemberNumber: "L-1", code: "M1.M-1.29000000.AAAAAAAAAAAAAAAAAAAAAA"), schema: "member-link-request")
            let secret = SymmetricKey(data: try #require(member.codeSecret.flatMap { Base64URL.decode($0) }))
            let recognition = MemberRecognitionRequest(code: MemberCode.make(memberID: member.memberID, secret: secret, at: Date()))
            try keep("member-recognition", recognition, schema: "member-recognition-request")
            try keep("member-recognised", try await p2.recognizeMember(recognition), schema: "member")
            try keep(
                "member-recognition-card",
                MemberRecognitionRequest(cardID: "IC-0001", requestID: "ID-1", cardProof: CardProof(counter: 3, cryptogram: "AAAAAAAAAAAAAAAAAAAAAA")),
                schema: "member-recognition-request")
            try keep(
                "member-enroll", MemberEnrollRequest(sealed: "h1.abc.def", consentVersion: "2026-01", consentedAt: Date()), schema: "member-enroll-request")
            try keep(
                "member-enroll-link",
                MemberEnrollRequest(
                    sealed: "h1.abc.def", consentVersion: "2026-01", consentedAt: Date(), localMemberNumber: "L-2",
                    memberCode: "M1.M-1.29000000.AAAAAAAAAAAAAAAAAAAAAA"), schema: "member-enroll-request")
            // Settlement: the run request, the export (clearing and park views), payments, the list.
            let today = federation.hub.passes.calendar.day(of: Date())
            try keep("run", SettlementRunRequest(day: today.description), schema: "settlement-run-request")
            let record = try await federation.hub.runSettlement(day: today, now: federation.hub.endOfDay(today).addingTimeInterval(1))
            try await keep("export", try federation.hub.settlementExport(record), schema: "settlement-export")
            try keep(
                "export-park", try await p2.hub.json(.GET, "/v1/settlement/batches/\(record.id)", body: Optional<String>.none, as: SettlementExport.self),
                schema: "settlement-export")
            _ = try await federation.hub.approveSettlement(record.id, by: .clearing("C01"))
            let payments = SettlementPaymentsRequest(payments: [.init(park: "P001", reference: "BANK-1"), .init(park: "P002", reference: "BANK-2")])
            try keep("payments", payments, schema: "settlement-payments-request")
            try await keep(
                "paid", try federation.hub.settlementExport(try federation.hub.recordSettlementPayments(record.id, payments.payments, by: .clearing("C01"))),
                schema: "settlement-export")
            try keep(
                "list", try await p2.hub.json(.GET, "/v1/settlement/batches", body: Optional<String>.none, as: SettlementList.self), schema: "settlement-list")
            let result = try await Self.validate(pairs)
            #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.split(separator: "\n").filter { $0.hasPrefix("valid ") }.count == pairs.count)
        }
    }

    @Test func swiftAndTheSchemasRefuseTheSameUnknownMembers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let key = SigningKey()
        for type in AssertionType.allCases {
            let index = AssertionType.allCases.firstIndex(of: type)!
            let (_, jws) = try Assertions.sign(SampleAssertions.data(index), park: try ParkID("P001"), key: key)
            #expect(try Assertions.decodePayload(jws).type == type)
            var object = try JSONSerialization.jsonObject(with: jws.payload) as! [String: Any]
            var data = object["data"] as! [String: Any]
            data["surprise"] = 1
            object["data"] = data
            let bad = try JSONSerialization.data(withJSONObject: object)
            let path = directory.file("\(type.rawValue).json")
            try bad.write(to: URL(fileURLWithPath: path))
            let result = try await Self.validate([(Self.root + "/schemas/assertions/\(type.rawValue).schema.json", path)])
            #expect(!result.succeeded, "the schema of \(type.rawValue) accepted an unknown member")
            let forged = try JWS.sign(payload: bad, kid: key.kid, type: type.jwsType, with: key)
            #expect(throws: WireError.self) { try Assertions.decodePayload(forged) }
        }
    }

    @Test func jwcryptoVerifiesEveryAssertionType() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let key = SigningKey()
        for i in 0..<AssertionType.allCases.count {
            let (_, jws) = try Assertions.sign(SampleAssertions.data(i), park: try ParkID("P001"), key: key)
            let path = directory.file("a\(i).jws")
            try jws.compact.write(toFile: path, atomically: true, encoding: .utf8)
            let verified = try await ExternalTool.run("python3", [Self.root + "/Tests/verifiers/verify_jws.py", path, key.publicKey.base64URL])
            #expect(verified.succeeded, "\(verified.stdout)\(verified.stderr)")
            #expect(verified.stdout.contains("\"park\":\"P001\""))
        }
    }

    @Test func theSchemaCheckCanFail() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("bad.json")
        try #"{"principal":"park:P001","extra":true}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await Self.validate([(Self.schema("whoami"), path)])
        #expect(!result.succeeded)
        #expect(result.stdout.contains("INVALID"))
    }

    @Test func jwcryptoVerifiesTheHubsTrustListAndRefusesAForgery() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let jws = try await federation.curl("/v1/trust-list", certificate: (agent.directory.tlsCertificate, agent.directory.tlsKey)).body
            let path = federation.directory.file("trust-list.jws")
            try jws.write(toFile: path, atomically: true, encoding: .utf8)
            let hubKey = federation.hub.signingKey.publicKey.base64URL
            let verified = try await ExternalTool.run("python3", [Self.root + "/Tests/verifiers/verify_jws.py", path, hubKey])
            #expect(verified.succeeded, "\(verified.stdout)\(verified.stderr)")
            #expect(verified.stdout.contains("\"parks\""))
            let wrongKey = try await ExternalTool.run("python3", [Self.root + "/Tests/verifiers/verify_jws.py", path, SigningKey().publicKey.base64URL])
            #expect(!wrongKey.succeeded)
        }
    }

    @Test func theOpenAPIDocumentIsValidAndNamesEveryEndpoint() async throws {
        let result = try await ExternalTool.run("python3", [Self.root + "/Tests/verifiers/validate_openapi.py", Self.root + "/schemas/openapi.yaml"])
        #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
        for path in [
            "/v1/enrollments", "/v1/certificates/renewals", "/v1/whoami", "/v1/trust-list", "/healthz", "/readyz", "/v1/status", "/v1/hub/whoami",
            "/v1/assertions", "/v1/log/checkpoint", "/v1/log/proofs/inclusion", "/v1/log/proofs/consistency", "/v1/log/entries/{index}", "/metrics",
            "/v1/cards", "/v1/cards/{card}", "/v1/cards/{card}/statement", "/v1/cards/{card}/loads", "/v1/cards/{card}/holds",
            "/v1/cards/{card}/holds/{request}/capture", "/v1/cards/{card}/holds/{request}/void", "/v1/cards/{card}/holds/{request}/refunds",
            "/v1/cards/{card}/block", "/v1/products", "/v1/passes/entries", "/v1/passes/revocations", "/v1/passes/conflicts",
            "/v1/passes/{pass}", "/v1/passes/{pass}/refund", "/v1/passes/{pass}/transfer", "/v1/sales", "/v1/sales/{pass}/qr.svg",
            "/v1/sales/{pass}/qr.png", "/v1/sales/{pass}/refund", "/v1/sales/{pass}/transfer", "/v1/gate/scans", "/v1/mode", "/v1/sales/{pass}/reissue",
            "/v1/revenue", "/v1/members/{member}/code",
            "/v1/settlement/batches", "/v1/settlement/batches/{batch}", "/v1/settlement/batches/{batch}/approve",
            "/v1/settlement/batches/{batch}/payments", "/v1/regulator/holders", "/v1/regulator/traffic", "/v1/regulator/sales",
            "/v1/members", "/v1/members/{member}", "/v1/members/{member}/links", "/v1/members/recognitions", "/v1/passes",
            "/v1/stock/batches", "/v1/stock/batches/{batch}/codes.csv", "/v1/stock/{serial}/sale", "/v1/stock/{serial}/void",
            "/v1/settlement/calendar", "/v1/settlement/batches/{batch}/files", "/v1/settlement/statements", "/v1/settlement/exceptions",
            "/v1/settlement/exceptions/{id}/resolve", "/v1/settlement/disputes", "/v1/settlement/disputes/{id}", "/v1/settlement/disputes/{id}/decision",
            "/v1/passes/{pass}/visitor-links", "/p/{token}", "/v1/sales/{pass}/visitor-link", "/c/{card}/{counter}/{proof}", "/octo/supplier",
            "/octo/products", "/octo/products/{id}", "/octo/availability", "/octo/availability/calendar", "/octo/bookings", "/octo/bookings/{uuid}",
            "/octo/bookings/{uuid}/extend", "/octo/bookings/{uuid}/confirm", "/octo/bookings/{uuid}/cancel", "/octo/webhooks", "/octo/statement",
            "/v1/gate/exits", "/v1/occupancy", "/v1/regulator/occupancy", "/v1/regulator/reports", "/v1/regulator/occupancy/feed",
            "/v1/regulator/endpoint", "/v1/capacity", "/v1/members/{member}/export", "/v1/members/{member}/erasure",
        ] {
            #expect(result.stdout.contains(" \(path)"), "\(path) is missing from openapi.yaml")
        }
    }

    @Test func partnerManifestsDecodeStrictly() throws {
        let catalog = try PartnerCatalog.load(directory: Self.root + "/partners")
        #expect(catalog.parks.count >= 3)
        #expect(throws: WireError.self) {
            try StrictJSON.decode(
                ParkManifest.self, from: Data(#"{"id":"P1X","name":"x","kind":"museum","city":"c","capacity":{"daily":1,"hourly":1},"colour":"red"}"#.utf8))
        }
    }
}
