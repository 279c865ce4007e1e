import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Gates keep deciding while the hub is down; what they admitted reaches the hub when the link returns, and an
/// entry the hub would have refused is kept and reported as a conflict.
@Suite struct GateOfflineTests {
    @Test func withTheHubStoppedSameParkRepeatsAreRefusedOtherParksAdmitAndSyncReportsTheConflict() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let (p1, p2, p3) = (agents[0], agents[1], agents[2])
            let jiangnan = try await PassTests.sell(p1, "JIANGNAN-3P")
            let any2 = try await PassTests.sell(p1, "ANY2-OF-3")
            try await p1.deliverOutbox()
            // The pooled pass uses both its entries online, at P001 and P002.
            #expect(try await PassTests.scan(p1, any2.code).decision == .allow)
            #expect(try await PassTests.scan(p2, any2.code).decision == .allow)

            await federation.stopHub()
            let first = try await PassTests.scan(p3, jiangnan.code)
            #expect(first.decision == .allow && first.mode == .offline && first.entriesLeft == 0)
            let repeated = try await PassTests.scan(p3, jiangnan.code, gate: "G2")
            #expect(repeated.decision == .deny && repeated.reason == "already_used" && repeated.mode == .offline)
            let crossPark = try await PassTests.scan(p2, jiangnan.code)
            #expect(crossPark.decision == .allow && crossPark.mode == .offline)
            // P003 cannot know that the pooled pass is used up elsewhere: it admits offline.
            let unknowing = try await PassTests.scan(p3, any2.code)
            #expect(unknowing.decision == .allow && unknowing.mode == .offline)
            let (pending3, pending2) = (await p3.status().outbox.pending, await p2.status().outbox.pending)
            #expect(pending3 == 2 && pending2 == 1)

            try await federation.startHub()
            try await p2.deliverOutbox()
            try await p3.deliverOutbox()
            // Nothing is lost or refused: every offline entry is in the log.
            let (after3, after2) = (await p3.status().outbox, await p2.status().outbox)
            #expect(after3.rejected == 0 && after3.pending == 0 && after2.rejected == 0)
            // The hub kept the entry it would have refused and reports it, to P003, to the issuer P001, and to clearing.
            let conflicts = try await p3.hub.json(.GET, "/v1/passes/conflicts", body: Optional<String>.none, as: PassConflicts.self)
            #expect(conflicts.conflicts.count == 1)
            let conflict = try #require(conflicts.conflicts.first)
            #expect(conflict.passID == any2.passID && conflict.park == "P003" && conflict.issuer == "P001" && conflict.reason == "already_used")
            #expect(conflict.entryID == unknowing.entryID)
            let issuerView = try await p1.hub.json(.GET, "/v1/passes/conflicts", body: Optional<String>.none, as: PassConflicts.self)
            #expect(issuerView.conflicts.map(\.entryID) == [conflict.entryID])
            let p2View = try await p2.hub.json(.GET, "/v1/passes/conflicts", body: Optional<String>.none, as: PassConflicts.self)
            #expect(p2View.conflicts.isEmpty)
            // The offline entries that were within the rules pay their allocations; the conflict pays nothing.
            await #expect(try PassTests.obligations(federation.hub) == ["P001→P002 6000", "P001→P002 8000", "P001→P003 8000"])
            // Back online, the hub decides again and counts the offline entries.
            let online = try await PassTests.scan(p2, jiangnan.code)
            #expect(online.decision == .allow && online.mode == .online && online.entriesLeft == 0)
            #expect(try await PassTests.scan(p2, jiangnan.code).reason == "already_used")
        }
    }
}

/// The local API over HTTPS: only devices with a credential of the right role sell or record entries; the QR image
/// an outside decoder reads is the code the gate accepts.
@Suite struct LocalPassAPITests {
    static func curl(_ server: RunningServer, _ path: String, token: String?, method: String = "GET", body: String? = nil, output: String? = nil) async throws
        -> (status: Int, body: String, contentType: String)
    {
        var arguments = ["-sS", "--max-time", "60", "-X", method, "-w", "\n%{http_code} %{content_type}"] + server.curlTrust
        if let token { arguments += ["-H", "authorization: Bearer \(token)"] }
        if body != nil { arguments += ["-H", "content-type: application/json", "--data-binary", "@-"] }
        if let output { arguments += ["-o", output] }
        arguments.append(server.baseURL + path)
        let result = try await ExternalTool.run("curl", arguments, input: body.map { Data($0.utf8) })
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let trailer = lines.last.map(String.init) ?? ""
        let parts = trailer.split(separator: " ", maxSplits: 1).map(String.init)
        return (Int(parts.first ?? "") ?? 0, lines.dropLast().joined(separator: "\n"), parts.count > 1 ? parts[1] : "")
    }

    @Test func onlyCredentialedDevicesSellAndScanAndTheQRImageDecodesToTheCode() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let window = try await agents[0].addDevice(name: "window-1", role: .window)
            let gate = try await agents[1].addDevice(name: "gate-north-1", role: .gate)
            let p2Window = try await agents[1].addDevice(name: "window-9", role: .window)
            let node1 = try await federation.serve(agents[0])
            let node2 = try await federation.serve(agents[1])
            federation.adopt(node1); federation.adopt(node2)

            let saleBody = #"{"product":"JIANGNAN-3P","channel":"kiosk","holder":{"name":"王五","id_type":"resident_id","id_number":"430102199003071234"}}"#
            #expect(try await Self.curl(node1, "/v1/sales", token: nil, method: "POST", body: saleBody).status == 401)
            #expect(try await Self.curl(node1, "/v1/sales", token: "pfd_forged", method: "POST", body: saleBody).status == 401)
            let sold = try await Self.curl(node1, "/v1/sales", token: window.token, method: "POST", body: saleBody)
            #expect(sold.status == 201)
            let sale = try StrictJSON.decode(PassSaleResponse.self, from: Data(sold.body.utf8))
            #expect(sale.holderNameMasked == "王*" && sale.idNumberMasked == "4301**********1234")
            // A bad ID number is refused with a problem, and nothing is sold.
            let bad = try await Self.curl(
                node1, "/v1/sales", token: window.token, method: "POST",
                body: saleBody.replacingOccurrences(of: "1234\"", with: "1235\""))
            #expect(bad.status == 400 && bad.body.contains("invalid_document") && bad.contentType.hasPrefix("application/problem+json"))

            let directory = try TemporaryDirectory()
            let png = directory.path + "/pass.png"
            let image = try await Self.curl(node1, "/v1/sales/\(sale.passID)/qr.png", token: window.token, output: png)
            #expect(image.status == 200 && image.contentType == "image/png")
            let decoded = try await ExternalTool.run("python3", [Verifiers.path("decode_qr.py"), png])
            #expect(decoded.succeeded, "\(decoded.stderr)")
            #expect(decoded.stdout.trimmingCharacters(in: .newlines) == sale.code)
            let svg = try await Self.curl(node1, "/v1/sales/\(sale.passID)/qr.svg", token: window.token)
            #expect(svg.status == 200 && svg.contentType == "image/svg+xml" && svg.body.contains("<svg"))

            let scanBody = try String(
                decoding: StrictJSON.encoder.encode(GateScanRequest(code: decoded.stdout.trimmingCharacters(in: .newlines), gate: "north-1")), as: UTF8.self)
            #expect(try await Self.curl(node2, "/v1/gate/scans", token: nil, method: "POST", body: scanBody).status == 401)
            let wrongRole = try await Self.curl(node2, "/v1/gate/scans", token: p2Window.token, method: "POST", body: scanBody)
            #expect(wrongRole.status == 403 && wrongRole.body.contains("forbidden_for_device"))
            let scanned = try await Self.curl(node2, "/v1/gate/scans", token: gate.token, method: "POST", body: scanBody)
            #expect(scanned.status == 200)
            let decision = try StrictJSON.decode(GateDecision.self, from: Data(scanned.body.utf8))
            #expect(decision.decision == .allow && decision.entriesLeft == 1 && decision.holderNameMasked == "王*")
            // A revoked device is refused at once.
            await #expect(try agents[1].store.revokeDevice("gate-north-1", now: Date()))
            #expect(try await Self.curl(node2, "/v1/gate/scans", token: gate.token, method: "POST", body: scanBody).status == 401)
        }
    }
}
