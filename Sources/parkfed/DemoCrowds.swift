import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol

extension DemoCommand {
    /// Crowds: a small park's day fills up (warning at 80 %, stop-sale at 100 %, a refund brings sales back), each
    /// change a signed statement in the log; the regulator reads the day's visitors report over mutual TLS; the
    /// retention rule says when real-name data goes.
    static func playCrowds(hub: Hub, hubURL: String, caFile: String, root: String, agents: [(ParkManifest, NodeAgent)]) async throws -> [[String]] {
        guard let (manifest, park) = agents.last else { return [] }
        let id = manifest.id.rawValue
        let today = hub.passes.calendar.day(of: Date())
        let capacities = try await hub.store.capacities()
        let (daily, hourly) = capacities[id] ?? (manifest.capacity.daily, manifest.capacity.hourly)
        // For the demo, the park's day takes five more visitors than it has had.
        let used = try await hub.dailyPlacesUsed(manifest.id, day: today)
        try await hub.store.setCapacity(park: id, daily: used + 5, hourly: hourly)
        let product = hub.passes.products(entering: manifest.id).first { hub.passes.product($0)?.slots.isEmpty == true } ?? "JIANGNAN-GRAND-6P"
        let holder = HolderInput(name: "钱九", idType: "resident_id", idNumber: "110101198001010053")
        var rows: [[String]] = []
        var sold: [String] = []
        func level() async throws -> String {
            try await hub.store.capacityLevels(from: today, park: id).first { $0.measure == .daily && $0.day == today }?.level.rawValue ?? "normal"
        }
        for number in 1...6 {
            do {
                let sale = try await park.sellPass(PassSaleRequest(product: product, channel: number.isMultiple(of: 2) ? "kiosk" : "window", holder: holder))
                sold.append(sale.passID)
                rows.append(["sale \(number)", "\(used + number) / \(used + 5)", try await level(), "sold"])
            } catch let refusal as Refusal {
                rows.append(["sale \(number)", "\(used + 5) / \(used + 5)", try await level(), "refused: \(refusal.code)"])
            }
        }
        _ = try await park.refundPass(sold[0], reason: "plans changed")
        rows.append(["refund", "\(used + 4) / \(used + 5)", try await level(), "a place is free again"])
        let again = try await park.sellPass(PassSaleRequest(product: product, channel: "window", holder: holder))
        rows.append(["sale 7", "\(used + 5) / \(used + 5)", try await level(), "sold \(again.passID.prefix(8))…"])
        // Back to the park's real capacity (the level is re-read at once).
        try await hub.store.setCapacity(park: id, daily: daily, hourly: hourly)
        await hub.watchCapacity(["\(id) \(today)"])
        let statements = try await hub.store.capacityLevels(from: today, park: id)
        print(Table.render(header: ["\(id) (\(product))", "places", "level", "what happened"], rows: rows))
        print(
            "      each level change is a hub-signed capacity.level statement (latest at log index \(statements.map(\.logIndex).max() ?? 0)); now \(try await level())"
        )

        // The regulator's report of the day, over mutual TLS with its own certificate.
        let directory = (root as NSString).appendingPathComponent("regulator")
        let client = try HubClient(
            baseURL: hubURL, caFile: caFile, certificateFile: (directory as NSString).appendingPathComponent("R01-cert.pem"),
            keyFile: (directory as NSString).appendingPathComponent("R01-key.pem"))
        let report = try await client.json(
            .GET, "/v1/regulator/reports?from=\(today)&to=\(today)", body: Optional<String>.none, as: RegulatorVisitorReport.self)
        let csv = try await client.send(.GET, "/v1/regulator/reports?from=\(today)&to=\(today)&format=csv")
        await client.shutdown()
        let file = (directory as NSString).appendingPathComponent("report-\(today).csv")
        try csv.body.write(to: URL(fileURLWithPath: file))
        if let all = report.totals.first(where: { $0.park == VisitorReportBuilder.federation }) {
            print(
                "      the day's report: \(all.visitors) visitors, peak \(all.peakInside) inside, \(all.crossParkEntries) on another park's pass, "
                    + "real-name \(all.realNameShareBasisPoints.map { "\($0 / 100)%" } ?? "—"), \(all.refunds) refund(s) → \(file)")
        }
        print(
            "      real-name data is kept \(hub.configuration.realNameRetentionDays) days after a pass's validity ends, then reduced by a signed retention run (`parkfed hub purge-real-name`; \(try await hub.purgeRealName().passes) due today)"
        )
        return rows
    }
}
