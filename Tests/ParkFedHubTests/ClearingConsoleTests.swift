import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Clearing staff's day in the console, with `curl` as the browser: four eyes on the page, the payment files, a
/// statement pasted and reconciled, an exception resolved and a dispute decided, in English and Chinese.
@Suite struct ClearingConsoleTests {
    static func token(_ page: String) throws -> String {
        try #require(page.firstMatch(of: /name="csrf" value="([^"]+)"/)?.1).description
    }

    static func post(
        _ federation: TestFederation, _ path: String, _ fields: [String], certificate: (certificate: String, key: String)
    ) async throws -> CurlResult {
        try await federation.curl(
            path, certificate: certificate, method: "POST",
            extra: ["-H", "content-type: application/x-www-form-urlencoded"] + fields.flatMap { ["--data-urlencode", $0] })
    }

    @Test func clearingStaffReleaseReconcileResolveAndDecideInTheConsole() async throws {
        try await TestFederation.run(configuration: ClearingTests.configuration) { federation in
            let hub = federation.hub
            let (record, agents) = try await ClearingTests.closeDay(federation)
            let c01 = try await federation.issueCertificate(for: .clearing("C01"), name: "c01")
            let c02 = try await federation.issueCertificate(for: .clearing("C02"), name: "c02")
            // The calendar shows the day closed, with its payment day; C01, who ran it, is refused on the page.
            let calendar = try await federation.curl("/console/settlement", certificate: c01)
            #expect(calendar.body.contains("data-day=\"\(record.day)\" data-state=\"closed\""), "\(calendar.body.prefix(2000))")
            let refused = try await Self.post(
                federation, "/console/settlement/\(record.id)/approve", ["confirm=yes", "csrf=\(try Self.token(calendar.body))"], certificate: c01)
            #expect(refused.httpStatus == 409 && refused.body.contains("four_eyes") && refused.body.contains("<html"), "\(refused.body.prefix(500))")
            let page = try await federation.curl("/console/settlement/\(record.id)/approve", certificate: c02)
            let approved = try await Self.post(
                federation, "/console/settlement/\(record.id)/approve", ["confirm=yes", "csrf=\(try Self.token(page.body))"], certificate: c02)
            #expect(approved.httpStatus == 303)
            // The batch page names who ran and who released it, and links the payment files.
            let batch = try await federation.curl("/console/settlement/\(record.id)", certificate: c02)
            #expect(batch.body.contains("id=\"ran-by\">clearing:C01<") && batch.body.contains("id=\"approved-by\">clearing:C02<"))
            #expect(batch.body.contains("files?format=pain.001") && batch.body.contains("files?format=notices.csv"))
            // A statement is pasted into the calendar's form: P002's pay-out and P001's transfer match, P003's is
            // short and a stranger's transfer is unknown.
            let run = try await hub.paymentRun(record.id)
            var bookings = SimulatedBank.bookings(for: run, short: ["P003": 80])
            bookings.append(.init(ref: "BK-X", direction: .credit, amountMinor: 500, remittance: "misdirected", counterparty: "Someone"))
            let profile = try #require(try await hub.clearingAccounts().profile)
            let camt = SimulatedBank.camt053(
                id: "STMT-1", account: profile.account, currency: "CNY", day: run.paymentDay, bookings: bookings, createdAt: Date())
            let file = federation.directory.file("statement.xml")
            try camt.write(toFile: file, atomically: true, encoding: .utf8)
            let imported = try await federation.curl(
                "/console/settlement/statements", certificate: c01, method: "POST",
                extra: [
                    "-H", "content-type: application/x-www-form-urlencoded", "--data-urlencode", "csrf=\(try Self.token(calendar.body))",
                    "--data-urlencode", "format=camt053", "--data-urlencode", "statement@\(file)", "-i",
                ])
            #expect(imported.body.contains("done=imported") && imported.body.contains("m=2") && imported.body.contains("e=2"), "\(imported.body.prefix(800))")
            let notice = try await federation.curl("/console/settlement?done=imported&statement=STMT-1&m=2&e=2&d=0", certificate: c01)
            #expect(notice.body.contains("Statement STMT-1: 2 matched, 2 exception(s)"))
            // The exceptions page lists both; one is resolved with a reason (none: refused, nothing changes).
            let exceptions = try await federation.curl("/console/settlement/exceptions", certificate: c01)
            #expect(exceptions.body.components(separatedBy: "data-state=\"open\"").count == 3, "\(exceptions.body.prefix(3000))")
            let unknown = try #require(try await hub.clearingExceptions(open: true).first { $0.outcome == "unknown" })
            let empty = try await Self.post(
                federation, "/console/settlement/exceptions/\(unknown.id)/resolve", ["csrf=\(try Self.token(exceptions.body))", "reason="], certificate: c01)
            #expect(empty.httpStatus == 400 && empty.body.contains("invalid_reason"))
            let resolved = try await Self.post(
                federation, "/console/settlement/exceptions/\(unknown.id)/resolve",
                ["csrf=\(try Self.token(exceptions.body))", "reason=returned to the sender's bank"], certificate: c01)
            #expect(resolved.httpStatus == 303)
            let after = try await federation.curl("/console/settlement/exceptions?lang=zh", certificate: c01)
            #expect(
                after.body.contains("returned to the sender&#39;s bank (clearing:C01)") || after.body.contains("returned to the sender's bank (clearing:C01)"))
            #expect(after.body.contains("已处理") && after.body.contains("部分到账"))
            // P003 disputes a line; clearing staff accept it on the disputes page.
            let export = try await hub.settlementExport(record)
            let line = try #require(export.obligations.first { $0.from == "P003" })
            let dispute = try await agents[2].fileDispute(batch: record.id, seq: line.seq, reason: "no such entry at the gate")
            let disputes = try await federation.curl("/console/settlement/disputes", certificate: c02)
            #expect(disputes.body.contains("data-dispute=\"\(dispute.id)\" data-state=\"open\""))
            let decided = try await Self.post(
                federation, "/console/settlement/disputes/\(dispute.id)/decision",
                ["csrf=\(try Self.token(disputes.body))", "decision=accept", "reason=the gate log agrees"], certificate: c02)
            #expect(decided.httpStatus == 303)
            let zh = try await federation.curl("/console/settlement/disputes?lang=zh", certificate: c02)
            #expect(zh.body.contains("data-state=\"accepted\"") && zh.body.contains("已接受") && zh.body.contains("冲正计入批次 \(record.day.adding(days: 1))"))
            #expect(try await hub.disputeView(dispute.id, for: .hub).decidedBy == "clearing:C02")
            // A park's certificate opens none of these pages.
            let park = (agents[0].directory.tlsCertificate, agents[0].directory.tlsKey)
            for path in ["/console/settlement/exceptions", "/console/settlement/disputes"] {
                #expect(try await federation.curl(path, certificate: park).httpStatus == 403)
            }
        }
    }
}
