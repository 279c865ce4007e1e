import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Each principal kind against each endpoint kind, over real mutual TLS with curl: parks write and read their own,
/// regulators only read records and reports, clearing staff see money, not identities.
@Suite struct AccessRuleTests {
    @Test func everyPrincipalKindGetsOnlyItsOwnKindOfEndpoint() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let sale = try await agents[0].sellPass(
                PassSaleRequest(
                    product: "JIANGNAN-3P", channel: "window",
                    holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")))
            #expect(try await agents[1].scan(GateScanRequest(code: sale.code, gate: "G1")).decision == .allow)
            try await agents[0].deliverOutbox()
            let today = federation.hub.passes.calendar.day(of: Date())
            let park = (agents[0].directory.tlsCertificate, agents[0].directory.tlsKey)
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "regulator")
            let clearing = try await federation.issueCertificate(for: .clearing("C01"), name: "clearing")
            let range = "from=\(today)&to=\(today)"
            let holder = "/v1/regulator/holders?id_type=resident_id&id_number=11010519491231002X&\(range)"
            // (method, path, body) → expected status for park, regulator, clearing.
            let cases: [(String, String, String?, [Int])] = [
                ("GET", holder, nil, [403, 200, 403]),
                ("GET", "/v1/regulator/traffic?\(range)", nil, [403, 200, 403]),
                ("GET", "/v1/regulator/sales?\(range)", nil, [403, 200, 403]),
                ("POST", "/v1/assertions", #"{"assertions":["x.y.z"]}"#, [200, 403, 403]),
                ("GET", "/v1/passes/\(sale.passID)", nil, [200, 403, 200]),
                ("POST", "/v1/settlement/batches", #"{"day":"\#(today.adding(days: -1))"}"#, [403, 403, 201]),
                ("GET", "/v1/passes/conflicts", nil, [200, 403, 200]),
                ("POST", "/v1/cards", #"{"card_id":"IC-A1","kind":"ic"}"#, [201, 403, 403]),
                ("GET", "/metrics", nil, [403, 403, 200]),
                // Members are parks' business: regulators and clearing staff can neither enroll nor look one up.
                ("POST", "/v1/members", #"{"sealed":"h1.abc.def","consent_version":"2026-01","consented_at":"2026-01-01T00:00:00Z"}"#, [400, 403, 403]),
                ("GET", "/v1/members/M-NOBODY", nil, [404, 403, 403]),
                (
                    "POST", "/v1/members/recognitions",
                    #"{"card_id":"NO-SUCH-CARD","request_id":"I1","card_proof":{"counter":1,"cryptogram":"AAAAAAAAAAAAAAAAAAAAAA"}}"#, [403, 403, 403]
                ),
                ("POST", "/v1/members/M-NOBODY/links", #"{"local_member_number":"L-1","code":"M1.M-NOBODY.1.AAAAAAAAAAAAAAAAAAAAAA"}"#, [404, 403, 403]),
            ]
            for (method, path, body, expected) in cases {
                for (index, credentials) in [park, regulator, clearing].enumerated() {
                    let reply = try await federation.curl(path, certificate: credentials, method: method, body: body)
                    #expect(
                        reply.httpStatus == expected[index], "\(["park", "regulator", "clearing"][index]) \(method) \(path): \(reply.httpStatus) \(reply.body)")
                }
            }
            // Regulators' reports: entries per park, day and hour against capacity; sales per park and day.
            let traffic = try await federation.curl("/v1/regulator/traffic?\(range)", certificate: regulator)
            let report = try JSONDecoder().decode(RegulatorTrafficReport.self, from: Data(traffic.body.utf8))
            #expect(report.days.map { "\($0.park) \($0.day) \($0.entries)/\($0.capacityDaily ?? 0)" } == ["P002 \(today) 1/30000"])
            #expect(report.days[0].hourly.reduce(0, +) == 1 && report.days[0].capacityHourly != nil)
            let sales = try JSONDecoder().decode(
                RegulatorSalesReport.self, from: Data(try await federation.curl("/v1/regulator/sales?\(range)", certificate: regulator).body.utf8))
            #expect(sales.days.map { "\($0.park) \($0.passes) \($0.amountMinor)" } == ["P001 1 29900"])
            for (name, body) in [
                ("regulator-traffic-report", traffic.body),
                ("regulator-sales-report", try await federation.curl("/v1/regulator/sales?\(range)", certificate: regulator).body),
            ] {
                let file = federation.directory.file("\(name).json")
                try body.write(toFile: file, atomically: true, encoding: .utf8)
                let valid = try await ExternalTool.run(
                    "python3", [Verifiers.path("validate_schemas.py"), Verifiers.repositoryRoot + "/schemas/\(name).schema.json=" + file])
                #expect(valid.succeeded, "\(valid.stdout)\(valid.stderr)")
            }
            // Every answered regulator query is recorded.
            await #expect(try federation.hub.store.regulatorQueries().count == 6)
        }
    }
}
