import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Early warning and stop-sale: at 80 % of a park's daily capacity the hub logs a signed warning and pushes it to a
/// regulator's endpoint (a real outside receiver that verifies the JWS with jwcrypto, failing the first post); at
/// 100 % that day's sales stop on every channel (windows, kiosks, a reseller's availability and holds, a node
/// selling offline), and a refund that frees a place brings sales back.
@Suite struct CapacityWatchTests {
    static let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")

    @Test func theWarningIsPushedSignedAtEightyPercentSalesStopEverywhereAtTheMaximumAndResumeAfterARefund() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let hub = federation.hub
            let today = hub.passes.calendar.day(of: Date())
            // P002 takes 5 visitors a day (JIANGNAN-3P enters P001, P002 and P003, whose capacities are large).
            try await hub.store.setCapacity(park: "P002", daily: 5, hourly: 5)

            // The regulator registers its endpoint over mutual TLS with curl; the receiver fails the first post.
            let port = try BackgroundProcess.freePort()
            let log = federation.directory.file("pushes.jsonl")
            let receiver = try BackgroundProcess(
                "/usr/bin/env", ["python3", Verifiers.path("push_receiver.py"), String(port), log, hub.signingKey.publicKey.base64URL, "1"],
                logPath: federation.directory.file("push-receiver.log"))
            federation.adopt(receiver)
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "regulator")
            let bad = try await federation.curl(
                "/v1/regulator/endpoint", certificate: regulator, method: "PUT", body: #"{"url":"http://example.com/push"}"#,
                extra: ["-H", "content-type: application/json"])
            #expect(bad.httpStatus == 400 && bad.body.contains("invalid_url"), "plain http only to 127.0.0.1: \(bad.body)")
            let registered = try await federation.curl(
                "/v1/regulator/endpoint", certificate: regulator, method: "PUT", body: #"{"url":"http://127.0.0.1:\#(port)/push"}"#,
                extra: ["-H", "content-type: application/json"])
            #expect(registered.httpStatus == 204, "\(registered.body)")
            let parkCertificate = (p1.directory.tlsCertificate, p1.directory.tlsKey)
            #expect(
                try await federation.curl(
                    "/v1/regulator/endpoint", certificate: parkCertificate, method: "PUT", body: #"{"url":null}"#,
                    extra: ["-H", "content-type: application/json"]
                ).httpStatus == 403, "a park cannot move a regulator's endpoint")

            func sell(_ agent: NodeAgent, channel: String = "window") async throws -> PassSaleResponse {
                try await agent.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: channel, holder: Self.holder))
            }
            func level() async throws -> CapacityLevel? {
                try await hub.store.capacityLevels(from: today, park: "P002").first { $0.measure == .daily && $0.day == today }?.level
            }
            // Three of five: nothing yet. The fourth reaches 80 %: a warning, logged and queued for the regulator.
            var sold: [PassSaleResponse] = []
            for _ in 0..<3 { sold.append(try await sell(p1)) }
            #expect(try await level() == nil)
            sold.append(try await sell(p2, channel: "kiosk"))
            #expect(try await level() == .warning)
            // The first push fails (503) and waits its backoff; the retry arrives and verifies with the hub's key.
            #expect(try await hub.deliverRegulatorPushes() == 0)
            #expect(try await hub.deliverRegulatorPushes() == 0, "not due again before its backoff")
            #expect(try await hub.deliverRegulatorPushes(now: Date().addingTimeInterval(31)) == 1)
            let pushes = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
            #expect(pushes.count == 2 && pushes.map { $0["status"] as? Int } == [503, 200])
            let pushed = pushes[1]
            let payload = try #require(pushed["payload"] as? [String: Any])
            #expect(pushed["verified"] as? Bool == true && pushed["content_type"] as? String == "application/jose")
            #expect(payload["type"] as? String == "capacity.level" && payload["park"] as? String == "P002" && payload["day"] as? String == today.description)
            #expect(payload["measure"] as? String == "daily" && payload["level"] as? String == "warning" && payload["previous"] as? String == "normal")
            #expect(payload["used"] as? Int == 4 && payload["capacity"] as? Int == 5 && payload["warn_basis_points"] as? Int == 8000)
            #expect(payload["sales_stopped"] as? Bool == false)
            // The statement and the status match their schemas (checked by Python jsonschema).
            let statementFile = federation.directory.file("statement.json"), statusFile = federation.directory.file("status.json")
            try JSONSerialization.data(withJSONObject: payload).write(to: URL(fileURLWithPath: statementFile))
            try StrictJSON.encoder.encode(try await hub.capacityStatus()).write(to: URL(fileURLWithPath: statusFile))
            let schemas = Verifiers.repositoryRoot + "/schemas/"
            let checked = try await ExternalTool.run(
                "python3",
                [
                    Verifiers.path("validate_schemas.py"), schemas + "capacity-statement.schema.json=" + statementFile,
                    schemas + "capacity-status.schema.json=" + statusFile,
                ])
            #expect(checked.succeeded, "\(checked.stdout)\(checked.stderr)")

            // The fifth fills the day: sales of that day stop.
            sold.append(try await sell(p1))
            #expect(try await level() == .full)
            let status = try await hub.capacityStatus()
            #expect(status.salesStopped == ["P002 \(today)"], "\(status)")
            #expect(try await hub.operatorAlarms().alarms.contains { $0.kind == "capacity_full" && $0.subject == "P002" && $0.severity == .critical })
            // Every channel refuses the sixth: a window and a kiosk at either park...
            for (agent, channel) in [(p1, "window"), (p1, "kiosk"), (p2, "window")] {
                do {
                    _ = try await sell(agent, channel: channel)
                    Issue.record("a sale past the daily capacity was accepted at \(agent.park) \(channel)")
                } catch let refusal as Refusal {
                    #expect(refusal.code == "sold_out", "\(refusal)")
                }
            }
            // ...a reseller's availability (no places) and hold...
            _ = try await hub.importResellers(file: TestFederation.partnersDirectory + "/resellers.json")
            let key = try await hub.issueResellerKey(try ParkID("TRIPGO"), label: "test").key
            let octoHeaders = ["-H", "authorization: Bearer \(key)", "-H", "content-type: application/json"]
            let availability = try await federation.curl(
                "/octo/availability", method: "POST",
                body: #"{"productId":"JIANGNAN-3P","optionId":"DEFAULT","localDate":"\#(today)","units":[{"id":"full","quantity":1}]}"#, extra: octoHeaders)
            let slots = try JSONSerialization.jsonObject(with: Data(availability.body.utf8)) as! [[String: Any]]
            #expect(slots.count == 1 && slots[0]["status"] as? String == "SOLD_OUT" && slots[0]["vacancies"] as? Int == 0, "\(availability.body)")
            #expect(slots[0]["available"] as? Bool == false)
            let hold = try await federation.curl(
                "/octo/bookings", method: "POST",
                body:
                    #"{"uuid":"\#(UUID().uuidString.lowercased())","productId":"JIANGNAN-3P","optionId":"DEFAULT","availabilityId":"\#(slots[0]["id"] as! String)","unitItems":[{"unitId":"full"}]}"#,
                extra: octoHeaders)
            #expect(hold.httpStatus == 400 && hold.body.contains("UNPROCESSABLE_ENTITY"), "\(hold.body)")
            // ...and a node selling offline, which knows from the hub's status that the day stopped.
            try await p1.refreshCapacity()
            #expect(await p1.status().capacity.salesStopped == ["P002 \(today)"])
            try await p2.refreshCapacity()
            #expect(await p2.status().capacity.levels.map(\.level) == [.full])
            // P002's duty manager sees it on the console.
            let server = try await federation.serve(p2)
            let manager = try await p2.addDevice(name: "duty-manager", role: .operator)
            let signed = try await TestFederation.nodeCurl(
                server, "/console/sign-in", method: "POST",
                extra: ["-i", "-H", "content-type: application/x-www-form-urlencoded", "--data-raw", "credential=\(manager.token)"])
            let cookieLine = try #require(signed.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: pf_node_session=") })
            let cookie = String(cookieLine.dropFirst("set-cookie: ".count).split(separator: ";")[0])
            let console = try await TestFederation.nodeCurl(server, "/console/manager?lang=zh", extra: ["-H", "cookie: \(cookie)"])
            #expect(console.body.contains("data-stopped=\"P002 \(today)\"") && console.body.contains("已停售") && console.body.contains("data-capacity=\"full\""))
            p1.assumeHubDown()
            await #expect(throws: Refusal.self) { _ = try await sell(p1) }

            // A refund frees a place: the level goes back to warning, and sales resume.
            _ = try await p1.refundPass(sold[0].passID, reason: "changed plans")
            #expect(try await level() == .warning)
            #expect(try await hub.capacityStatus().salesStopped.isEmpty)
            _ = try await sell(p1)
            #expect(try await level() == .full)

            // Every change is a signed hub statement in the log: warning, full, warning, full; verify-log passes.
            var statements: [CapacityStatement] = []
            try await hub.store.forEachLogEntry { entry in
                guard entry.park == "hub", let jws = try? JWS(compact: entry.jws),
                    let statement = try? CapacityStatement.verify(jws, hubKey: hub.signingKey.publicKey)
                else { return }
                statements.append(statement)
            }
            #expect(statements.map(\.level) == [.warning, .full, .warning, .full] && statements.allSatisfy { $0.park == "P002" })
            #expect(try await LogVerifier(hub: hub).verify().ok)
            let metrics = try await federation.curl("/metrics", certificate: try await federation.issueCertificate(for: .clearing("C1"), name: "c1"))
            #expect(metrics.body.contains(#"parkfed_hub_capacity_level{park="P002",measure="daily"} 2"#), "\(metrics.body.prefix(300))")
            // The places are read from running counts kept by triggers; they are the sums of the rows, and a count
            // changed behind the hub's back shows.
            #expect(try await hub.store.capacityCounterMismatches().isEmpty)
            #expect(try await federation.sqlTool("UPDATE day_product_heads SET heads = heads + 1;").succeeded)
            #expect(try await hub.store.capacityCounterMismatches().first?.hasPrefix("sold \(today) JIANGNAN-3P: ") == true)
        }
    }

    @Test func theLevelRuleWarnsAtTheShareAndIsFullAtTheCapacity() throws {
        let watch = CapacityWatch.standard
        #expect(watch.level(used: 3, capacity: 5) == .normal && watch.level(used: 4, capacity: 5) == .warning && watch.level(used: 5, capacity: 5) == .full)
        #expect(watch.level(used: 7_999, capacity: 10_000) == .normal && watch.level(used: 8_000, capacity: 10_000) == .warning)
        #expect(watch.level(used: 10, capacity: nil) == .normal && watch.level(used: 10, capacity: 0) == .normal)
        #expect(try CapacityWatch(warnBasisPoints: 9_000).level(used: 8, capacity: 10) == .normal)
        #expect(throws: DomainError.self) { try CapacityWatch(warnBasisPoints: 0) }
        #expect(CapacityWatch.dailyUsed(sold: 3, entered: 4) == 4 && CapacityWatch.admitsSale(heads: 2, used: 3, capacity: 5))
        #expect(!CapacityWatch.admitsSale(heads: 3, used: 3, capacity: 5) && CapacityWatch.admitsSale(heads: 100, used: 0, capacity: nil))
    }
}
