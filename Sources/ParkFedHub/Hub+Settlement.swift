import Crypto
import Foundation
import Logging
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore
import ServiceLifecycle

/// The nightly settlement batcher: a closed business day becomes one signed batch that nets every obligation of the
/// open days up to it into one position per park (summing to zero). Closing is one transaction (the batch row, and
/// the obligations it takes marked), so a crash leaves no batch or a whole one; running a closed day again returns
/// the stored batch byte for byte.
extension Hub {
    /// The first moment after `day` in the federation's time zone (its cut-off, local midnight).
    public func endOfDay(_ day: CivilDay) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = passes.calendar.timeZone
        let next = day.adding(days: 1)
        return calendar.date(from: DateComponents(year: next.year, month: next.month, day: next.day))!
    }

    public static func settlementID(_ day: CivilDay) -> String { "S-\(day)" }

    /// Closes `day`: nets the obligations of every open day up to it and stores the signed batch. Refused while the
    /// day is not over, and for a day already folded into a later batch; idempotent for a day already closed.
    /// `by`: who runs it (recorded: under four eyes, whoever ran or re-ran a batch cannot approve it).
    public func runSettlement(
        day: CivilDay, by principal: Principal = .hub, now: Date = Date(), progress: (@Sendable (String) -> Void)? = nil
    ) async throws -> SettlementBatchRecord {
        try Self.require(principal, Self.clearingRoles, "Only clearing staff run settlement")
        if let existing = try await store.batch(day: day) {
            try await store.recordRun(existing.id, by: principal.description, now: now)
            return existing
        }
        let cutOff = endOfDay(day)
        guard cutOff <= now else {
            throw Refusal(
                .conflict, code: "day_not_over", title: "The business day is not over",
                detail: "\(day) ends at \(ISO8601DateFormatter().string(from: cutOff)) (\(configuration.timeZone) midnight)")
        }
        func refuseClosed(_ closed: CivilDay?) async throws {
            if let closed, closed >= day {
                throw Refusal(
                    .conflict, code: "day_closed", title: "Day already closed",
                    detail: "\(day) is before the last closed day \(closed); its obligations went into a later batch")
            }
        }
        try await refuseClosed(try store.lastClosedDay())
        let allocated = try await allocateEndedPasses(through: day, now: now)
        if allocated > 0 { progress?("allocated \(allocated) ended membership pass(es) by their entries") }
        let totals = try await store.openTotals(through: day)
        try await refuseClosed(totals.after)
        progress?("netting \(totals.rows.count) pair totals of the days after \(totals.after?.description ?? "the start") through \(day)")
        var netting = Netting(feeBasisPoints: Int64(configuration.settlementFeeBasisPoints))
        for row in totals.rows { try netting.add(from: row.from, to: row.to, grossMinor: row.grossMinor, count: row.count, feeMinor: row.feeMinor) }
        let result = netting.result()
        let checkpoint = try await store.checkpoint(before: cutOff)
        let id = Self.settlementID(day)
        let batch = SettlementBatch(
            id: id, federation: configuration.federation, day: day.description, after: totals.after?.description, currency: configuration.currency,
            timeZone: configuration.timeZone,
            checkpoint: .init(treeSize: checkpoint?.treeSize ?? 0, rootHash: (checkpoint?.rootHash ?? MerkleHash.emptyRoot).base64EncodedString()),
            feeBasisPoints: configuration.settlementFeeBasisPoints, obligationCount: result.obligationCount, grossMinor: result.grossMinor,
            netMinor: result.netMinor, feeMinor: result.feeMinor,
            reductionBasisPoints: result.grossMinor == 0 ? 0 : Int((Int64(10_000) * (result.grossMinor - result.netMinor)) / result.grossMinor),
            positions: result.positions.map { .init(park: $0.party, netMinor: $0.netMinor) },
            pairCount: result.pairs.count, pairsDigest: Self.pairsDigest(result))
        let body = try StrictJSON.encoder.encode(batch)
        let signature = try JWS.sign(payload: body, kid: signingKey.kid, type: SettlementBatch.jwsType, with: signingKey).compact
        let record: SettlementBatchRecord
        do {
            record = try await store.closeDay(
                day, expectedAfter: totals.after, id: id, body: String(decoding: body, as: UTF8.self), signature: signature,
                positions: result.positions.map { ($0.party, $0.netMinor) }, now: now)
        } catch let error as StoreError {
            throw Refusal(.conflict, code: error.code.rawValue, title: "Settlement refused", detail: error.message)
        }
        try await store.recordRun(id, by: principal.description, now: now)
        metrics.settlementRun(day: day.description, obligations: result.obligationCount)
        logger.notice(
            "business day closed",
            metadata: [
                "day": "\(day)", "batch": "\(id)", "obligations": "\(result.obligationCount)",
                "gross_minor": "\(result.grossMinor)", "net_minor": "\(result.netMinor)",
            ])
        progress?("batch \(id): \(result.obligationCount) obligations, gross \(result.grossMinor), net \(result.netMinor)")
        return record
    }

    /// Days after a pass's last day before its allocation is filed: by then no entry of it can still arrive (the log
    /// refuses assertions older than `assertion_max_delay_seconds`), so the split is final.
    var allocationGraceDays: Int { (configuration.assertionMaxDelaySeconds + 86_399) / 86_400 }

    /// Files the price split of every membership pass (allocated by entries) whose last day is at least the grace
    /// period before `day`, under `day`. Idempotent: each pass is allocated once.
    func allocateEndedPasses(through day: CivilDay, now: Date) async throws -> Int {
        let products = passes.products.withLockedValue({ $0 }).values.filter { $0.allocation != .perEntry }
        guard !products.isEmpty else { return 0 }
        let lastEnded = day.adding(days: -allocationGraceDays)
        var allocations: [(passID: String, obligations: [Obligation])] = []
        for record in try await store.passesAwaitingAllocation(products: products.map(\.id)) {
            guard let product = passes.product(for: record) else { continue }
            let state = record.state(product)
            guard state.usableUntil <= lastEnded else { continue }
            allocations.append((record.id, try state.product.entryAllocation(issuer: record.issuer, entries: record.entries, reference: record.id)))
        }
        return try await store.recordAllocations(allocations, period: day, at: now)
    }

    static func pairsDigest(_ result: NettingResult) -> String {
        Hex.encode(SHA256.hash(data: Data(SettlementBatch.pairsListing(Self.pairs(result)).utf8)))
    }

    static func pairs(_ result: NettingResult) -> [SettlementBatch.Pair] {
        result.pairs.map { .init(from: $0.from, to: $0.to, grossMinor: $0.grossMinor, count: $0.count, feeMinor: $0.feeMinor) }
    }

    /// The batch's export: the signed batch, state, payments, pairs and bilateral nets (recomputed from the running
    /// totals; their digest is the signed one), and the obligations (for a park, only its lines).
    public func settlementExport(_ record: SettlementBatchRecord, party: String? = nil) async throws -> SettlementExport {
        let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
        var netting = Netting(feeBasisPoints: Int64(batch.feeBasisPoints))
        for row in try await store.pairTotals(after: batch.after.map { try CivilDay($0) }, through: record.day)
        where party == nil || row.from == party || row.to == party {
            try netting.add(from: row.from, to: row.to, grossMinor: row.grossMinor, count: row.count, feeMinor: row.feeMinor)
        }
        let result = netting.result()
        var lines: [SettlementObligation] = []
        var adjustmentRows: [ObligationRecord] = []
        try await store.forEachObligation(after: batch.after.map { try CivilDay($0) }, through: record.day, party: party) { row in
            if row.reason == HubStore.adjustmentReason {
                adjustmentRows.append(row)
                return
            }
            lines.append(
                SettlementObligation(
                    seq: row.seq, from: row.from, to: row.to, amountMinor: row.amountMinor, feeMinor: row.feeMinor,
                    reason: row.reason, reference: row.reference, assertionIDs: row.assertionID.map { [$0] } ?? [],
                    period: row.period.description))
        }
        // A membership pass's allocation came from the park's entries of the pass: its usage records.
        for index in lines.indices where lines[index].reason == ComboProduct.entryAllocationReason {
            lines[index].assertionIDs = try await store.countedEntryIDs(pass: lines[index].reference, park: lines[index].to)
        }
        // Adjustments: shown in the disputed obligation's direction with the opposite sign.
        let disputes = try await store.disputes(ids: Array(Set(adjustmentRows.map(\.reference))))
        var originals: [Int64: String] = [:]
        var adjustments: [SettlementAdjustment] = []
        for row in adjustmentRows {
            guard let dispute = disputes[row.reference] else { continue }
            if originals[dispute.seq] == nil { originals[dispute.seq] = dispute.batch }
            adjustments.append(
                SettlementAdjustment(
                    seq: row.seq, dispute: dispute.id, originalSeq: dispute.seq, originalBatch: dispute.batch, from: row.to, to: row.from,
                    amountMinor: -row.amountMinor, assertionIDs: row.assertionID.map { [$0] } ?? [], period: row.period.description))
        }
        return SettlementExport(
            batch: batch, state: record.state, approvedBy: record.approvedBy, signature: record.signature,
            // A park sees its own payment reference only (every net position stays: the signature covers them).
            payments: record.payments.sorted { $0.key < $1.key }.filter { party == nil || $0.key == party }
                .map { .init(park: $0.key, reference: $0.value) },
            pairs: Self.pairs(result), bilateral: result.bilateral.map { .init(from: $0.from, to: $0.to, netMinor: $0.netMinor) },
            obligations: lines, adjustments: adjustments)
    }

    public func settlementBatch(_ id: String) async throws -> SettlementBatchRecord {
        guard id.hasPrefix("S-"), let day = try? CivilDay(String(id.dropFirst(2))), let record = try await store.batch(day: day) else {
            throw Refusal(.notFound, code: "unknown_batch", title: "Unknown batch", detail: "no settlement batch \(id)")
        }
        return record
    }

    /// Closes the previous business day once the configured local time has passed (the running hub's own batcher).
    public func settleIfDue(now: Date = Date()) async {
        guard let time = configuration.settlementTime, let minutes = HubConfiguration.minutes(time) else { return }
        let today = passes.calendar.day(of: now)
        guard passes.calendar.minuteOfDay(now) >= minutes else { return }
        let yesterday = today.adding(days: -1)
        guard let closed = try? await store.lastClosedDay(), closed >= yesterday else {
            do { _ = try await runSettlement(day: yesterday, now: now) } catch {
                logger.error("scheduled settlement failed", metadata: ["day": "\(yesterday)", "error": "\(error)"])
            }
            return
        }
    }
}

/// The hub's own nightly batcher: checks every minute whether the previous business day is due.
public struct SettlementService: Service {
    let hub: Hub
    public init(hub: Hub) { self.hub = hub }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await hub.settleIfDue()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
        }
    }
}

/// Settlement reports as CSV: one row per park, or one per obligation.
public enum SettlementCSV {
    public static func positions(_ export: SettlementExport) -> String {
        var lines = ["day,park,net_minor,currency,payment_reference"]
        let payments = Dictionary(export.payments.map { ($0.park, $0.reference) }, uniquingKeysWith: { a, _ in a })
        for position in export.batch.positions {
            lines.append(CSVField.line([export.batch.day, position.park, String(position.netMinor), export.batch.currency, payments[position.park] ?? ""]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func obligations(_ export: SettlementExport) -> String {
        var lines = ["day,seq,from,to,amount_minor,fee_minor,reason,reference,assertion_ids,period"]
        for line in export.obligations {
            lines.append(
                CSVField.line([
                    export.batch.day, String(line.seq), line.from, line.to, String(line.amountMinor), String(line.feeMinor),
                    line.reason, line.reference, line.assertionIDs.joined(separator: " "), line.period,
                ]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
