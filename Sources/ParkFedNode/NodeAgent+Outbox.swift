import Foundation
import Logging
import ParkFedCrypto
import ParkFedProtocol
import ParkFedStore

/// Store-and-forward: every assertion is written to the local outbox first, then delivered in batches with retry;
/// the hub's answers and its log are then checked (signed checkpoints, consistency, inclusion of our own entries).
extension NodeAgent {
    /// Signs `data` as an assertion of this park and writes it to the outbox (durable) before returning.
    @discardableResult
    public func record(_ data: AssertionData, now: Date = Date()) async throws -> AssertionPayload {
        let (payload, jws) = try Assertions.sign(data, park: park, key: signingKey, now: now)
        try await store.enqueue(id: payload.id, type: payload.type.rawValue, jws: jws.compact, now: now)
        outboxWakeUp.signal()
        return payload
    }

    /// Delivers pending assertions in batches until none is left. Returns how many the hub answered for.
    /// Throws when the hub cannot be reached; what was not answered stays pending and is sent again.
    @discardableResult
    public func deliverOutbox(batchSize: Int = 500, now: Date = Date()) async throws(NodeError) -> Int {
        var delivered = 0
        while true {
            let batch: [NodeStore.OutboxItem]
            do { batch = try await store.pending(limit: min(batchSize, IngestRequest.maximumBatch)) } catch {
                throw NodeError(.invalidConfiguration, "cannot read the outbox: \(error)")
            }
            guard !batch.isEmpty else { return delivered }
            let response = try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(.POST, "/v1/assertions", body: IngestRequest(assertions: batch.map(\.jws)), as: IngestResponse.self)
            }
            _ = try await recordDeliveries(of: batch, response, now: now)
            delivered += batch.count
        }
    }

    /// Records the hub's answer to a delivered batch in the outbox: accepted (or duplicate) items with their log
    /// index, rejected ones with their reason and an alarm each. Returns the rejected items with their reasons.
    @discardableResult
    public func recordDeliveries(of batch: [NodeStore.OutboxItem], _ response: IngestResponse, now: Date = Date()) async throws(NodeError)
        -> [(item: NodeStore.OutboxItem, reason: String)]
    {
        guard response.results.count == batch.count else {
            throw NodeError(.badResponse, "the hub answered \(response.results.count) results for \(batch.count) assertions")
        }
        var deliveries: [(id: String, delivery: NodeStore.Delivery)] = []
        var rejected: [(item: NodeStore.OutboxItem, reason: String)] = []
        for (item, result) in zip(batch, response.results) {
            switch result.status {
            case .accepted, .duplicate:
                guard let index = result.index else { throw NodeError(.badResponse, "an accepted result without a log index") }
                deliveries.append((item.id, .accepted(index: index)))
            case .rejected:
                let reason = result.reason ?? "rejected"
                deliveries.append((item.id, .rejected(reason: reason)))
                rejected.append((item, "\(reason) \(result.detail ?? "")"))
                await alarm("assertion_rejected", "the hub rejected \(item.type) \(item.id): \(reason) \(result.detail ?? "")", now: now)
            }
        }
        do { try await store.recordDeliveries(deliveries) } catch {
            throw NodeError(.invalidConfiguration, "cannot record deliveries: \(error)")
        }
        return rejected
    }

    /// What one audit of the hub's log found.
    public struct LogAudit: Sendable {
        public var checkpointSize: UInt64
        public var verifiedInclusions: Int
        public var consistencyChecked: Bool
    }

    /// Checks the hub's latest signed checkpoint, its consistency with the last one this node accepted, and the
    /// inclusion of this node's delivered assertions. A failed check raises an alarm (log, metric, status).
    @discardableResult
    public func auditLog(limit: Int = 1000, now: Date = Date()) async throws(NodeError) -> LogAudit {
        let reply = try await tracked { (hub: HubClient) async throws(NodeError) in try await hub.send(.GET, "/v1/log/checkpoint") }
        guard reply.status == 200 else { throw HubClient.refusal(reply) }
        let note = String(decoding: reply.body, as: UTF8.self)
        let hubKey = trustList.hubKey
        let knownOrigin = try? await store.meta("log_origin")
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint.verify(note: note, key: hubKey, origin: knownOrigin ?? nil) } catch {
            await alarm("checkpoint_invalid", "the hub's checkpoint does not verify: \(error)", now: now)
            throw NodeError(.badResponse, "invalid checkpoint: \(error)")
        }
        var audit = LogAudit(checkpointSize: checkpoint.size, verifiedInclusions: 0, consistencyChecked: false)
        if let sizeText = try? await store.meta("log_checkpoint_size"), let lastSize = UInt64(sizeText),
            let rootText = try? await store.meta("log_checkpoint_root"), let lastRoot = Data(base64Encoded: rootText)
        {
            if checkpoint.size < lastSize {
                await alarm("log_shrunk", "the hub's log went from \(lastSize) to \(checkpoint.size) entries", now: now)
                throw NodeError(.badResponse, "the hub's log shrank")
            }
            if checkpoint.size == lastSize, checkpoint.rootHash != lastRoot {
                await alarm("log_inconsistent", "two different roots for size \(lastSize)", now: now)
                throw NodeError(.badResponse, "the hub's log forked")
            }
            if checkpoint.size > lastSize, lastSize > 0 {
                let proof = try await tracked { (hub: HubClient) async throws(NodeError) in
                    try await hub.json(
                        .GET, "/v1/log/proofs/consistency?first=\(lastSize)&second=\(checkpoint.size)",
                        body: Optional<String>.none, as: ConsistencyProofResponse.self)
                }
                let hashes = proof.proof.compactMap { Data(base64Encoded: $0) }
                guard hashes.count == proof.proof.count,
                    MerkleProofs.verifyConsistency(
                        first: lastSize, second: checkpoint.size, proof: hashes, firstRoot: lastRoot, secondRoot: checkpoint.rootHash)
                else {
                    await alarm("log_inconsistent", "checkpoint \(checkpoint.size) is not consistent with \(lastSize)", now: now)
                    throw NodeError(.badResponse, "the hub's log is not consistent with what this node saw before")
                }
                audit.consistencyChecked = true
            }
        }
        try? await store.setMeta("log_origin", checkpoint.origin)
        try? await store.setMeta("log_checkpoint_size", String(checkpoint.size))
        try? await store.setMeta("log_checkpoint_root", checkpoint.rootHash.base64EncodedString())

        let items = await (try? store.unverified(below: checkpoint.size, limit: limit)) ?? []
        var verified: [String] = []
        for item in items {
            guard let index = item.logIndex else { continue }
            let proof = try await tracked { (hub: HubClient) async throws(NodeError) in
                try await hub.json(
                    .GET, "/v1/log/proofs/inclusion?index=\(index)&tree_size=\(checkpoint.size)",
                    body: Optional<String>.none, as: InclusionProofResponse.self)
            }
            let hashes = proof.proof.compactMap { Data(base64Encoded: $0) }
            let leafHash = MerkleHash.leaf(Data(item.jws.utf8))
            if hashes.count == proof.proof.count,
                MerkleProofs.verifyInclusion(index: index, size: checkpoint.size, leafHash: leafHash, proof: hashes, root: checkpoint.rootHash)
            {
                verified.append(item.id)
            } else {
                await alarm("inclusion_failed", "assertion \(item.id) is not at index \(index) of the signed log of size \(checkpoint.size)", now: now)
            }
        }
        try? await store.markVerified(ids: verified)
        audit.verifiedInclusions = verified.count
        return audit
    }

    func alarm(_ kind: String, _ detail: String, now: Date) async {
        logger.error("alarm", metadata: ["kind": "\(kind)", "detail": "\(detail)"])
        try? await store.raiseAlarm(kind: kind, detail: detail, now: now)
    }
}
