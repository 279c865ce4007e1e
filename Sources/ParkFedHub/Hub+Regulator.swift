import Foundation
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// The regulator's read-only view of real-name records. Every query is recorded (who, what, how many records)
/// before it is answered; the document number asked about is recorded masked.
extension Hub {
    public func regulatorHolderReport(
        kind: String, number: String, from: String, to: String, peer: AuthenticatedPeer,
        now: Date = Date()
    ) async throws -> RegulatorHolderReport {
        try Self.requireRegulator(peer)
        guard let documentKind = IdentityDocument.Kind(rawValue: kind) else {
            throw Refusal(
                .invalid, code: "invalid_query", title: "Invalid id_type",
                detail: "id_type is one of \(IdentityDocument.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let document: IdentityDocument
        do { document = try IdentityDocument(kind: documentKind, number: number) } catch {
            throw Refusal(.invalid, code: "invalid_document", title: "Invalid document number", detail: error.message)
        }
        let (first, last, start, end) = try dateRange(from, to)
        let held = try await passes(heldBy: documentKind, number: document.number)
        let purchases = held.filter { $0.recordedAt >= start && $0.recordedAt < end }.map {
            RegulatorHolderReport.Purchase(
                passID: $0.passID, park: $0.issuer, generation: $0.generation, recordedAt: $0.recordedAt,
                holderNameMasked: $0.holder.nameMasked)
        }
        let entries = try await store.entries(ofPasses: Array(Set(held.map(\.passID))).sorted(), from: start, until: end).map {
            RegulatorHolderReport.Entry(passID: $0.passID, park: $0.park, enteredAt: $0.at, counted: $0.counted)
        }
        try await audit(peer, "holder \(documentKind.rawValue) \(document.maskedNumber) \(first)..\(last)", records: purchases.count + entries.count, now: now)
        return RegulatorHolderReport(
            idType: documentKind.rawValue, idNumberMasked: document.maskedNumber, from: first.description, to: last.description,
            purchases: purchases, entries: entries,
            anonymousProducts: passes.catalog.products.filter { $0.realName == false }.map(\.id))
    }

    /// Records an answered query as a hub-signed statement in the log (and its audit row), before the answer goes out.
    func audit(_ peer: AuthenticatedPeer, _ query: String, records: Int, now: Date) async throws {
        let statement = RegulatorQueryStatement(
            id: "RQ-" + UUIDv7.make(now: now), issuedAt: now, principal: peer.principal.description,
            query: query, records: records)
        let index = try await log.record(statement, now: now)
        logger.notice("regulator query", metadata: ["principal": "\(peer.principal)", "records": "\(records)", "log_index": "\(index)"])
    }

    /// Parses a regulator's date range (at most 366 days) into local days and the moments that bound them.
    func dateRange(_ from: String, _ to: String) throws -> (CivilDay, CivilDay, Date, Date) {
        let first: CivilDay, last: CivilDay
        do { (first, last) = (try CivilDay(from), try CivilDay(to)) } catch {
            throw Refusal(.invalid, code: "invalid_query", title: "Invalid date range", detail: "from and to are YYYY-MM-DD")
        }
        guard first <= last, last.dayNumber - first.dayNumber <= 366 else {
            throw Refusal(.invalid, code: "invalid_query", title: "Invalid date range", detail: "from ≤ to, at most 366 days")
        }
        return (first, last, endOfDay(first.adding(days: -1)), endOfDay(last))
    }

    /// Entries per park per local day and hour against capacity (audited like every regulator query).
    public func regulatorTraffic(from: String, to: String, peer: AuthenticatedPeer, now: Date = Date()) async throws -> RegulatorTrafficReport {
        try Self.requireRegulator(peer)
        let (first, last, start, end) = try dateRange(from, to)
        let capacities = try await store.capacities()
        var buckets: [String: [Int]] = [:]
        for entry in try await store.countedEntries(from: start, until: end) {
            let key = entry.park + "|" + passes.calendar.day(of: entry.at).description
            buckets[key, default: Array(repeating: 0, count: 24)][passes.calendar.hour(of: entry.at)] += entry.heads
        }
        let days = buckets.sorted { $0.key < $1.key }.map { key, hours -> RegulatorTrafficReport.Day in
            let parts = key.split(separator: "|").map(String.init)
            return .init(
                park: parts[0], day: parts[1], entries: hours.reduce(0, +), capacityDaily: capacities[parts[0]]?.daily, hourly: hours,
                capacityHourly: capacities[parts[0]]?.hourly)
        }
        try await audit(peer, "traffic \(first)..\(last)", records: days.count, now: now)
        return RegulatorTrafficReport(from: first.description, to: last.description, days: days)
    }

    /// People inside each park on `day` (now, for today): counted entries' heads less counted exits, the day's peak
    /// from the events in time order, against the capacities (audited like every regulator query).
    public func regulatorOccupancy(day text: String, peer: AuthenticatedPeer, now: Date = Date(), audited: Bool = true) async throws
        -> RegulatorOccupancyReport
    {
        try await regulatorOccupancyTimeline(day: text, peer: peer, now: now, audited: audited).report
    }

    /// ``regulatorOccupancy(day:peer:now:audited:)`` with each park's day as its events in time order (entries'
    /// heads in, exits out), for a page that draws them: one reading of the day's entries and exits serves both.
    public func regulatorOccupancyTimeline(day text: String, peer: AuthenticatedPeer, now: Date = Date(), audited: Bool = true) async throws
        -> (report: RegulatorOccupancyReport, timeline: [String: [(at: Date, change: Int)]])
    {
        try Self.requireRegulator(peer)
        let day = try dateRange(text, text).0
        let (capacities, instantaneous) = (try await store.capacities(), try await store.instantaneousCapacities())
        var timeline: [String: [(at: Date, change: Int)]] = [:]
        for entry in try await store.countedEntries(from: endOfDay(day.adding(days: -1)), until: endOfDay(day)) {
            timeline[entry.park, default: []].append((entry.at, entry.heads))
        }
        for exit in try await store.exits(day: day) { timeline[exit.park, default: []].append((exit.at, -exit.count)) }
        for park in timeline.keys { timeline[park]!.sort { $0.at < $1.at } }
        let parks = Set(timeline.keys).union(capacities.keys).sorted().map { park -> RegulatorOccupancyReport.Park in
            let events = (timeline[park] ?? []).map(\.change)
            let occupancy = Occupancy(entries: events.filter { $0 > 0 }.reduce(0, +), exits: -events.filter { $0 < 0 }.reduce(0, +))
            return .init(
                park: park, inside: occupancy.inside, peak: Occupancy.peak(events), entries: occupancy.entries, exits: occupancy.exits,
                capacityNow: instantaneous[park], capacityDaily: capacities[park]?.daily)
        }
        if audited { try await audit(peer, "occupancy \(day)", records: parks.count, now: now) }
        return (RegulatorOccupancyReport(day: day.description, parks: parks), timeline)
    }

    /// Passes sold per park per local day (audited).
    public func regulatorSales(from: String, to: String, peer: AuthenticatedPeer, now: Date = Date()) async throws -> RegulatorSalesReport {
        try Self.requireRegulator(peer)
        let (first, last, start, end) = try dateRange(from, to)
        var totals: [String: (Int, Int64)] = [:]
        for sale in try await store.sales(from: start, until: end) {
            let key = sale.park + "|" + passes.calendar.day(of: sale.at).description
            let current = totals[key] ?? (0, 0)
            totals[key] = (current.0 + 1, current.1 + sale.priceMinor)
        }
        let days = totals.sorted { $0.key < $1.key }.map { key, value -> RegulatorSalesReport.Day in
            let parts = key.split(separator: "|").map(String.init)
            return .init(park: parts[0], day: parts[1], passes: value.0, amountMinor: value.1)
        }
        try await audit(peer, "sales \(first)..\(last)", records: days.count, now: now)
        return RegulatorSalesReport(from: first.description, to: last.description, currency: configuration.currency, days: days)
    }

    /// Imports the parks' capacities from `partners/parks/*.json` (for the regulator's traffic report).
    public func importParks(directory: String) async throws -> Int {
        let catalog = try PartnerCatalog.load(directory: directory)
        for park in catalog.parks {
            try await store.setCapacity(park: park.id.rawValue, daily: park.capacity.daily, hourly: park.capacity.hourly)
            try await store.setInstantaneousCapacity(park: park.id.rawValue, park.capacity.instantaneous)
        }
        try await importClearingAccounts(catalog)
        return catalog.parks.count
    }
}
