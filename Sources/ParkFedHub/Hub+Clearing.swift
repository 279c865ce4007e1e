import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// Clearing staff's day after a batch is closed: release by a second person (four eyes), the bank's payment files,
/// reconciliation of the bank statement with its exceptions, parks' disputes and their adjustments, and the
/// settlement calendar. Every step that changes money or a decision is a hub-signed statement in the log, appended
/// in the transaction that takes the step.
extension Hub {
    // MARK: Accounts and calendar

    /// The key under which the federation's settlement profile is stored beside the parks' accounts.
    static let federationAccountKey = "federation"

    /// Stores the federation's settlement profile and each park's bank account from the partner catalogue.
    func importClearingAccounts(_ catalog: PartnerCatalog) async throws {
        var bodies: [String: String] = [:]
        if let profile = catalog.manifest.settlement {
            bodies[Self.federationAccountKey] = String(decoding: try StrictJSON.encoder.encode(profile), as: UTF8.self)
        }
        for park in catalog.parks {
            if let bank = park.bank { bodies[park.id.rawValue] = String(decoding: try StrictJSON.encoder.encode(bank), as: UTF8.self) }
        }
        try await store.setClearingAccounts(bodies)
    }

    /// The federation's settlement profile and the parks' bank accounts, as imported.
    public func clearingAccounts() async throws -> (profile: SettlementProfile?, parks: [String: BankAccount]) {
        var profile: SettlementProfile?
        var parks: [String: BankAccount] = [:]
        for (party, body) in try await store.clearingAccounts() {
            if party == Self.federationAccountKey {
                profile = try StrictJSON.decode(SettlementProfile.self, from: Data(body.utf8))
            } else {
                parks[party] = try StrictJSON.decode(BankAccount.self, from: Data(body.utf8))
            }
        }
        return (profile, parks)
    }

    /// The settlement calendar of the imported profile (weekends only without one).
    public func settlementCalendar() async throws -> SettlementCalendar {
        guard let profile = try await clearingAccounts().profile else { return try SettlementCalendar() }
        return try SettlementCalendar(
            holidays: Set(try profile.bankHolidays.map { try CivilDay($0) }),
            workingWeekendDays: Set(try (profile.workingWeekendDays ?? []).map { try CivilDay($0) }),
            paymentLagBankDays: profile.paymentLagBankDays ?? 1)
    }

    // MARK: Four eyes

    /// Releases a draft batch. Only a clearing person who did not run (or re-run) it may: the release is a hub-signed
    /// `batch.approved` statement in the log naming who ran it and who released it, written with the state change.
    /// Approving an approved batch again answers it unchanged.
    public func approveSettlement(_ id: String, by principal: Principal, now: Date = Date()) async throws -> SettlementBatchRecord {
        let record = try await settlementBatch(id)
        guard record.state == "draft" else { return record }
        let runners = try await store.runners(id)
        if let refusal = FourEyes.refusal(approver: principal, runners: Set(runners)) { throw refusal }
        var statement = SettlementStatement(
            id: "ST-" + UUIDv7.make(now: now), action: .batchApproved, issuedAt: now, batch: id, principal: principal.description)
        statement.ranBy = runners
        statement.batchDigest = Hex.encode(SHA256.hash(data: Data(record.signature.utf8)))
        let index = try await log.record([(statement, .approve(batch: id, by: principal.description, ranBy: runners))], now: now)
        logger.notice("batch approved", metadata: ["batch": "\(id)", "by": "\(principal)", "ran_by": "\(runners)", "log_index": "\(index)"])
        return try await settlementBatch(id)
    }

    /// Marks positions paid by hand, with who and why: each a `payment.marked` statement in the log. The bank
    /// statement (``importStatement(_:format:by:now:)``) marks them without anyone's hand.
    public func recordSettlementPayments(
        _ id: String, _ payments: [SettlementExport.Payment], by principal: Principal, reason: String = "payment reference recorded by hand", now: Date = Date()
    ) async throws -> SettlementBatchRecord {
        try Self.require(principal, [.clearing], "Only clearing staff mark positions paid")
        let record = try await settlementBatch(id)
        let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            try Check.text(reason, "reason", max: 500)
            for payment in payments { try Check.text(payment.reference, "reference", max: 128) }
        } catch {
            throw Refusal(.invalid, code: "invalid_body", title: "Invalid payment", detail: error.message)
        }
        guard record.state != "draft" else {
            throw Refusal(.conflict, code: "not_approved", title: "Payment refused", detail: "batch \(id) must be approved before it is paid")
        }
        let parties = Set(batch.positions.filter { $0.netMinor != 0 && $0.park != Netting.hubParty }.map(\.park))
        var steps: [(statement: SettlementStatement, effect: ClearingEffect)] = []
        for payment in payments where record.payments[payment.park] == nil {
            guard parties.contains(payment.park) else {
                throw Refusal(.conflict, code: "settlement_conflict", title: "Payment refused", detail: "\(payment.park) has no position to pay in \(id)")
            }
            var statement = SettlementStatement(
                id: "ST-" + UUIDv7.make(now: now), action: .paymentMarked, issuedAt: now, batch: id, principal: principal.description)
            statement.park = payment.park
            statement.reference = payment.reference
            statement.reason = reason
            statement.amountMinor = batch.positions.first { $0.park == payment.park }?.netMinor
            steps.append((statement, .markPaid(batch: id, party: payment.park, reference: payment.reference, by: principal.description, reason: reason)))
        }
        if !steps.isEmpty { try await log.record(steps, now: now) }
        return try await settlementBatch(id)
    }

    // MARK: Payment files

    /// What an approved batch asks the bank to do: pay-outs to the net receivers, direct debits from payers with a
    /// mandate, payment-due notices for the others; due on the settlement calendar's payment day.
    public func paymentRun(_ id: String) async throws -> PaymentRun {
        let record = try await settlementBatch(id)
        guard record.state != "draft", let approvedAt = record.approvedAt else {
            throw Refusal(
                .conflict, code: "not_approved", title: "No payment files for a draft", detail: "\(id) must be approved by a second clearing person first")
        }
        let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
        let (profile, accounts) = try await clearingAccounts()
        guard let profile else {
            throw Refusal(
                .conflict, code: "no_settlement_account", title: "No settlement account",
                detail: "import a federation.json with a settlement block (parkfed hub import-partners)")
        }
        var payouts: [PaymentRun.Line] = [], collections: [PaymentRun.Line] = [], notices: [PaymentRun.Line] = [], missing: [String] = []
        for position in batch.positions where position.park != Netting.hubParty && position.netMinor != 0 {
            guard let account = accounts[position.park] else {
                missing.append(position.park)
                continue
            }
            let line = PaymentRun.Line(
                party: position.park, account: account, amountMinor: abs(position.netMinor),
                reference: PaymentRun.reference(day: record.day, party: position.park))
            if position.netMinor > 0 {
                payouts.append(line)
            } else if account.mandate != nil {
                collections.append(line)
            } else {
                notices.append(line)
            }
        }
        guard missing.isEmpty else {
            throw Refusal(.conflict, code: "no_bank_account", title: "A party has no bank account", detail: missing.joined(separator: ", "))
        }
        return PaymentRun(
            batchID: id, day: record.day, paymentDay: try await settlementCalendar().paymentDay(for: record.day), currency: batch.currency,
            createdAt: approvedAt, federation: configuration.federation, settlementAccount: profile.account, creditorID: profile.creditorID,
            payouts: payouts, collections: collections, notices: notices)
    }

    /// The payment files of an approved batch (byte-identical on every export); the first export moves the day to
    /// `files_issued`.
    public func paymentFiles(_ id: String, by principal: Principal, now: Date = Date()) async throws -> PaymentFileSet {
        try Self.require(principal, Self.clearingRoles, "Only clearing staff issue payment files")
        let run = try await paymentRun(id)
        try await store.markFilesIssued(id, now: now)
        return PaymentFileSet(batch: id, paymentDay: run.paymentDay.description, pain001: run.pain001(), pain008: run.pain008(), noticesCSV: run.noticesCSV())
    }

    // MARK: Reconciliation

    /// Every payment the approved batches expect, by reference.
    func expectedPayments() async throws -> [Reconciliation.Expected] {
        var expected: [Reconciliation.Expected] = []
        for record in try await store.batches() where record.state != "draft" {
            let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
            for position in batch.positions where position.park != Netting.hubParty && position.netMinor != 0 {
                expected.append(
                    .init(
                        reference: PaymentRun.reference(day: record.day, party: position.park), batch: record.id, party: position.park,
                        direction: position.netMinor < 0 ? .credit : .debit, amountMinor: abs(position.netMinor)))
            }
        }
        return expected
    }

    /// Imports a statement of the settlement account (`camt.053` XML or the CSV form) and reconciles it: every entry
    /// is matched, partly paid, overpaid, unknown or a duplicate of an earlier import; positions paid in full are
    /// paid; the rest are exceptions for clearing staff.
    public func importStatement(_ data: Data, format: String, by principal: Principal, now: Date = Date()) async throws -> ReconciliationReport {
        try Self.require(principal, Self.clearingRoles, "Only clearing staff import bank statements")
        guard let profile = try await clearingAccounts().profile else {
            throw Refusal(.conflict, code: "no_settlement_account", title: "No settlement account", detail: "import a federation.json with a settlement block")
        }
        let accountID = profile.account.iban ?? profile.account.account ?? ""
        let statement: BankStatement
        do {
            switch format {
            case "camt053": statement = try BankStatement.camt053(data, currency: configuration.currency)
            case "csv":
                let digest = Hex.encode(SHA256.hash(data: data)).prefix(16)
                statement = try BankStatement.csv(
                    String(decoding: data, as: UTF8.self), id: "CSV-\(digest)", account: accountID, currency: configuration.currency)
            default: throw WireError("format is camt053 or csv")
            }
        } catch let error as WireError {
            throw Refusal(.invalid, code: "invalid_statement", title: "The statement cannot be read", detail: error.message)
        }
        guard statement.account.isEmpty || statement.account == accountID else {
            throw Refusal(
                .invalid, code: "wrong_account", title: "Not the settlement account's statement",
                detail: "the statement is of \(statement.account), the settlement account is \(accountID)")
        }
        let (matches, paid) = try await store.importStatement(
            id: statement.id, digest: Hex.encode(SHA256.hash(data: data)), by: principal.description, entries: statement.entries,
            expected: try await expectedPayments(), now: now)
        logger.notice(
            "bank statement imported",
            metadata: [
                "statement": "\(statement.id)", "entries": "\(statement.entries.count)", "paid": "\(paid.count)",
                "exceptions": "\(matches.filter(\.outcome.isException).count)",
            ])
        return ReconciliationReport(
            statement: statement.id,
            lines: matches.map { match in
                StatementLine(
                    entryRef: match.entry.entryRef, direction: match.entry.direction.rawValue, amountMinor: match.entry.amountMinor,
                    outcome: match.outcome.rawValue, batch: match.expected?.batch, park: match.expected?.party, reference: match.expected?.reference,
                    expectedMinor: match.expected?.amountMinor, receivedMinor: match.expected == nil ? nil : match.receivedMinor)
            }, paid: paid.map { "\($0.batch) \($0.party)" })
    }

    static func view(_ record: ClearingExceptionRecord) -> ClearingException {
        ClearingException(
            id: record.id, statement: record.statement, entryRef: record.entryRef, outcome: record.outcome, direction: record.direction,
            amountMinor: record.amountMinor, batch: record.batch, park: record.party, detail: record.detail, state: record.state,
            resolvedBy: record.resolvedBy, resolution: record.resolution)
    }

    public func clearingExceptions(open: Bool = false) async throws -> [ClearingException] {
        try await store.exceptions(open: open).map(Self.view)
    }

    /// Clearing staff resolve an exception with a reason (recorded with who).
    public func resolveException(_ id: Int64, reason: String, by principal: Principal, now: Date = Date()) async throws -> ClearingException {
        try Self.require(principal, [.clearing], "Only clearing staff resolve exceptions")
        if let refusal = Disputes.reasonRefusal(reason, title: "A resolution needs a reason") { throw refusal }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            return Self.view(try await store.resolveException(id, by: principal.description, reason: reason, now: now))
        } catch let error as StoreError {
            throw Refusal(error.code == .notFound ? .notFound : .conflict, code: error.code.rawValue, title: "Exception not resolved", detail: error.message)
        }
    }

    // MARK: Disputes

    /// The closed batch whose periods hold `period`, if any.
    func batch(holding period: CivilDay) async throws -> SettlementBatchRecord? {
        for record in try await store.batches() where record.day >= period {
            let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
            if let after = try batch.after.map({ try CivilDay($0) }), after >= period { continue }
            return record
        }
        return nil
    }

    /// A park disputes one of its obligation lines of a closed batch, with a reason, within the dispute window.
    /// The filing is a `dispute.filed` statement in the log.
    public func fileDispute(_ request: DisputeRequest, by principal: Principal, now: Date = Date()) async throws -> DisputeView {
        guard case .park(let park) = principal else { throw Refusal(.forbidden, code: "forbidden_for_principal", title: "Only a park disputes its lines") }
        let record = try await settlementBatch(request.batch)
        guard let line = try await store.obligation(seq: request.seq), try await batch(holding: line.period)?.id == record.id else {
            throw Refusal(.notFound, code: "unknown_obligation", title: "No such line", detail: "batch \(request.batch) has no obligation \(request.seq)")
        }
        guard line.reason != HubStore.adjustmentReason else {
            throw Refusal(.conflict, code: "adjustment_not_disputable", title: "An adjustment is itself a decided dispute")
        }
        let window = try await clearingAccounts().profile?.disputeWindowDays ?? SettlementProfile.defaultDisputeWindowDays
        if let refusal = Disputes.refusal(
            park: park.rawValue, from: line.from, to: line.to, reason: request.reason, batchDay: record.day, today: passes.calendar.day(of: now),
            windowDays: window)
        {
            throw refusal
        }
        let id = "D-" + UUIDv7.make(now: now)
        var statement = SettlementStatement(
            id: "ST-" + UUIDv7.make(now: now), action: .disputeFiled, issuedAt: now, batch: record.id, principal: principal.description)
        statement.dispute = id
        statement.park = park.rawValue
        statement.obligationSeq = line.seq
        statement.amountMinor = line.amountMinor
        statement.assertionIDs = try await assertionIDs(of: line)
        statement.reason = request.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        try await log.record(
            [(statement, .fileDispute(id: id, batch: record.id, seq: line.seq, park: park.rawValue, reason: statement.reason!))], now: now)
        return try await disputeView(id, for: principal)
    }

    func assertionIDs(of line: ObligationRecord) async throws -> [String] {
        if line.reason == ComboProduct.entryAllocationReason { return try await store.countedEntryIDs(pass: line.reference, park: line.to) }
        return line.assertionID.map { [$0] } ?? []
    }

    /// Clearing staff accept a dispute (adjustment lines reversing the original, fee included, in the next open day)
    /// or reject it, with a reason; either is a signed statement in the log.
    public func decideDispute(_ id: String, _ decision: DisputeDecisionRequest, by principal: Principal, now: Date = Date()) async throws -> DisputeView {
        try Self.require(principal, [.clearing], "Only clearing staff decide disputes")
        guard decision.decision == "accept" || decision.decision == "reject" else {
            throw Refusal(.invalid, code: "invalid_body", title: "Invalid decision", detail: "decision is accept or reject")
        }
        if let refusal = Disputes.reasonRefusal(decision.reason, title: "A decision needs a reason") { throw refusal }
        let reason = decision.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let dispute = try await store.dispute(id: id) else { throw Refusal(.notFound, code: "unknown_dispute", title: "No such dispute") }
        guard dispute.state == "open" else { throw Refusal(.conflict, code: "already_decided", title: "The dispute is \(dispute.state)") }
        guard let line = try await store.obligation(seq: dispute.seq) else { throw Refusal(.notFound, code: "unknown_obligation", title: "The line is gone") }
        let accept = decision.decision == "accept"
        var period: CivilDay?
        if accept, let closed = try await store.lastClosedDay() { period = closed.adding(days: 1) }
        let lines = accept ? Disputes.reversal(from: line.from, to: line.to, amountMinor: line.amountMinor, feeMinor: line.feeMinor) : []
        var statement = SettlementStatement(
            id: "ST-" + UUIDv7.make(now: now), action: accept ? .disputeAccepted : .disputeRejected, issuedAt: now, batch: dispute.batch,
            principal: principal.description)
        statement.dispute = id
        statement.park = dispute.park
        statement.obligationSeq = line.seq
        statement.amountMinor = accept ? -line.amountMinor : nil
        statement.assertionIDs = try await assertionIDs(of: line)
        statement.reason = reason
        statement.adjustmentPeriod = period?.description
        try await log.record(
            [(statement, .decideDispute(id: id, accept: accept, by: principal.description, reason: reason, period: period, lines: lines))], now: now)
        return try await disputeView(id, for: principal)
    }

    /// A dispute with every signed step; a park sees only disputes of lines it is a party of.
    public func disputeView(_ id: String, for principal: Principal) async throws -> DisputeView {
        guard let dispute = try await store.dispute(id: id), let line = try await store.obligation(seq: dispute.seq) else {
            throw Refusal(.notFound, code: "unknown_dispute", title: "No such dispute")
        }
        if case .park(let park) = principal, park.rawValue != line.from, park.rawValue != line.to {
            throw Refusal(.notFound, code: "unknown_dispute", title: "No such dispute")
        }
        return try await view(dispute, line)
    }

    func view(_ dispute: DisputeRecord, _ line: ObligationRecord) async throws -> DisputeView {
        DisputeView(
            id: dispute.id, batch: dispute.batch, seq: dispute.seq, park: dispute.park, from: line.from, to: line.to, amountMinor: line.amountMinor,
            feeMinor: line.feeMinor, assertionIDs: try await assertionIDs(of: line), reason: dispute.reason, state: dispute.state,
            filedAt: dispute.filedAt, decidedBy: dispute.decidedBy, decisionReason: dispute.decisionReason, adjustmentPeriod: dispute.adjustmentPeriod,
            steps: try await store.clearingStatements(subject: dispute.id).map { .init(action: $0.action, logIndex: $0.index, statement: $0.jws) })
    }

    /// Disputes, newest first: clearing staff see all (or one state), a park those of its lines.
    public func disputes(for principal: Principal, state: String? = nil) async throws -> [DisputeView] {
        var views: [DisputeView] = []
        for dispute in try await store.disputes(state: state) {
            guard let line = try await store.obligation(seq: dispute.seq) else { continue }
            if case .park(let park) = principal, park.rawValue != line.from, park.rawValue != line.to { continue }
            views.append(try await view(dispute, line))
        }
        return views
    }

    // MARK: The calendar

    /// Each business day from `from` to `to` with its state, cut-off and payment day.
    public func settlementCalendarReport(from: CivilDay, to: CivilDay) async throws -> SettlementCalendarReport {
        guard from <= to, to.dayNumber - from.dayNumber <= 366 else {
            throw Refusal(.invalid, code: "invalid_query", title: "Invalid date range", detail: "from ≤ to, at most 366 days")
        }
        let calendar = try await settlementCalendar()
        let batches = try await store.batches()
        let counts = try await store.openCounts()
        var covering: [(record: SettlementBatchRecord, after: CivilDay?)] = []
        for record in batches {
            let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
            covering.append((record, try batch.after.map { try CivilDay($0) }))
        }
        var days: [SettlementDay] = []
        var issued: [String: Bool] = [:]
        let formatter = ISO8601DateFormatter()
        var day = from
        while day <= to {
            let current = day
            let holder = covering.first { $0.record.day >= current && ($0.after.map { $0 < current } ?? true) }?.record
            var state = SettlementDayState.open
            if let holder {
                if issued[holder.id] == nil { issued[holder.id] = try await store.clearingState(holder.id).filesIssuedAt != nil }
                let open = counts.exceptions[holder.id, default: 0] + counts.disputes[holder.id, default: 0]
                state =
                    switch holder.state {
                    case "draft": .closed
                    case "approved": issued[holder.id] == true ? .filesIssued : .approved
                    default: open == 0 ? .final : .reconciled
                    }
            }
            days.append(
                SettlementDay(
                    day: day.description, state: state.rawValue, cutOff: formatter.string(from: endOfDay(day)),
                    paymentDay: calendar.paymentDay(for: holder?.day ?? day).description, batch: holder?.id, approvedBy: holder?.approvedBy,
                    openExceptions: holder.map { counts.exceptions[$0.id, default: 0] } ?? 0,
                    openDisputes: holder.map { counts.disputes[$0.id, default: 0] } ?? 0))
            day = day.adding(days: 1)
        }
        return SettlementCalendarReport(timeZone: configuration.timeZone, days: days)
    }
}
