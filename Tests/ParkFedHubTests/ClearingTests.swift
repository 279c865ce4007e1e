import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Clearing staff's day on a real hub, on the hand-computed day of ``SettlementTests/playDay(_:)`` (1 % fee):
/// positions P001 −91.50, P002 +108.40, P003 −20.80, hub +3.90. Four eyes, payment files validated against the
/// ISO 20022 XSDs, a bank statement with a short payment and an unknown entry, disputes and their adjustments, and
/// what a hostile park tries beside each.
@Suite struct ClearingTests {
    static let configuration = HubConfiguration(federation: "Clearing", settlementFeeBasisPoints: 100, settlementTime: nil)

    /// Re-imports the example federation with a direct-debit mandate for P003, so the day has a pay-out (P002), a
    /// collection (P003, pain.008) and a payment-due notice (P001).
    static func importWithMandate(_ federation: TestFederation) async throws {
        let partners = federation.directory.file("partners")
        try FileManager.default.copyItem(atPath: TestFederation.partnersDirectory, toPath: partners)
        let file = partners + "/parks/P003.json"
        var park = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as! [String: Any]
        var bank = park["bank"] as! [String: Any]
        bank["mandate"] = ["id": "JNSF-DD-P003-2026", "signed_on": "2026-05-20"]
        park["bank"] = bank
        try JSONSerialization.data(withJSONObject: park).write(to: URL(fileURLWithPath: file))
        _ = try await federation.hub.importParks(directory: partners)
    }

    static func closeDay(_ federation: TestFederation, by principal: Principal = .clearing("C01")) async throws -> (SettlementBatchRecord, [NodeAgent]) {
        let agents = try await SettlementTests.playDay(federation)
        let today = federation.hub.passes.calendar.day(of: Date())
        let record = try await federation.hub.runSettlement(day: today, by: principal, now: federation.hub.endOfDay(today).addingTimeInterval(60))
        return (record, agents)
    }

    /// Checks `value`, as the hub sends it, against `schemas/<schema>.schema.json` with Python's jsonschema.
    static func conforms(_ federation: TestFederation, _ schema: String, _ value: some Encodable) async throws {
        let file = federation.directory.file("\(schema)-\(UUID().uuidString).json")
        try StrictJSON.encoder.encode(value).write(to: URL(fileURLWithPath: file))
        let result = try await ExternalTool.run(
            "python3", [Verifiers.path("validate_schemas.py"), Verifiers.repositoryRoot + "/schemas/\(schema).schema.json=" + file])
        #expect(result.succeeded, "\(schema): \(result.stdout)\(result.stderr)")
    }

    static func refusal(_ body: () async throws -> Void) async -> Refusal? {
        do { try await body() } catch let refusal as Refusal { return refusal } catch { return nil }
        return nil
    }

    @Test func aSecondClearingPersonReleasesTheBatchAndTheLogSaysWhoRanAndWhoReleased() async throws {
        try await TestFederation.run(configuration: Self.configuration) { federation in
            let hub = federation.hub
            let (record, agents) = try await Self.closeDay(federation)
            // The person who ran it cannot release it, nor can one who re-ran it; a park never can.
            #expect(await Self.refusal { _ = try await hub.approveSettlement(record.id, by: .clearing("C01")) }?.code == "four_eyes")
            _ = try await hub.runSettlement(day: record.day, by: .clearing("C02"), now: hub.endOfDay(record.day).addingTimeInterval(120))
            #expect(await Self.refusal { _ = try await hub.approveSettlement(record.id, by: .clearing("C02")) }?.code == "four_eyes")
            #expect(await Self.refusal { _ = try await hub.approveSettlement(record.id, by: .park(agents[0].park)) }?.kind == .forbidden)
            #expect(await Self.refusal { _ = try await hub.approveSettlement(record.id, by: .hub) }?.kind == .forbidden)
            #expect(try await hub.settlementBatch(record.id).state == "draft")
            // Over mutual TLS as well: C01's own certificate is refused with the problem code.
            let c01 = try await federation.issueCertificate(for: .clearing("C01"), name: "c01")
            let refused = try await federation.curl("/v1/settlement/batches/\(record.id)/approve", certificate: c01, method: "POST", body: "")
            #expect(refused.httpStatus == 409 && refused.body.contains("four_eyes"), "\(refused.body)")
            let c03 = try await federation.issueCertificate(for: .clearing("C03"), name: "c03")
            let released = try await federation.curl("/v1/settlement/batches/\(record.id)/approve", certificate: c03, method: "POST", body: "")
            #expect(released.httpStatus == 200, "\(released.body)")
            let approved = try await hub.settlementBatch(record.id)
            #expect(approved.state == "approved" && approved.approvedBy == "clearing:C03" && approved.body == record.body)
            // The release is a hub-signed statement in the log naming both.
            let statements = try await hub.store.clearingStatements(subject: record.id)
            #expect(statements.map(\.action) == ["batch.approved"])
            let jws = try JWS(compact: statements[0].jws)
            let statement = try SettlementStatement.verify(jws, hubKey: hub.signingKey.publicKey)
            #expect(statement.principal == "clearing:C03" && statement.ranBy == ["clearing:C01", "clearing:C02"])
            #expect(statement.batchDigest == Hex.encode(SHA256.hash(data: Data(record.signature.utf8))))
            // An outside verifier (jwcrypto) checks it with the hub's key, and it matches its schema.
            let file = federation.directory.file("approval.jws")
            try statements[0].jws.write(toFile: file, atomically: true, encoding: .utf8)
            let verified = try await ExternalTool.run("python3", [Verifiers.path("verify_jws.py"), file, hub.signingKey.publicKey.base64URL])
            #expect(verified.succeeded, "\(verified.stderr)")
            try verified.stdout.write(toFile: file + ".json", atomically: true, encoding: .utf8)
            let conforms = try await ExternalTool.run(
                "python3", [Verifiers.path("validate_schemas.py"), Verifiers.repositoryRoot + "/schemas/settlement-statement.schema.json=" + file + ".json"])
            #expect(conforms.succeeded, "\(conforms.stdout)\(conforms.stderr)")
            // Clearing staff read it from the log (a regulator query they may not), and the log still verifies.
            #expect(try await federation.curl("/v1/log/entries/\(statements[0].index)", certificate: c01).httpStatus == 200)
            await #expect(try LogVerifier(hub: hub).verify().ok)
            // Approved is final: approving again changes nothing, and no statement is added.
            #expect(try await hub.approveSettlement(record.id, by: .clearing("C04")).approvedBy == "clearing:C03")
            #expect(try await hub.store.clearingStatements(subject: record.id).count == 1)
        }
    }

    @Test func theHubsOwnScheduledRunIsReleasedByAnyClearingPerson() async throws {
        try await TestFederation.run(configuration: Self.configuration) { federation in
            let (record, _) = try await Self.closeDay(federation, by: .hub)
            #expect(try await federation.hub.store.runners(record.id) == ["hub"])
            #expect(try await federation.hub.approveSettlement(record.id, by: .clearing("C01")).state == "approved")
        }
    }

    @Test func paymentFilesCarryThePositionsExactlyAreValidISO20022AndReExportByteForByte() async throws {
        try await TestFederation.run(configuration: Self.configuration) { federation in
            let hub = federation.hub
            try await Self.importWithMandate(federation)
            let (record, agents) = try await Self.closeDay(federation)
            // No files for a draft.
            #expect(await Self.refusal { _ = try await hub.paymentFiles(record.id, by: .clearing("C01")) }?.code == "not_approved")
            _ = try await hub.approveSettlement(record.id, by: .clearing("C02"))
            let files = try await hub.paymentFiles(record.id, by: .clearing("C01"))
            let calendar = try await hub.settlementCalendar()
            let paymentDay = try CivilDay(files.paymentDay)
            #expect(files.paymentDay == calendar.paymentDay(for: record.day).description && calendar.isBankDay(paymentDay))
            let pain001 = try #require(files.pain001), pain008 = try #require(files.pain008)
            let reference = { (park: String) in PaymentRun.reference(day: record.day, party: park) }
            // Pay-out: P002 receives 108.40 into its CNAPS account, from the federation's settlement account.
            #expect(pain001.contains("<NbOfTxs>1</NbOfTxs>") && pain001.contains("<CtrlSum>108.40</CtrlSum>"))
            #expect(pain001.contains("<InstdAmt Ccy=\"CNY\">108.40</InstdAmt>") && pain001.contains("<EndToEndId>\(reference("P002"))</EndToEndId>"))
            #expect(pain001.contains("<MmbId>105331000018</MmbId>") && pain001.contains("<Id>33050161000000001234</Id>"))
            #expect(pain001.contains("<Cd>CNAPS</Cd>") && pain001.contains("<Id>33010120000012345678</Id>"))
            #expect(pain001.contains("<MsgId>PF-\(record.id)-CT</MsgId>") && pain001.contains("<Dt>\(files.paymentDay)</Dt>"))
            // Collection: P003 (mandate) owes 20.80; P001 (no mandate) gets a payment-due notice for 91.50.
            #expect(pain008.contains("<InstdAmt Ccy=\"CNY\">20.80</InstdAmt>") && pain008.contains("<MndtId>JNSF-DD-P003-2026</MndtId>"))
            #expect(pain008.contains("<ReqdColltnDt>\(files.paymentDay)</ReqdColltnDt>") && !pain008.contains("P001"))
            #expect(files.noticesCSV.split(separator: "\n").count == 2 && files.noticesCSV.contains("P001,9150,CNY,\(files.paymentDay)"))
            #expect(files.noticesCSV.contains(reference("P001")))
            // The hub's fee position (3.90) stays in the settlement account: no line for it anywhere.
            #expect(!pain001.contains("hub") && !pain008.contains(">hub<"))
            // Valid against the XSDs the pain001 package ships.
            let dir = federation.directory.path
            try pain001.write(toFile: dir + "/pain001.xml", atomically: true, encoding: .utf8)
            try pain008.write(toFile: dir + "/pain008.xml", atomically: true, encoding: .utf8)
            let valid = try await ExternalTool.run(
                "python3", [Verifiers.path("validate_iso20022.py"), "pain.001.001.09=\(dir)/pain001.xml", "pain.008.001.08=\(dir)/pain008.xml"])
            #expect(valid.succeeded, "\(valid.stdout)\(valid.stderr)")
            // The validator can fail: a file with its amount text broken is refused.
            try pain001.replacingOccurrences(of: ">108.40<", with: ">108,40<").write(toFile: dir + "/bad.xml", atomically: true, encoding: .utf8)
            #expect(!(try await ExternalTool.run("python3", [Verifiers.path("validate_iso20022.py"), "pain.001.001.09=\(dir)/bad.xml"])).succeeded)
            // A re-export, over mutual TLS with curl, is byte-identical.
            let c01 = try await federation.issueCertificate(for: .clearing("C01"), name: "c01")
            let again = try await federation.curl("/v1/settlement/batches/\(record.id)/files?format=pain.001", certificate: c01)
            #expect(again.httpStatus == 200 && again.body == pain001)
            #expect(try await hub.paymentFiles(record.id, by: .clearing("C03")) == files)
            // A park may not fetch them.
            let park = try await federation.curl(
                "/v1/settlement/batches/\(record.id)/files", certificate: (agents[0].directory.tlsCertificate, agents[0].directory.tlsKey))
            #expect(park.httpStatus == 403)
            #expect(try await hub.settlementCalendarReport(from: record.day, to: record.day).days[0].state == "files_issued")
            try await Self.conforms(federation, "payment-files", files)
            try await Self.conforms(
                federation, "settlement-calendar", try await hub.settlementCalendarReport(from: record.day.adding(days: -2), to: record.day))
        }
    }

    @Test func aStatementWithAShortPaymentAndAnUnknownEntryLandsBothInExceptions() async throws {
        try await TestFederation.run(configuration: Self.configuration) { federation in
            let hub = federation.hub
            try await Self.importWithMandate(federation)
            let (record, agents) = try await Self.closeDay(federation)
            _ = try await hub.approveSettlement(record.id, by: .clearing("C02"))
            _ = try await hub.paymentFiles(record.id, by: .clearing("C01"))
            let run = try await hub.paymentRun(record.id)
            // The bank pays out P002, collects P003's direct debit 10.00 short, receives P001's transfer, and books
            // a transfer nobody expected.
            var bookings = SimulatedBank.bookings(for: run, short: ["P003": 1_000])
            bookings.append(.init(ref: "BK-UNKNOWN-1", direction: .credit, amountMinor: 4_321, remittance: "tuition fee", counterparty: "Someone"))
            let profile = try #require(try await hub.clearingAccounts().profile)
            let camt = SimulatedBank.camt053(
                id: "STMT-\(record.day)", account: profile.account, currency: "CNY", day: run.paymentDay, bookings: bookings, createdAt: Date())
            let file = federation.directory.file("camt053.xml")
            try camt.write(toFile: file, atomically: true, encoding: .utf8)
            let valid = try await ExternalTool.run("python3", [Verifiers.path("validate_iso20022.py"), "camt.053.001.08=\(file)"])
            #expect(valid.succeeded, "\(valid.stdout)\(valid.stderr)")
            // Imported over mutual TLS by clearing staff (a park is refused).
            let c01 = try await federation.issueCertificate(for: .clearing("C01"), name: "c01")
            #expect(
                try await federation.curl(
                    "/v1/settlement/statements", certificate: (agents[0].directory.tlsCertificate, agents[0].directory.tlsKey), method: "POST", body: camt
                ).httpStatus == 403)
            let posted = try await federation.curl("/v1/settlement/statements?format=camt053", certificate: c01, method: "POST", body: camt)
            #expect(posted.httpStatus == 201, "\(posted.body)")
            let report = try StrictJSON.decode(ReconciliationReport.self, from: Data(posted.body.utf8))
            #expect(
                report.lines.map { "\($0.park ?? "-") \($0.direction) \($0.amountMinor) \($0.outcome)" } == [
                    "P002 debit 10840 matched", "P003 credit 1080 partly_paid", "P001 credit 9150 matched", "- credit 4321 unknown",
                ])
            #expect(report.paid.sorted() == ["\(record.id) P001", "\(record.id) P002"])
            try await Self.conforms(federation, "reconciliation-report", report)
            let open = try await hub.clearingExceptions(open: true)
            try await Self.conforms(federation, "clearing-exception-list", ClearingExceptionList(exceptions: open))
            #expect(open.map { "\($0.outcome) \($0.amountMinor) \($0.park ?? "-")" }.sorted() == ["partly_paid 1080 P003", "unknown 4321 -"])
            #expect(try await hub.settlementBatch(record.id).state == "approved")
            #expect(try await hub.settlementCalendarReport(from: record.day, to: record.day).days[0].openExceptions == 1)
            // The same statement again changes nothing: every entry a duplicate, no new exception, nothing paid twice.
            let twice = try await hub.importStatement(Data(camt.utf8), format: "camt053", by: .clearing("C01"))
            #expect(twice.lines.allSatisfy { $0.outcome == "duplicate" } && twice.paid.isEmpty)
            #expect(try await hub.clearingExceptions().count == 2)
            // The rest of P003's payment arrives on the next statement (the bank's CSV form): matched, the short
            // payment's exception settled by it, every position paid.
            let csv = """
                entry_ref,booking_date,direction,amount,currency,reference
                BK-REST-1,\(run.paymentDay),CRDT,10.00,CNY,"\(PaymentRun.reference(day: record.day, party: "P003")) rest"
                """
            let rest = try await hub.importStatement(Data(csv.utf8), format: "csv", by: .clearing("C01"))
            #expect(rest.lines.map(\.outcome) == ["matched"] && rest.lines[0].receivedMinor == 2_080 && rest.paid == ["\(record.id) P003"])
            #expect(try await hub.settlementBatch(record.id).state == "paid")
            #expect(try await hub.clearingExceptions(open: true).map(\.outcome) == ["unknown"])
            #expect(try await hub.settlementCalendarReport(from: record.day, to: record.day).days[0].state == "final")
            // Clearing staff resolve the unknown one with a reason; without one they are refused.
            let unknown = try #require(try await hub.clearingExceptions(open: true).first)
            #expect(await Self.refusal { _ = try await hub.resolveException(unknown.id, reason: " ", by: .clearing("C01")) }?.code == "invalid_reason")
            #expect(await Self.refusal { _ = try await hub.resolveException(unknown.id, reason: "returned", by: .park(agents[0].park)) }?.kind == .forbidden)
            let resolved = try await hub.resolveException(unknown.id, reason: "not ours: returned to sender", by: .clearing("C01"))
            #expect(resolved.state == "resolved" && resolved.resolvedBy == "clearing:C01")
            #expect(try await hub.clearingExceptions(open: true).isEmpty)
            // A statement of another account, or one that is not XML, is refused and changes nothing.
            let other = SimulatedBank.camt053(
                id: "OTHER", account: BankAccount(holder: "x", cnaps: "102331000011", account: "999999999"), currency: "CNY", day: run.paymentDay,
                bookings: bookings, createdAt: Date())
            #expect(
                await Self.refusal { _ = try await hub.importStatement(Data(other.utf8), format: "camt053", by: .clearing("C01")) }?.code == "wrong_account")
            #expect(
                await Self.refusal { _ = try await hub.importStatement(Data("<x".utf8), format: "camt053", by: .clearing("C01")) }?.code == "invalid_statement")
            #expect(try await hub.clearingExceptions().count == 2)
        }
    }

    @Test func aDisputedLineComesBackInTheNextBatchWithTheOppositeSignAndItsAssertions() async throws {
        try await TestFederation.run(configuration: Self.configuration) { federation in
            let hub = federation.hub
            let (record, agents) = try await Self.closeDay(federation)
            let (p1, p2, p3) = (agents[0], agents[1], agents[2])
            _ = try await hub.approveSettlement(record.id, by: .clearing("C02"))
            let export = try await hub.settlementExport(record)
            // P003 owes P001 100.00 (fee 1.00) for an entry of P003's lake pass at P001's gate.
            let line = try #require(export.obligations.first { $0.from == "P003" && $0.to == "P001" })
            // A park that is not a party of the line cannot dispute it; a reason is needed.
            #expect(await Self.refusal { _ = try await p2.fileDispute(batch: record.id, seq: line.seq, reason: "not mine") }?.code == "not_your_line")
            #expect(await Self.refusal { _ = try await p3.fileDispute(batch: record.id, seq: line.seq, reason: "") }?.code == "invalid_reason")
            #expect(await Self.refusal { _ = try await p3.fileDispute(batch: record.id, seq: 999_999, reason: "no such") }?.code == "unknown_obligation")
            let filed = try await p3.fileDispute(batch: record.id, seq: line.seq, reason: "the visitor was turned away at the gate")
            #expect(filed.state == "open" && filed.assertionIDs == line.assertionIDs && filed.steps.map(\.action) == ["dispute.filed"])
            #expect(await Self.refusal { _ = try await p1.fileDispute(batch: record.id, seq: line.seq, reason: "again") }?.code == "already_disputed")
            // Both parties see it; the third park does not; only clearing staff decide.
            #expect(try await p1.dispute(filed.id).id == filed.id)
            #expect(await Self.refusal { _ = try await p2.dispute(filed.id) } != nil)
            #expect(
                await Self.refusal { _ = try await hub.decideDispute(filed.id, .init(decision: "accept", reason: "ok"), by: .park(p3.park)) }?.kind
                    == .forbidden)
            #expect(try await hub.settlementCalendarReport(from: record.day, to: record.day).days[0].openDisputes == 1)
            let accepted = try await hub.decideDispute(
                filed.id, .init(decision: "accept", reason: "gate log shows no entry"), by: .clearing("C01"))
            let tomorrow = record.day.adding(days: 1)
            #expect(accepted.state == "accepted" && accepted.adjustmentPeriod == tomorrow.description)
            #expect(
                await Self.refusal { _ = try await hub.decideDispute(filed.id, .init(decision: "reject", reason: "changed"), by: .clearing("C01")) }?.code
                    == "already_decided")
            // The closed, approved batch is unchanged; the adjustment is in the next day's batch, apart from its own
            // obligations, reversing the original exactly: P001 gives back 99.00, the hub its 1.00 fee.
            #expect(try await hub.settlementBatch(record.id).body == record.body)
            let next = try await hub.settlementExport(
                try await hub.runSettlement(day: tomorrow, by: .clearing("C01"), now: hub.endOfDay(tomorrow).addingTimeInterval(60)))
            #expect(next.obligations.isEmpty)
            #expect(
                next.adjustments.map { "\($0.from)→\($0.to) \($0.amountMinor) of \($0.originalBatch)#\($0.originalSeq)" } == [
                    "P003→P001 -9900 of \(record.id)#\(line.seq)", "P003→hub -100 of \(record.id)#\(line.seq)",
                ])
            #expect(next.adjustments.allSatisfy { $0.assertionIDs == line.assertionIDs && $0.dispute == filed.id })
            #expect(next.batch.positions.map { "\($0.park) \($0.netMinor)" } == ["P001 -9900", "P003 10000", "hub -100"])
            // Each party checks the next batch against what it holds, and every step of the dispute is the hub's
            // signed word, verified by the park with the hub key from its enrollment.
            for agent in [p1, p3] {
                let check = try await agent.verifySettlement(next.batch.id)
                #expect(check.problems.isEmpty, "\(agent.park): \(check.problems)")
            }
            try await Self.conforms(federation, "settlement-export", next)
            try await Self.conforms(federation, "dispute-list", DisputeList(disputes: try await hub.disputes(for: .clearing("C01"))))
            let seen = try await p3.dispute(filed.id)
            #expect(seen.steps.map(\.action) == ["dispute.filed", "dispute.accepted"])
            // A dispute of the other line is rejected with a reason: nothing moves.
            let other = try #require(export.obligations.first { $0.from == "P001" && $0.to == "P003" })
            let second = try await p3.fileDispute(batch: record.id, seq: other.seq, reason: "allocation looks low")
            let rejected = try await hub.decideDispute(second.id, .init(decision: "reject", reason: "allocation is the product's"), by: .clearing("C02"))
            #expect(rejected.state == "rejected" && rejected.adjustmentPeriod == nil && rejected.steps.count == 2)
            // Past the window (7 days after the batch's day) a line can no longer be disputed.
            let late = try #require(export.obligations.first { $0.from == "P001" && $0.to == "P002" })
            #expect(
                await Self.refusal {
                    _ = try await hub.fileDispute(
                        .init(batch: record.id, seq: late.seq, reason: "late"), by: .park(p2.park), now: hub.endOfDay(record.day.adding(days: 8)))
                }?.code == "dispute_window_closed")
            await #expect(try LogVerifier(hub: hub).verify().ok)
        }
    }

    @Test func clearingStaffRunTheDayFromTheCommandLineAndAHandMarkingSaysWhoAndWhy() async throws {
        try await TestFederation.run(configuration: Self.configuration) { federation in
            let hub = federation.hub
            let (record, agents) = try await Self.closeDay(federation)
            let data = hub.directory.path, day = record.day.description
            func parkfed(_ arguments: [String]) async throws -> ExternalTool.Result {
                try await ExternalTool.run(try BackgroundProcess.parkfedExecutable(), ["settle"] + arguments + ["--data", data])
            }
            let refused = try await parkfed(["approve", "--day", day, "--by", "C01"])
            #expect(!refused.succeeded && refused.stderr.contains("four_eyes"), "\(refused.stdout)\(refused.stderr)")
            let approved = try await parkfed(["approve", "--day", day, "--by", "C02"])
            #expect(approved.succeeded && approved.stdout.contains("approved by clearing:C02"), "\(approved.stdout)\(approved.stderr)")
            let out = federation.directory.file("bank")
            let files = try await parkfed(["files", "--day", day, "--by", "C01", "--out", out])
            #expect(files.succeeded && files.stdout.contains("\(record.id)-pain.001.xml"), "\(files.stdout)\(files.stderr)")
            #expect(FileManager.default.fileExists(atPath: out + "/\(record.id)-notices.csv"))
            // The bank's CSV: P002's pay-out and P003's transfer; P001's payment is marked by hand below.
            let run = try await hub.paymentRun(record.id)
            let csv = federation.directory.file("statement.csv")
            try """
            entry_ref,booking_date,direction,amount,currency,reference
            B1,\(run.paymentDay),DBIT,108.40,CNY,\(PaymentRun.reference(day: record.day, party: "P002"))
            B2,\(run.paymentDay),CRDT,20.80,CNY,\(PaymentRun.reference(day: record.day, party: "P003")) settlement
            B3,\(run.paymentDay),CRDT,1.00,CNY,interest
            """.write(toFile: csv, atomically: true, encoding: .utf8)
            let reconciled = try await parkfed(["reconcile", "--by", "C01", csv])
            #expect(
                reconciled.succeeded && reconciled.stdout.contains("matched") && reconciled.stdout.contains("unknown"),
                "\(reconciled.stdout)\(reconciled.stderr)")
            let exceptions = try await parkfed(["exceptions", "--open"])
            #expect(exceptions.succeeded && exceptions.stdout.contains("B3") && exceptions.stdout.contains("unknown"), "\(exceptions.stdout)")
            let id = try #require(try await hub.clearingExceptions(open: true).first?.id)
            let resolved = try await parkfed(["resolve", "--by", "C01", "--reason", "bank interest, booked to income", String(id)])
            #expect(resolved.succeeded && resolved.stdout.contains("resolved by clearing:C01"), "\(resolved.stdout)\(resolved.stderr)")
            // By hand, with who and why: a park cannot; a reason is needed; the step is a signed statement.
            #expect(
                await Self.refusal {
                    _ = try await hub.recordSettlementPayments(record.id, [.init(park: "P001", reference: "FAX-1")], by: .park(agents[0].park))
                }?
                .kind == .forbidden)
            let noReason = try await parkfed(["mark-paid", "--day", day, "--by", "C01", "--reason", "", "P001=FAX-1"])
            #expect(!noReason.succeeded)
            let marked = try await parkfed(["mark-paid", "--day", day, "--by", "C01", "--reason", "bank's fax of the transfer", "P001=FAX-1"])
            #expect(marked.succeeded && marked.stdout.contains("paid"), "\(marked.stdout)\(marked.stderr)")
            let statements = try await hub.store.clearingStatements(subject: record.id)
            #expect(statements.map(\.action) == ["batch.approved", "payment.marked"])
            let byHand = try SettlementStatement.verify(try JWS(compact: statements[1].jws), hubKey: hub.signingKey.publicKey)
            #expect(
                byHand.principal == "clearing:C01" && byHand.park == "P001" && byHand.reason == "bank's fax of the transfer" && byHand.amountMinor == -9_150)
            #expect(try await hub.store.clearingState(record.id).paidBy == ["P001": "hand", "P002": "statement", "P003": "statement"])
            let calendar = try await parkfed(["calendar", "--from", day, "--to", day])
            #expect(calendar.succeeded && calendar.stdout.contains("\(day)  final"), "\(calendar.stdout)\(calendar.stderr)")
            let json = try await parkfed(["calendar", "--from", day, "--to", day, "--json"])
            #expect(json.stdout.contains("\"state\" : \"final\""), "\(json.stdout)")
        }
    }
}
