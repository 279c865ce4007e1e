import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// Real-name data kept only as long as the law asks: a pass's holder (sealed name and document, blind index, and the
/// holder the selling park sealed into its logged `pass.issued` / `pass.transferred`) is removed once the pass's
/// validity ended more than `real_name_retention_days` ago (default 1095: the E-Commerce Law's three years for
/// transaction records; never below 180, the Cybersecurity Law's six months for network logs). What stays is masked
/// and aggregate: the pass, its masked name, its entries and money. Each run is a signed `retention.purged` statement
/// naming the passes and the redacted entries with their leaf hashes, so `verify-log` still passes.
extension Hub {
    /// The law the default period follows (docs/OPERATIONS.md).
    public static let retentionBasis =
        "E-Commerce Law of the PRC art. 31: transaction records kept at least 3 years after the transaction; Cybersecurity Law art. 21: network logs at least 6 months"

    /// What a retention run did.
    public struct RetentionRun: Sendable, Hashable {
        public var passes = 0
        public var redacted = 0
        public var holdersRemoved = 0
        /// The log indices of its statements.
        public var statements: [UInt64] = []
    }

    /// Reduces every pass due (validity ended before today − the retention period) to masked form, in statements
    /// of at most ``RetentionStatement/maximumEntries`` redacted entries each. Nothing due: nothing logged.
    @discardableResult
    public func purgeRealName(now: Date = Date(), batch: Int = 10_000) async throws -> RetentionRun {
        let days = configuration.realNameRetentionDays
        let cutoff = passes.calendar.day(of: now).adding(days: -days)
        var run = RetentionRun()
        let due = try await store.passesDueForRetention(endedBefore: cutoff, limit: batch)
        guard !due.isEmpty else { return run }
        let wanted = Set(due)
        var entries: [String: [RetentionChange.Redaction]] = [:]
        try await store.forEachWholeEntry(
            types: [AssertionType.passIssued.rawValue, AssertionType.passTransferred.rawValue], issuedBefore: endOfDay(cutoff)
        ) { index, jws, leafHash in
            guard let parsed = try? JWS(compact: jws), let payload = try? Assertions.decodePayload(parsed) else { return }
            let passID: String? =
                switch payload.data {
                case .passIssued(let data): data.holder == nil ? nil : data.passID
                case .passTransferred(let data): data.passID
                default: nil
                }
            if let passID, wanted.contains(passID) { entries[passID, default: []].append(.init(index: index, leafHash: leafHash)) }
        }
        let before = try await store.holderRecordCount()
        // Passes in order, each with all its entries, as many per statement as fit.
        var groups: [[String]] = [[]]
        var size = 0
        for passID in due {
            let count = entries[passID]?.count ?? 0
            if size + count > RetentionStatement.maximumEntries, !groups[groups.count - 1].isEmpty {
                groups.append([])
                size = 0
            }
            groups[groups.count - 1].append(passID)
            size += count
        }
        for group in groups where !group.isEmpty {
            let redactions = group.flatMap { entries[$0] ?? [] }
            let statement = RetentionStatement(
                id: "RP-" + UUIDv7.make(now: now), issuedAt: now, retentionDays: days, basis: Self.retentionBasis, endedBefore: cutoff.description,
                passes: group, holdersRemoved: 0, redacted: redactions.map { .init(index: $0.index, leafHash: Base64URL.encode($0.leafHash)) })
            run.statements.append(try await log.record(statement, change: RetentionChange(passIDs: group, redactions: redactions), now: now))
            run.passes += group.count
            run.redacted += redactions.count
        }
        run.holdersRemoved = before - (try await store.holderRecordCount())
        logger.notice(
            "real-name retention run",
            metadata: ["passes": "\(run.passes)", "redacted": "\(run.redacted)", "holders_removed": "\(run.holdersRemoved)", "ended_before": "\(cutoff)"])
        return run
    }
}

extension AssertionLog {
    /// Appends a retention statement with its step in one transaction; returns its log index.
    func record(_ statement: RetentionStatement, change: RetentionChange, now: Date) async throws -> UInt64 {
        let jws = try statement.signed(with: signingKey)
        let candidate = LogCandidate(
            id: statement.id, park: RegulatorQueryStatement.logParty, type: RetentionStatement.type, kid: signingKey.kid, issuedAt: statement.issuedAt,
            jws: jws, leafHash: MerkleHash.leaf(Data(jws.utf8)), effect: .retention(change))
        let (outcomes, _, _) = try await append([candidate], now: now)
        switch outcomes[0] {
        case .appended(let index): return index
        case .refused(let refusal): throw Refusal(.conflict, code: refusal.reason, title: "Retention step refused", detail: refusal.detail)
        case .duplicate, .conflict: throw Refusal(.failed, code: "statement_not_recorded", title: "The retention statement was not appended")
        }
    }
}
