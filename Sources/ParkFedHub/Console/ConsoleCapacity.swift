import Foundation
import Hummingbird
import NIOCore
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol
import ParkFedStore
import Synchronization

/// Regulators' crowd pages: people inside each park now against its instantaneous capacity, with a chart of the
/// most inside per hour (the page refreshes itself; platforms take the live feed); capacity warnings and stops with
/// the pushes to the regulator's endpoint; and the visitors reports with their CSV and JSON. Each calls the same
/// audited rule as the API; a page that refreshes itself is recorded once per ten minutes of viewing.
extension ConsolePages {
    /// When each regulator's live occupancy view was last recorded, per hub.
    static let liveViews = Mutex<[String: Date]>([:])

    func registerCapacity(_ regulators: HubRouteGroup) {
        regulators.get("/console/regulator/occupancy") { request, _, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let now = Date()
            let calendar = hub.passes.calendar
            let day = String(request.uri.queryParameters["day"] ?? Substring(calendar.day(of: now).description))
            let key = "\(ObjectIdentifier(hub)) \(peer.principal)"
            let audited = Self.liveViews.withLock { views in
                guard let last = views[key], now.timeIntervalSince(last) < 600 else {
                    views[key] = now
                    return true
                }
                return false
            }
            let (report, timeline) = try await hub.regulatorOccupancyTimeline(day: day, peer: peer, now: now, audited: audited)
            let shown = try CivilDay(report.day)
            let untilHour = shown == calendar.day(of: now) ? calendar.hour(of: now) : 23
            let watch = hub.capacityWatch
            let parks = report.parks.map { park -> [String: Any] in
                // The most inside per hour, from the day's entries and exits in time order.
                let ordered = (timeline[park.park] ?? []).map { (calendar.hour(of: $0.at), $0.change) }
                let level = watch.level(used: park.inside, capacity: park.capacityNow)
                return [
                    "park": park.park, "inside": park.inside, "peak": park.peak, "entries": park.entries, "exits": park.exits,
                    "capacityNow": park.capacityNow.map(String.init) ?? "—", "capacityDaily": park.capacityDaily.map(String.init) ?? "—",
                    "share": Self.percent(CapacityWatch.shareBasisPoints(used: park.inside, capacity: park.capacityNow)),
                    "level": words["level_\(level.rawValue)"]!, "levelClass": level.rawValue,
                    "chart": PageCharts.hourly(Occupancy.hourlyPeaks(ordered, untilHour: untilHour), capacity: park.capacityNow),
                ]
            }
            return page(
                "occupancy", title: "occupancyNow", request: request, peer: peer,
                ["parks": parks, "day": report.day, "refresh": 30, "updated": Self.time(now), "warnShare": Self.percent(watch.warnBasisPoints)])
        }
        regulators.get("/console/regulator/warnings") { request, _, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let today = hub.passes.calendar.day(of: Date())
            let levels = try await hub.store.capacityLevels(from: today.adding(days: -7)).sorted { ($0.day, $0.park) > ($1.day, $1.park) }.map {
                [
                    "park": $0.park, "day": $0.day.description, "measure": words["measure_\($0.measure.rawValue)"]!,
                    "level": words["level_\($0.level.rawValue)"]!, "levelClass": $0.level.rawValue, "used": $0.used, "capacity": $0.capacity,
                    "share": Self.percent(CapacityWatch.shareBasisPoints(used: $0.used, capacity: $0.capacity)),
                    "stopped": $0.measure == .daily && $0.level == .full ? words["salesStoppedCol"]! : "", "logIndex": String($0.logIndex),
                    "at": Self.time($0.changedAt),
                ] as [String: Any]
            }
            guard case .regulator(let id) = peer.principal else { throw Refusal(.forbidden, code: "forbidden_for_principal", title: "Regulators only") }
            let endpoint = try await hub.store.regulatorEndpoints()[id]
            let pushes = try await hub.store.regulatorPushes(regulator: id, limit: 50).map {
                [
                    "statement": $0.statementID, "attempts": $0.attempts, "at": Self.time($0.createdAt),
                    "delivered": $0.deliveredAt.map { Self.time($0) } ?? "—", "error": $0.lastError ?? "",
                ] as [String: Any]
            }
            return page(
                "warnings", title: "capWarnings", request: request, peer: peer,
                [
                    "levels": levels, "pushes": pushes, "endpoint": endpoint ?? words["noEndpoint"]!,
                    "warnShare": Self.percent(hub.capacityWatch.warnBasisPoints),
                ])
        }
        regulators.get("/console/regulator/reports") { request, _, peer -> Response in
            let query = request.uri.queryParameters
            let today = hub.passes.calendar.day(of: Date())
            let from = String(query["from"] ?? Substring(today.adding(days: -1).description))
            let to = String(query["to"] ?? Substring(from))
            let name = query["name"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            let report = try await hub.regulatorReport(from: from, to: to, name: name, peer: peer)
            func row(_ row: RegulatorVisitorReport.Row) -> [String: Any] {
                [
                    "park": row.park == VisitorReportBuilder.federation ? ConsoleText.words(Self.language(request).0)["federationAll"]! : row.park,
                    "day": row.day ?? "—", "visitors": row.visitors, "exits": row.exits, "peak": row.peakInside,
                    "capacity": row.capacityDaily.map(String.init) ?? "—", "share": Self.percent(row.dailyShareBasisPoints),
                    "realName": Self.percent(row.realNameShareBasisPoints), "crossPark": row.crossParkEntries, "refunds": row.refunds,
                    "refunded": money(row.refundedMinor),
                ]
            }
            var link = URLComponents()
            link.queryItems =
                [.init(name: "from", value: report.from), .init(name: "to", value: report.to)] + (name.map { [.init(name: "name", value: $0)] } ?? [])
            let base = "/v1/regulator/reports?" + (link.percentEncodedQuery ?? "")
            return page(
                "reports", title: "reports", request: request, peer: peer,
                [
                    "rows": report.rows.map(row), "totals": report.totals.map(row), "from": report.from, "to": report.to, "name": name ?? "",
                    "csv": base + "&format=csv", "json": base + "&format=json",
                ])
        }
    }

    /// A share in basis points as a percent with one decimal, or a dash.
    static func percent(_ basisPoints: Int?) -> String {
        guard let basisPoints else { return "—" }
        return String(format: "%d.%d %%", basisPoints / 100, (basisPoints % 100) / 10)
    }
}
