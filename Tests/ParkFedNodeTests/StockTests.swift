import Foundation
import ParkFedDomain
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Pre-printed stock: a batch ordered over the local API with its printer's CSV, a printed code refused until it is
/// sold, then entering at its own park and another, a voided code refused, and what cannot change refused.
@Suite struct StockTests {
    @Test func aPrintedBatchIsSoldAndRedeemedAndAVoidedCodeIsRefused() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let operatorDevice = try await p1.addDevice(name: "office-1", role: .operator)
            let window = try await p1.addDevice(name: "window-1", role: .window)
            let node1 = try await federation.serve(p1)

            // The operator orders three codes over the local API; the answer and the CSV name the same codes.
            let ordered = try await LocalPassAPITests.curl(
                node1, "/v1/stock/batches", token: operatorDevice.token, method: "POST",
                body: #"{"product":"JIANGNAN-3P","count":3}"#)
            #expect(ordered.status == 201, "\(ordered.body)")
            let batch = try StrictJSON.decode(StockBatch.self, from: Data(ordered.body.utf8))
            #expect(batch.count == 3 && batch.firstSerial.hasPrefix("P001-\(batch.batch)-") && batch.lastSerial.hasSuffix("-000003"))
            let csv = try await LocalPassAPITests.curl(node1, "/v1/stock/batches/\(batch.batch)/codes.csv", token: operatorDevice.token)
            #expect(csv.status == 200 && csv.contentType.hasPrefix("text/csv") && csv.body == batch.csv)
            let rows = csv.body.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
            #expect(rows.count == 4 && rows[0] == ["serial", "pass_id", "product", "category", "valid_from", "valid_until", "code"])
            #expect(Set(rows.dropFirst().map { $0[6] }).count == 3 && rows.dropFirst().allSatisfy { $0.count == 7 })
            let codes = rows.dropFirst().map { (serial: $0[0], code: $0[6]) }
            let printed = try PassCode(parsing: codes[0].code)
            #expect(printed.isStock && printed.payload.name.isEmpty && printed.issuer.rawValue == "P001")
            // A window cannot order stock; the operator device cannot sell it.
            #expect(
                try await LocalPassAPITests.curl(
                    node1, "/v1/stock/batches", token: window.token, method: "POST",
                    body: #"{"product":"JIANGNAN-3P","count":3}"#
                ).status == 403)

            // Unsold: refused at its own park and, through the hub, at another.
            #expect(try await PassTests.scan(p1, codes[0].code).reason == "not_activated")
            #expect(try await PassTests.scan(p2, codes[0].code).reason == "not_activated")

            // Sold at the window (activated): the printed code itself now enters, here and elsewhere.
            let saleBody = #"{"channel":"window","holder":{"name":"王五","id_type":"resident_id","id_number":"430102199003071234"}}"#
            let sold = try await LocalPassAPITests.curl(node1, "/v1/stock/\(codes[0].serial)/sale", token: window.token, method: "POST", body: saleBody)
            #expect(sold.status == 201, "\(sold.body)")
            let sale = try StrictJSON.decode(PassSaleResponse.self, from: Data(sold.body.utf8))
            #expect(sale.code == codes[0].code && sale.stockSerial == codes[0].serial && sale.priceMinor == 29_900 && sale.holderNameMasked == "王*")
            #expect(try await PassTests.scan(p1, codes[0].code).decision == .allow)
            try await p1.deliverOutbox()
            let elsewhere = try await PassTests.scan(p2, codes[0].code)
            #expect(elsewhere.decision == .allow && elsewhere.mode == .online)
            await #expect(try PassTests.obligations(federation.hub) == ["P001→P002 6000"])
            // Sold once only.
            let twice = try await LocalPassAPITests.curl(node1, "/v1/stock/\(codes[0].serial)/sale", token: window.token, method: "POST", body: saleBody)
            #expect(twice.status == 409 && twice.body.contains("stock_sold"))

            // Voided: refused at the gate with its own reason; neither sold nor voided again by mistake.
            let voided = try await LocalPassAPITests.curl(
                node1, "/v1/stock/\(codes[1].serial)/void", token: operatorDevice.token, method: "POST",
                body: #"{"reason":"torn at the printer"}"#)
            #expect(voided.status == 204)
            let refused = try await PassTests.scan(p1, codes[1].code)
            #expect(refused.reason == "voided" && refused.message == "This printed ticket has been voided.")
            #expect(refused.localized(.zh).message == "此纸质票已作废。")
            #expect(
                try await LocalPassAPITests.curl(
                    node1, "/v1/stock/\(codes[1].serial)/sale", token: window.token, method: "POST",
                    body: saleBody
                ).body.contains("stock_void"))
            await #expect(throws: Refusal.self) { try await p1.voidStock(serials: [codes[0].serial], reason: "sold one") }
            await #expect(throws: Refusal.self) { try await p1.voidStock(serials: ["P001-NOPE-000001"], reason: "unknown") }

            // Offline, another park cannot know a printed code was sold: it refuses it rather than guess.
            let third = try await p1.sellStock(serial: codes[2].serial, StockSaleRequest(channel: "window", holder: CategoryTests.holder))
            try await p1.deliverOutbox()
            p2.assumeHubDown()
            let offline = try await PassTests.scan(p2, third.code)
            #expect(offline.reason == "not_activated" && offline.mode == .offline)
        }
    }
}

/// The operator's command line on the data directory of a node that serves: order with the CSV to a file, list, void.
@Suite struct StockCommandLineTests {
    @Test func theOperatorOrdersListsAndVoidsStockFromTheCommandLine() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001"])
            let p1 = agents[0]
            let parkfed = try BackgroundProcess.parkfedExecutable()
            let data = p1.directory.path
            let csvPath = federation.directory.file("stock.csv")
            let ordered = try await ExternalTool.run(
                parkfed,
                [
                    "node", "stock", "order", "--data", data, "--product", "JIANGNAN-3P", "--category", "student",
                    "--count", "4", "--out", csvPath,
                ])
            #expect(ordered.succeeded, "\(ordered.stderr)")
            let lines = try String(contentsOfFile: csvPath, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 5 && lines.dropFirst().allSatisfy { $0.contains(",JIANGNAN-3P,student,") })
            let serials = lines.dropFirst().map { String($0.split(separator: ",")[0]) }
            // The serving agent sees the CLI's batch at once: a printed code is refused, a sold one admitted.
            let code = String(lines[2].split(separator: ",")[6])
            #expect(try await PassTests.scan(p1, code).reason == "not_activated")
            let sale = try await p1.sellStock(serial: serials[1], StockSaleRequest(channel: "window", holder: CategoryTests.holder))
            #expect(sale.priceMinor == 19_900 && sale.category == "student")
            let entry = try await PassTests.scan(p1, code)
            #expect(entry.decision == .allow && entry.checkProof == "student card")

            let voided = try await ExternalTool.run(parkfed, ["node", "stock", "void", "--data", data, "--reason", "water damage", serials[2], serials[3]])
            #expect(voided.succeeded, "\(voided.stderr)")
            let refused = try await ExternalTool.run(parkfed, ["node", "stock", "void", "--data", data, "--reason", "oops", serials[1]])
            #expect(!refused.succeeded && refused.stderr.contains("refund it instead"))
            let listed = try await ExternalTool.run(parkfed, ["node", "stock", "list", "--data", data])
            #expect(listed.succeeded && listed.stdout.contains("JIANGNAN-3P") && listed.stdout.contains("        1       1       2"), "\(listed.stdout)")
            let bad = try await ExternalTool.run(parkfed, ["node", "stock", "order", "--data", data, "--product", "JIANGNAN-3P", "--count", "0"])
            #expect(!bad.succeeded && bad.stderr.contains("--count is 1-10000"))
        }
    }
}
