import Foundation
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore
import ServiceLifecycle

/// Reports without asking: the daily report of every closed day and the report of each configured holiday period
/// (`report_holidays`), written by the running hub into `reports/` of its directory as JSON and CSV, and read by
/// regulators over mutual TLS (`GET /v1/regulator/reports`, audited); and the live occupancy feed
/// (`GET /v1/regulator/occupancy/feed`, server-sent events whose ids are log indices, so a client resumes with
/// `Last-Event-ID`). Every figure is recomputed from the counted entries, exits and refunds (``VisitorReportBuilder``).
extension Hub {
    /// The figures of `from`...`to` (local days) per park and day, the federation's, and the totals.
    public func visitorReport(from first: CivilDay, to last: CivilDay, name: String? = nil, now: Date = Date()) async throws -> RegulatorVisitorReport {
        let (start, end) = (endOfDay(first.adding(days: -1)), endOfDay(last))
        let calendar = passes.calendar
        var builder = VisitorReportBuilder()
        for entry in try await store.reportEntries(from: start, until: end) {
            builder.entry(
                park: entry.park, day: calendar.day(of: entry.at), hour: calendar.hour(of: entry.at), at: Int64(entry.at.timeIntervalSince1970 * 1000),
                heads: entry.heads,
                crossPark: entry.issuer != entry.park, realName: entry.realName)
        }
        for day in stride(from: first.dayNumber, through: last.dayNumber, by: 1).map(CivilDay.init(dayNumber:)) {
            for exit in try await store.exits(day: day) {
                builder.exit(park: exit.park, day: day, at: Int64(exit.at.timeIntervalSince1970 * 1000), count: exit.count)
            }
        }
        for refund in try await store.refunds(from: start, until: end) {
            builder.refund(park: refund.park, day: calendar.day(of: refund.at), amountMinor: refund.amountMinor)
        }
        let (daily, instantaneous) = (try await store.capacities(), try await store.instantaneousCapacities())
        let parks = Set(try await store.parks().filter { !$0.isReseller }.map(\.id.rawValue))
        let days = builder.days().filter { parks.contains($0.park) || $0.park == VisitorReportBuilder.federation }
        func row(_ park: String, _ day: String?, _ figures: VisitorFigures, dayCount: Int) -> RegulatorVisitorReport.Row {
            let capacity: Int? =
                park == VisitorReportBuilder.federation
                ? parks.compactMap { daily[$0]?.daily }.reduce(0, +) : daily[park]?.daily
            let inside: Int? = park == VisitorReportBuilder.federation ? nil : instantaneous[park]
            return .init(
                park: park, day: day, visitors: figures.visitors, exits: figures.exits, peakInside: figures.peakInside, capacityDaily: capacity,
                capacityInstantaneous: inside,
                dailyShareBasisPoints: capacity.flatMap { CapacityWatch.shareBasisPoints(used: figures.visitors, capacity: $0 * dayCount) },
                realNameEntries: figures.realNameEntries, realNameShareBasisPoints: figures.realNameShareBasisPoints,
                crossParkEntries: figures.crossParkEntries, refunds: figures.refunds, refundedMinor: figures.refundedMinor, hourly: figures.hourly)
        }
        let rows = days.map { row($0.park, $0.day.description, $0.figures, dayCount: 1) }
        let dayCount = last.dayNumber - first.dayNumber + 1
        let totals = Dictionary(grouping: days, by: \.park).sorted {
            ($0.key == VisitorReportBuilder.federation ? 1 : 0, $0.key) < ($1.key == VisitorReportBuilder.federation ? 1 : 0, $1.key)
        }.map { park, list in row(park, nil, VisitorFigures.total(list.map(\.figures)), dayCount: dayCount) }
        return RegulatorVisitorReport(
            kind: name == nil ? "daily" : "holiday", name: name, from: first.description, to: last.description,
            timeZone: calendar.timeZone.identifier, currency: configuration.currency, generatedAt: now, rows: rows, totals: totals)
    }

    /// A regulator's report of a range (a named holiday period, or days), audited like every regulator query.
    public func regulatorReport(from: String, to: String, name: String?, peer: AuthenticatedPeer, now: Date = Date()) async throws
        -> RegulatorVisitorReport
    {
        try Self.requireRegulator(peer)
        let (first, last, _, _) = try dateRange(from, to)
        if let name {
            guard !name.isEmpty, name.count <= 64, !name.contains(where: \.isNewline) else {
                throw Refusal(.invalid, code: "invalid_query", title: "Invalid report name", detail: "a period's name is 1-64 characters")
            }
        }
        let report = try await visitorReport(from: first, to: last, name: name, now: now)
        try await audit(peer, "report \(first)..\(last)\(name.map { " " + $0 } ?? "")", records: report.rows.count, now: now)
        return report
    }

    /// Writes what is due into `directory`: the daily report of every day from `since` to yesterday not written yet,
    /// and each configured holiday period's once it has ended (`daily-YYYY-MM-DD.json/.csv`,
    /// `holiday-<from>-<name>.json/.csv`). Returns the files written.
    @discardableResult
    public func writeDueReports(directory: String, since: CivilDay? = nil, now: Date = Date()) async throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let yesterday = passes.calendar.day(of: now).adding(days: -1)
        var due: [(file: String, from: CivilDay, to: CivilDay, name: String?)] = []
        for number in (since ?? yesterday).dayNumber...max(yesterday.dayNumber, (since ?? yesterday).dayNumber) where number <= yesterday.dayNumber {
            let day = CivilDay(dayNumber: number)
            due.append(("daily-\(day)", day, day, nil))
        }
        for period in configuration.reportHolidays {
            guard let from = try? CivilDay(period.from), let to = try? CivilDay(period.to), to <= yesterday else { continue }
            due.append(("holiday-\(from)-\(period.name)", from, to, period.name))
        }
        var written: [String] = []
        for item in due {
            let base = (directory as NSString).appendingPathComponent(item.file)
            guard !FileManager.default.fileExists(atPath: base + ".json") else { continue }
            let report = try await visitorReport(from: item.from, to: item.to, name: item.name, now: now)
            // The CSV first, the JSON last: a report whose JSON exists is complete.
            try Data(report.csv.utf8).write(to: URL(fileURLWithPath: base + ".csv"), options: .atomic)
            try StrictJSON.encoder.encode(report).write(to: URL(fileURLWithPath: base + ".json"), options: .atomic)
            written += [base + ".csv", base + ".json"]
            logger.info("regulator report written", metadata: ["file": "\(base).json", "rows": "\(report.rows.count)"])
        }
        return written
    }

    // MARK: Live occupancy

    /// One event of the live feed: a park's figures after the log entry `index` changed them.
    public struct OccupancyEvent: Codable, Sendable, Hashable {
        public var index: UInt64?
        public var park: String
        public var day: String
        public var inside: Int
        public var entries: Int
        public var exits: Int
        public var capacityNow: Int?
        public var level: CapacityLevel

        enum CodingKeys: String, CodingKey {
            case index = "log_index"
            case park, day, inside, entries, exits, level
            case capacityNow = "capacity_now"
        }
    }

    /// The feed's opening snapshot: every park's figures as of log index `after` (the log's end when nil), with the
    /// index the feed goes on after; audited once per connection.
    public func occupancySnapshot(day: CivilDay, after: UInt64?, peer: AuthenticatedPeer, now: Date = Date()) async throws
        -> (events: [OccupancyEvent], resumeAfter: UInt64?)
    {
        try Self.requireRegulator(peer)
        // The log's end is read before the totals: an entry appended in between comes as a live event, never twice.
        let end = try await store.logSize()
        let resume = after ?? (end == 0 ? nil : end - 1)
        let totals = try await store.occupancyTotals(day: day, upTo: resume)
        let instantaneous = try await store.instantaneousCapacities()
        let parks = Set(try await store.parks().filter { !$0.isReseller }.map(\.id.rawValue)).union(totals.keys)
        try await audit(peer, "occupancy feed \(day) after \(after.map(String.init) ?? "start")", records: parks.count, now: now)
        let events = parks.sorted().map { park in
            let figures = totals[park] ?? Occupancy(entries: 0, exits: 0)
            return OccupancyEvent(
                index: nil, park: park, day: day.description, inside: figures.inside, entries: figures.entries, exits: figures.exits,
                capacityNow: instantaneous[park], level: capacityWatch.level(used: figures.inside, capacity: instantaneous[park]))
        }
        return (events, resume)
    }

    /// The events after `after`, applied to `totals` (the caller's running figures).
    public func occupancyEvents(day: CivilDay, after: UInt64?, totals: inout [String: Occupancy]) async throws -> [OccupancyEvent] {
        let instantaneous = try await store.instantaneousCapacities()
        return try await store.occupancyChanges(day: day, after: after).map { change in
            var figures = totals[change.park] ?? Occupancy(entries: 0, exits: 0)
            if change.change >= 0 { figures.entries += change.change } else { figures.exits -= change.change }
            totals[change.park] = figures
            return OccupancyEvent(
                index: change.index, park: change.park, day: day.description, inside: figures.inside, entries: figures.entries, exits: figures.exits,
                capacityNow: instantaneous[change.park], level: capacityWatch.level(used: figures.inside, capacity: instantaneous[change.park]))
        }
    }
}

/// The hub's daily jobs for regulators (checked every minute while the hub serves): the reports that fell due, and
/// the real-name retention run (``Hub/purgeRealName(now:batch:)``).
public struct ReportService: Service {
    let hub: Hub
    let directory: String
    public init(hub: Hub, directory: String) {
        self.hub = hub
        self.directory = directory
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await hub.writeDueReports(directory: directory) } catch {
                hub.logger.warning("regulator reports not written", metadata: ["error": "\(error)"])
            }
            do { try await hub.purgeRealName() } catch { hub.logger.warning("retention run failed", metadata: ["error": "\(error)"]) }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
        }
    }
}
