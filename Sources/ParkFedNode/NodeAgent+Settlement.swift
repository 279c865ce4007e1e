import Foundation
import NIOCore
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// A park checks its settlement lines against what it holds itself.
extension NodeAgent {
    /// What a park's check of a batch found.
    public struct SettlementCheck: Sendable {
        public var batchID: String
        public var position: Int64
        public var linesChecked: Int
        /// Empty when every line about this park is backed by what the park holds.
        public var problems: [String]
    }

    /// Fetches this park's lines of a batch and checks them: the hub's signature over the batch; every entry at this
    /// park's gates that it is paid for is an assertion this park signed and the hub logged, at the product's
    /// allocation; every entry it pays for is of a pass it sold; card spends it is paid for are its own; and its
    /// position is what its lines add up to.
    public func verifySettlement(_ batchID: String) async throws -> SettlementCheck {
        let export = try await tracked { (hub: HubClient) async throws(NodeError) in
            try await hub.json(.GET, "/v1/settlement/batches/\(batchID)", body: Optional<String>.none, as: SettlementExport.self)
        }
        var problems: [String] = []
        if let jws = try? JWS(compact: export.signature), jws.isSigned(by: trustList.hubKey),
            let signed = try? StrictJSON.decode(SettlementBatch.self, from: jws.payload), signed == export.batch
        {
        } else {
            problems.append("the batch's signature does not verify with the hub key, or does not cover the batch shown")
        }
        let me = park.rawValue
        var sum: Int64 = 0
        for line in export.obligations {
            guard line.from == me || line.to == me else {
                problems.append("line \(line.seq) is about \(line.from) and \(line.to), not \(me)")
                continue
            }
            sum += line.to == me ? line.amountMinor - line.feeMinor : -line.amountMinor
            switch line.reason {
            case "pass_redemption" where line.to == me:
                guard let id = line.assertionIDs.first, let item = try? await store.outboxItem(id: id), item.state == "accepted",
                    item.type == AssertionType.passRedeemed.rawValue, let jws = try? JWS(compact: item.jws),
                    case .passRedeemed(let entry)? = try? Assertions.decodePayload(jws).data,
                    let code = try? PassCode(parsing: entry.code), let product = product(of: code)
                else {
                    problems.append("line \(line.seq): no entry of ours (\(line.assertionIDs.first ?? "no assertion")) backs it")
                    continue
                }
                let allocation = product.member(park)?.allocationPerEntry ?? 0
                if allocation != line.amountMinor || code.issuer.rawValue != line.from {
                    problems.append("line \(line.seq): \(line.amountMinor) from \(line.from), but our entry says \(allocation) from \(code.issuer)")
                }
            case "pass_redemption":
                // The reference of an entry line is the pass id.
                if await (try? store.soldPass(line.reference)) ?? nil == nil {
                    problems.append("line \(line.seq): we pay for an entry of a pass we did not sell")
                }
            case ComboProduct.entryAllocationReason where line.to == me:
                // Our share of a membership pass: every entry it names is one we signed and the hub accepted.
                var ours = true
                for id in line.assertionIDs where ours {
                    let item = try? await store.outboxItem(id: id)
                    ours = item.map { $0.state == "accepted" && $0.type == AssertionType.passRedeemed.rawValue } ?? false
                }
                if line.assertionIDs.isEmpty || !ours {
                    problems.append("line \(line.seq): the entries behind our share of pass \(line.reference) are not all ours")
                }
            case ComboProduct.entryAllocationReason:
                if await (try? store.soldPass(line.reference)) ?? nil == nil {
                    problems.append("line \(line.seq): we pay a share of a pass we did not sell")
                }
            case "card_spend" where line.to == me:
                if let id = line.assertionIDs.first, await (try? store.outboxItem(id: id))?.type != AssertionType.cardSpent.rawValue {
                    problems.append("line \(line.seq): card spend \(id) is not one of ours")
                }
            default:
                break
            }
        }
        // Adjustments reverse a disputed line of an earlier batch: each names a dispute the hub decided, and counts
        // in the line's direction with its (negative) amount.
        for adjustment in export.adjustments {
            guard adjustment.from == me || adjustment.to == me else {
                problems.append("adjustment \(adjustment.seq) is about \(adjustment.from) and \(adjustment.to), not \(me)")
                continue
            }
            sum += adjustment.to == me ? adjustment.amountMinor : -adjustment.amountMinor
        }
        let position = export.batch.positions.first { $0.park == me }?.netMinor ?? 0
        if position != sum { problems.append("our position is \(position) but our lines add up to \(sum)") }
        return SettlementCheck(
            batchID: batchID, position: position, linesChecked: export.obligations.count + export.adjustments.count, problems: problems)
    }

    /// Disputes one of this park's obligation lines of a closed batch; the answer's steps are checked as
    /// ``dispute(_:)`` checks them.
    public func fileDispute(batch: String, seq: Int64, reason: String) async throws -> DisputeView {
        let body = DisputeRequest(batch: batch, seq: seq, reason: reason)
        let view: DisputeView
        do {
            view = try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.POST, "/v1/settlement/disputes", body: body, as: DisputeView.self)
            }
        } catch {
            throw Self.changeProblem(error)
        }
        try checkSteps(view)
        return view
    }

    /// A dispute of one of this park's lines, every step of it verified: each is a settlement statement signed by the
    /// hub's key (from the enrollment) that names this dispute, so the park holds the hub's own word for the outcome.
    public func dispute(_ id: String) async throws -> DisputeView {
        let view: DisputeView
        do {
            view = try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.GET, "/v1/settlement/disputes/\(id)", body: Optional<String>.none, as: DisputeView.self)
            }
        } catch {
            throw Self.changeProblem(error)
        }
        try checkSteps(view)
        return view
    }

    func checkSteps(_ view: DisputeView) throws {
        for step in view.steps {
            guard let jws = try? JWS(compact: step.statement), let statement = try? SettlementStatement.verify(jws, hubKey: trustList.hubKey),
                statement.dispute == view.id, statement.action.rawValue == step.action, statement.obligationSeq == view.seq
            else {
                throw Self.problem(.failed, "statement_invalid", "A dispute step is not the hub's signed word", "step \(step.action) of \(view.id)")
            }
        }
    }

    /// This park's money right now, from the hub (sales today, open obligations both ways, next position).
    public func revenue(timeout: TimeAmount = .seconds(30)) async throws -> ParkRevenue {
        do {
            return try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.GET, "/v1/revenue", body: Optional<String>.none, as: ParkRevenue.self, timeout: timeout)
            }
        } catch {
            throw Self.changeProblem(error)
        }
    }

    /// Offline entries the hub found in conflict: those at this park's gates and those of its own passes.
    public func conflicts(timeout: TimeAmount = .seconds(30)) async throws -> PassConflicts {
        do {
            return try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.GET, "/v1/passes/conflicts", body: Optional<String>.none, as: PassConflicts.self, timeout: timeout)
            }
        } catch {
            throw Self.changeProblem(error)
        }
    }
}
