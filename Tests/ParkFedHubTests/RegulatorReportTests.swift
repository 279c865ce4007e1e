import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Reports without asking, and the live feed: a day's report per park and for the federation with exact figures
/// from the entries, exits and refunds, as JSON (schema-checked) and CSV, read over mutual TLS with curl and with
/// `parkfed regulator report`, and written on schedule; the occupancy feed as server-sent events that resume from
/// `Last-Event-ID`.
@Suite struct RegulatorReportTests {
    static let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")

    @Test func aDaysReportCarriesTheFiguresOfItsEntriesExitsAndRefundsAndIsWrittenOnSchedule() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let hub = federation.hub
            let now = Date()
            let today = hub.passes.calendar.day(of: now), hour = hub.passes.calendar.hour(of: now)
            var codes: [String] = []
            for _ in 0..<3 { codes.append(try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: Self.holder)).code) }
            let refunded = try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: Self.holder))
            _ = try await p1.refundPass(refunded.passID, reason: "rain")
            // Two enter P002 on P001's passes (cross-park), one enters P001 on its own; one leaves P002.
            #expect(try await p2.scan(GateScanRequest(code: codes[0], gate: "G1")).decision == .allow)
            #expect(try await p2.scan(GateScanRequest(code: codes[1], gate: "G1")).decision == .allow)
            #expect(try await p1.scan(GateScanRequest(code: codes[2], gate: "G1")).decision == .allow)
            _ = try await p2.recordExits(GateExitRequest(gate: "EXIT-1", count: 1))
            try await p2.deliverOutbox()

            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "regulator")
            let answer = try await federation.curl("/v1/regulator/reports?from=\(today)&to=\(today)", certificate: regulator)
            #expect(answer.httpStatus == 200, "\(answer.body)")
            let report = try StrictJSON.decode(RegulatorVisitorReport.self, from: Data(answer.body.utf8))
            #expect(report.kind == "daily" && report.from == today.description && report.timeZone == "Asia/Shanghai")
            func row(_ park: String) throws -> RegulatorVisitorReport.Row { try #require(report.rows.first { $0.park == park && $0.day == today.description }) }
            var hourly = Array(repeating: 0, count: 24)
            hourly[hour] = 2
            let p002 = try row("P002")
            #expect(p002.visitors == 2 && p002.exits == 1 && p002.peakInside == 2 && p002.crossParkEntries == 2 && p002.realNameEntries == 2)
            #expect(p002.capacityDaily == 30_000 && p002.capacityInstantaneous == 10_000 && p002.dailyShareBasisPoints == 0 && p002.hourly == hourly)
            #expect(p002.realNameShareBasisPoints == 10_000 && p002.refunds == 0)
            let p001 = try row("P001")
            #expect(p001.visitors == 1 && p001.crossParkEntries == 0 && p001.refunds == 1 && p001.refundedMinor == 29_900 && p001.peakInside == 1)
            let all = try row("ALL")
            hourly[hour] = 3
            #expect(all.visitors == 3 && all.exits == 1 && all.peakInside == 3 && all.refunds == 1 && all.crossParkEntries == 2 && all.hourly == hourly)
            #expect(all.capacityDaily == 90_000, "P001 60,000 + P002 30,000: the enrolled parks' capacities")
            #expect(report.totals.map(\.park) == ["P001", "P002", "ALL"] && report.totals.allSatisfy { $0.day == nil })
            // The schema, checked from outside.
            let file = federation.directory.file("report.json")
            try Data(answer.body.utf8).write(to: URL(fileURLWithPath: file))
            let checked = try await ExternalTool.run(
                "python3", [Verifiers.path("validate_schemas.py"), Verifiers.repositoryRoot + "/schemas/regulator-visitor-report.schema.json=" + file])
            #expect(checked.succeeded, "\(checked.stdout)\(checked.stderr)")
            // The CSV, through the regulator's own command: one line per park and day, then the totals.
            let (certificate, key) = regulator
            let csv = try await ExternalTool.run(
                try BackgroundProcess.parkfedExecutable(),
                [
                    "regulator", "report", "--hub", federation.hubURL, "--cert", certificate, "--key", key, "--ca", federation.caFile, "--from",
                    today.description,
                ])
            #expect(csv.succeeded, "\(csv.stderr)")
            let lines = csv.stdout.split(separator: "\r\n").map(String.init)
            #expect(lines.count == 7 && lines[0].hasPrefix("park,day,visitors,exits,peak_inside,capacity_daily"), "\(csv.stdout)")
            #expect(lines.contains { $0.hasPrefix("P002,\(today),2,1,2,30000,10000,0.00,2,100.00,2,0,0,") })
            #expect(lines.last?.hasPrefix("ALL,,3,1,3,90000,,0.00,3,100.00,2,1,29900,") == true, "\(lines.last ?? "")")
            // A park cannot read it.
            #expect(
                try await federation.curl("/v1/regulator/reports?from=\(today)&to=\(today)", certificate: (p1.directory.tlsCertificate, p1.directory.tlsKey))
                    .httpStatus == 403)

            // On schedule: tomorrow, the hub writes today's report (JSON and CSV) once.
            let reports = federation.directory.file("reports")
            let written = try await hub.writeDueReports(directory: reports, since: today, now: now.addingTimeInterval(86_400))
            #expect(written.map { ($0 as NSString).lastPathComponent } == ["daily-\(today).csv", "daily-\(today).json"])
            let kept = try StrictJSON.decode(RegulatorVisitorReport.self, from: Data(contentsOf: URL(fileURLWithPath: reports + "/daily-\(today).json")))
            #expect(kept.rows == report.rows)
            #expect(try await hub.writeDueReports(directory: reports, since: today, now: now.addingTimeInterval(86_400)).isEmpty)
        }
    }

    @Test func theOccupancyFeedStreamsChangesWithLogIndicesAndResumesFromLastEventID() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            var codes: [String] = []
            for _ in 0..<3 { codes.append(try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: Self.holder)).code) }
            #expect(try await p2.scan(GateScanRequest(code: codes[0], gate: "G1")).decision == .allow)
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "regulator")

            // A live stream: the snapshot first, then each entry as it is logged.
            let stream = Task {
                try await federation.curl("/v1/regulator/occupancy/feed?max_seconds=3", certificate: regulator, extra: ["-N"])
            }
            try await Task.sleep(for: .milliseconds(800))
            #expect(try await p2.scan(GateScanRequest(code: codes[1], gate: "G2")).decision == .allow)
            let live = try await stream.value
            #expect(live.httpStatus == 200, "\(live.body)")
            let events = Self.events(live.body)
            let snapshot = try #require(events.first { $0.name == "snapshot" && $0.data["park"] as? String == "P002" })
            #expect(snapshot.data["inside"] as? Int == 1 && snapshot.id == nil)
            let change = try #require(events.first { $0.name == "occupancy" }, "\(live.body)")
            #expect(change.data["park"] as? String == "P002" && change.data["inside"] as? Int == 2 && change.id != nil)

            // Resuming from the event before it replays it, and only it (then, after another entry, that one too).
            let before = try #require(change.id.flatMap { UInt64($0) }) - 1
            _ = try await p2.recordExits(GateExitRequest(gate: "EXIT-1", count: 1))
            try await p2.deliverOutbox()
            let resumed = try await federation.curl(
                "/v1/regulator/occupancy/feed?max_seconds=1", certificate: regulator, extra: ["-N", "-H", "Last-Event-ID: \(before)"])
            let replay = Self.events(resumed.body).filter { $0.name == "occupancy" }
            #expect(replay.map { $0.data["inside"] as? Int } == [2, 1], "\(resumed.body)")
            #expect(replay.first?.id == change.id)
            #expect(Self.events(resumed.body).first { $0.name == "snapshot" && $0.data["park"] as? String == "P002" }?.data["inside"] as? Int == 1)
            // Not for parks; a bad resume point is a clear error.
            #expect(
                try await federation.curl("/v1/regulator/occupancy/feed?max_seconds=1", certificate: (p1.directory.tlsCertificate, p1.directory.tlsKey))
                    .httpStatus == 403)
            #expect(
                try await federation.curl("/v1/regulator/occupancy/feed?max_seconds=1", certificate: regulator, extra: ["-H", "Last-Event-ID: x"]).httpStatus
                    == 400)
        }
    }

    /// Server-sent events of a body: name, id and decoded data of each.
    static func events(_ body: String) -> [(name: String, id: String?, data: [String: Any])] {
        body.components(separatedBy: "\n\n").compactMap { block in
            var name = "message", id: String?, data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("data: ") { data += line.dropFirst(6) }
            }
            guard !data.isEmpty, let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { return nil }
            return (name, id, object)
        }
    }
}
