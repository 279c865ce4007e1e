import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedLab
import ParkFedNode
import ParkFedProtocol
import ParkFedStore

/// The demo's trade between all six parks (so that netting has flows in several directions to reduce) and clearing
/// staff's day after the cut-off: four eyes, payment files, the bank's statement reconciled, a dispute decided.
extension DemoCommand {
    /// Passes sold at five parks and used at others, and a card loaded at a fourth park spent at two more.
    static func playTrade(_ agents: [(ParkManifest, NodeAgent)]) async throws -> [[String]] {
        guard agents.count >= 6 else { return [] }
        let holder = HolderInput(name: "周九", idType: "resident_id", idNumber: "320502198808081239")
        var rows: [[String]] = []
        func sell(_ seller: Int, _ product: String) async throws -> PassSaleResponse {
            try await agents[seller].1.sellPass(PassSaleRequest(product: product, channel: "window", holder: holder))
        }
        func scan(_ sale: PassSaleResponse, at index: Int) async throws { rows.append(try await scanRow(sale, agents[index], gate: "G1")) }
        // Wuzhen and Suzhou sell each other's entries: two opposite flows that netting cancels.
        let fromWuzhen = try await sell(3, "WATER-TOWN-MUSEUM"), fromSuzhou = try await sell(4, "WATER-TOWN-MUSEUM")
        try await scan(fromWuzhen, at: 4)
        try await scan(fromSuzhou, at: 3)
        // Songcheng sells the three-park pass used at West Lake and the museum.
        let fromSongcheng = try await sell(1, "JIANGNAN-3P")
        for index in [0, 2] { try await scan(fromSongcheng, at: index) }
        // Paris sells the grand pass, used at every park; the museum sells one used in Paris and at West Lake.
        let fromParis = try await sell(5, "JIANGNAN-GRAND-6P")
        for index in 0..<6 { try await scan(fromParis, at: index) }
        let fromMuseum = try await sell(2, "JIANGNAN-GRAND-6P")
        for index in [5, 0] { try await scan(fromMuseum, at: index) }
        // A card loaded at Wuzhen (pay 800 get 80) spent at West Lake and in Paris.
        let (loaderPark, loader) = agents[3]
        let card = try SimulatedCard(try await loader.registerCard("IC-DEMO-0004", kind: .ic))
        _ = try await loader.loadCard("IC-DEMO-0004", loadID: "DEMO-LOAD-4", promotion: "LOAD800GET80")
        for (index, amount) in [(0, Int64(15_000)), (5, Int64(8_800))] {
            let (park, agent) = agents[index]
            let request = "DEMO-SPEND-4-\(index)"
            let spend = try await agent.spendCard(
                "IC-DEMO-0004", requestID: request, amountMinor: amount,
                proof: card.proof(.hold, amountMinor: amount, park: park.id.rawValue, requestID: request))
            print("      card loaded at \(loaderPark.id) spent at \(park.id): \(Money(minorUnits: amount)) (\(spend.state))")
        }
        for (_, agent) in agents { try await agent.deliverOutbox() }
        return rows
    }

    /// After the cut-off: C01 closes the day; C01's own release is refused (four eyes) and C02 releases it; the
    /// payment files are written; the bank's camt.053 statement is imported and matched; a park disputes a line and
    /// clearing staff decide it; the calendar shows the day final.
    static func playClearing(
        hub: Hub, agents: [(ParkManifest, NodeAgent)], root: String, day: CivilDay
    ) async throws -> (record: SettlementBatchRecord, export: SettlementExport) {
        let cutOff = hub.endOfDay(day)
        let record = try await hub.runSettlement(day: day, by: .clearing("C01"), now: cutOff.addingTimeInterval(1))
        let export = try await hub.settlementExport(record)
        print("\n" + SettlementReport.table(export))
        var checks: [String] = []
        for (park, agent) in agents {
            let check = try await agent.verifySettlement(record.id)
            checks.append("\(park.id) \(check.problems.isEmpty ? "✓ \(check.linesChecked) lines" : "✗ \(check.problems.joined(separator: "; "))")")
        }
        print("each park checked its own lines against what it holds: " + checks.joined(separator: ", "))
        do {
            _ = try await hub.approveSettlement(record.id, by: .clearing("C01"))
            print("clearing C01 approved its own batch (unexpected!)")
        } catch let refusal as Refusal {
            print("clearing C01, who ran the batch, tries to release it → \(refusal.code)")
        }
        let approved = try await hub.approveSettlement(record.id, by: .clearing("C02"))
        print("clearing C02 released it: \(approved.state); the release is a hub-signed statement in the log naming both")
        let directory = (root as NSString).appendingPathComponent("clearing")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let files = try await hub.paymentFiles(record.id, by: .clearing("C01"))
        var written: [String] = []
        for (name, body) in [("pain.001.xml", files.pain001), ("pain.008.xml", files.pain008), ("notices.csv", Optional(files.noticesCSV))] {
            guard let body else { continue }
            let path = (directory as NSString).appendingPathComponent("\(record.id)-\(name)")
            try body.write(toFile: path, atomically: true, encoding: .utf8)
            written.append(path)
        }
        let run = try await hub.paymentRun(record.id)
        print(
            "payment files (due \(files.paymentDay)): \(run.payouts.count) pay-out(s) in pain.001, \(run.collections.count) direct debit(s) in pain.008, \(run.notices.count) payment-due notice(s)"
        )
        for path in written { print("      \(path)") }
        // The bank executes them and sends the day's statement of the settlement account.
        guard let profile = try await hub.clearingAccounts().profile else { throw DemoError("the example federation has no settlement account") }
        let statement = SimulatedBank.camt053(
            id: "STMT-\(run.paymentDay)", account: profile.account, currency: run.currency, day: run.paymentDay,
            bookings: SimulatedBank.bookings(for: run), createdAt: cutOff.addingTimeInterval(86_400))
        let statementFile = (directory as NSString).appendingPathComponent("statement-\(run.paymentDay)-camt053.xml")
        try statement.write(toFile: statementFile, atomically: true, encoding: .utf8)
        let report = try await hub.importStatement(Data(statement.utf8), format: "camt053", by: .clearing("C01"))
        let outcomes = Dictionary(grouping: report.lines, by: \.outcome).mapValues(\.count).sorted { $0.key < $1.key }
        print(
            "bank statement \(report.statement) (\(statementFile)): \(report.lines.count) entries, "
                + outcomes.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + "; batch \(try await hub.settlementBatch(record.id).state)")
        // A park disputes one of its lines; clearing staff accept it: the reversal waits in the next open day.
        if let line = export.obligations.first(where: { $0.reason == "pass_redemption" && $0.from == agents[5].0.id.rawValue }) {
            let payer = agents.first { $0.0.id.rawValue == line.from }!.1
            let dispute = try await payer.fileDispute(batch: record.id, seq: line.seq, reason: "the visitor was turned back at the gate")
            let decided = try await hub.decideDispute(
                dispute.id, DisputeDecisionRequest(decision: "accept", reason: "the gate's log shows the scan was a test"), by: .clearing("C02"))
            print(
                "\(line.from) disputed line \(line.seq) (\(Money(minorUnits: line.amountMinor)) to \(line.to)): \(decided.state) by \(decided.decidedBy ?? "?"); "
                    + "its reversal goes into the batch of \(decided.adjustmentPeriod ?? "?") (\(decided.steps.count) signed steps)")
        }
        let calendar = try await hub.settlementCalendarReport(from: day, to: day.adding(days: 1))
        print(
            "settlement calendar: "
                + calendar.days.map { "\($0.day) \($0.state) (cut-off \($0.cutOff), payment \($0.paymentDay))" }.joined(separator: "; "))
        return (try await hub.settlementBatch(record.id), export)
    }
}

struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
