import Foundation
import Hummingbird
import NIOCore
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol

/// Regulators' pages: the real-name lookup (the form says the query is recorded; results masked), traffic per park
/// and hour against capacity as charts, and the regulator's own past queries as the log records them. Each query
/// goes through the same audited rule as the API's.
extension ConsolePages {
    func registerRegulator(_ regulators: HubRouteGroup) {
        regulators.get("/console/regulator") { request, _, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let today = hub.passes.calendar.day(of: Date())
            let mine = try await hub.store.regulatorQueries(limit: 200).filter { $0.principal == peer.principal.description }.map {
                ["at": Self.time($0.at), "query": $0.query, "records": $0.records, "logIndex": $0.logIndex.map(String.init) ?? "—"] as [String: Any]
            }
            let documentTypes = [
                ["value": "resident_id", "label": words["residentID"]!], ["value": "passport", "label": words["passport"]!],
                ["value": "other", "label": words["otherDocument"]!],
            ]
            return page(
                "regulator", title: "realNameLookup", request: request, peer: peer,
                [
                    "queries": mine, "documentTypes": documentTypes, "from": today.adding(days: -30).description, "to": today.description,
                ])
        }
        regulators.get("/console/regulator/holders") { request, _, peer -> Response in
            let query = request.uri.queryParameters
            let report = try await hub.regulatorHolderReport(
                kind: String(query["id_type"] ?? ""), number: String(query["id_number"] ?? ""), from: String(query["from"] ?? ""),
                to: String(query["to"] ?? ""), peer: peer)
            // The query's own statement is the latest of this regulator's in the log.
            let logged = try await hub.store.regulatorQueries(limit: 20).first { $0.principal == peer.principal.description }
            let purchases = report.purchases.map {
                ["pass": $0.passID, "park": $0.park, "holder": $0.holderNameMasked, "at": Self.time($0.recordedAt)]
            }
            let entries = report.entries.map { ["pass": $0.passID, "park": $0.park, "at": Self.time($0.enteredAt)] }
            return page(
                "holders", title: "lookupResult", request: request, peer: peer,
                [
                    "purchases": purchases, "entries": entries, "logIndex": logged?.logIndex.map(String.init) ?? "—",
                    "document": "\(report.idType) \(report.idNumberMasked)", "from": report.from, "to": report.to,
                ])
        }
        regulators.get("/console/regulator/sales") { request, _, peer -> Response in
            let (from, to) = range(request)
            let report = try await hub.regulatorSales(from: from, to: to, peer: peer)
            let days = report.days.map { ["park": $0.park, "day": $0.day, "passes": $0.passes, "amount": money($0.amountMinor)] as [String: Any] }
            return page("sales", title: "sales", request: request, peer: peer, ["days": days, "from": report.from, "to": report.to])
        }
        // CSV downloads: each is a query of its own, audited like the page.
        regulators.get("/console/regulator/sales.csv") { request, _, peer -> Response in
            let (from, to) = range(request)
            let report = try await hub.regulatorSales(from: from, to: to, peer: peer)
            let lines =
                [CSVField.line(["park", "day", "passes", "amount_minor", "currency"])]
                + report.days.map { CSVField.line([$0.park, $0.day, String($0.passes), String($0.amountMinor), report.currency]) }
            return Self.csv(lines, name: "sales-\(report.from)-\(report.to).csv")
        }
        regulators.get("/console/regulator/traffic.csv") { request, _, peer -> Response in
            let (from, to) = range(request)
            let report = try await hub.regulatorTraffic(from: from, to: to, peer: peer)
            var lines = [CSVField.line(["park", "day", "hour", "entries", "capacity_hourly", "entries_day", "capacity_daily"])]
            for day in report.days {
                for (hour, count) in day.hourly.enumerated() {
                    lines.append(
                        CSVField.line([
                            day.park, day.day, String(hour), String(count), day.capacityHourly.map(String.init) ?? "", String(day.entries),
                            day.capacityDaily.map(String.init) ?? "",
                        ]))
                }
            }
            return Self.csv(lines, name: "traffic-\(report.from)-\(report.to).csv")
        }
        regulators.get("/console/regulator/traffic") { request, _, peer -> Response in
            let (from, to) = range(request)
            let report = try await hub.regulatorTraffic(from: from, to: to, peer: peer)
            let days = report.days.map { day -> [String: Any] in
                [
                    "park": day.park, "day": day.day, "entries": day.entries, "capacity": day.capacityDaily.map(String.init) ?? "—",
                    "chart": PageCharts.hourly(day.hourly, capacity: day.capacityHourly),
                ]
            }
            return page("traffic", title: "traffic", request: request, peer: peer, ["days": days, "from": report.from, "to": report.to])
        }
    }

    /// The days a report page covers: `from` and `to` as given (the rule checks them), or the last seven days when
    /// the page is opened without any.
    func range(_ request: Request) -> (from: String, to: String) {
        let query = request.uri.queryParameters
        guard query["from"] == nil, query["to"] == nil else { return (String(query["from"] ?? ""), String(query["to"] ?? "")) }
        let today = hub.passes.calendar.day(of: Date())
        return (today.adding(days: -6).description, today.description)
    }

    static func csv(_ lines: [String], name: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(name)\"", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
    }
}
