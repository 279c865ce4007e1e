import Foundation
import NIOConcurrencyHelpers
import Logging
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// The node agent's copy of the hub's trust list: verified with the hub's key, kept on disk, refreshed, and
/// never replaced by a list with a bad signature or a lower sequence (a rollback).
public final class TrustListCache: Sendable {
    let store: NodeStore
    public let hubKey: VerifyingKey
    /// Past this age the list is reported stale (still used, but visibly).
    public let staleAfter: TimeInterval
    let current: NIOLockedValueBox<TrustList?>

    public init(store: NodeStore, hubKey: VerifyingKey, staleAfter: TimeInterval = 15 * 60) async throws {
        self.store = store
        self.hubKey = hubKey
        self.staleAfter = staleAfter
        var loaded: TrustList?
        if let cached = try await store.cachedTrustList() {
            loaded = try? TrustList.verify(jws: cached.jws, hubKey: hubKey).0
        }
        current = NIOLockedValueBox(loaded)
    }

    public var trustList: TrustList? { current.withLockedValue({ $0 }) }

    /// A park signing key as the trust list names it, parsed once per list.
    public struct TrustedKey: Sendable {
        public let park: ParkID
        public let key: VerifyingKey
        /// Active key of an active park, inside its validity at `now`.
        public let revoked: Bool
        public let notBefore: Date
        public let notAfter: Date?
    }

    let keyIndex = NIOLockedValueBox<(sequence: Int64, keys: [String: TrustedKey])>((-1, [:]))

    /// The key `kid` from the current list (parsed keys are cached until the list changes).
    public func key(_ kid: String) -> TrustedKey? {
        guard let list = current.withLockedValue({ $0 }) else { return nil }
        let index = keyIndex.withLockedValue({ $0 })
        if index.sequence == list.sequence { return index.keys[kid] }
        var keys: [String: TrustedKey] = [:]
        for park in list.parks {
            guard let parkID = try? ParkID(park.park) else { continue }
            for key in park.keys {
                guard let verifying = try? VerifyingKey(base64URL: key.publicKey) else { continue }
                keys[key.kid] = TrustedKey(
                    park: parkID, key: verifying, revoked: key.status != "active" || park.status != "active",
                    notBefore: key.notBefore, notAfter: key.notAfter)
            }
        }
        keyIndex.withLockedValue { $0 = (list.sequence, keys) }
        return keys[kid]
    }

    /// Accepts a JWS fetched from the hub: verifies it, refuses rollbacks, persists it. Returns the accepted list.
    @discardableResult
    public func accept(jws: String, etag: String?, now: Date = Date()) async throws(NodeError) -> TrustList {
        let list: TrustList
        do { list = try TrustList.verify(jws: jws, hubKey: hubKey).0 } catch {
            throw NodeError(.trustListRejected, "the trust list's signature does not verify with the hub key: \(error)")
        }
        if let cached = try? await store.cachedTrustList(), list.sequence < cached.sequence {
            throw NodeError(.trustListRejected, "the trust list's sequence \(list.sequence) is older than the cached \(cached.sequence)")
        }
        do {
            try await store.storeTrustList(.init(sequence: list.sequence, issuedAt: list.issuedAt, fetchedAt: now, etag: etag, jws: jws))
        } catch {
            throw NodeError(.trustListRejected, "cannot store the trust list: \(error)")
        }
        current.withLockedValue { $0 = list }
        return list
    }

    /// Fetches the list from the hub (conditional on the cached ETag) and accepts it.
    public func refresh(from hub: HubClient, now: Date = Date()) async throws(NodeError) {
        let cached = try? await store.cachedTrustList()
        var headers: [(String, String)] = []
        if let etag = cached?.etag, current.withLockedValue({ $0 }) != nil { headers.append(("if-none-match", etag)) }
        let reply = try await hub.send(.GET, "/v1/trust-list", headers: headers)
        switch reply.status {
        case 304:
            try? await store.touchTrustList(now: now)
        case 200:
            try await accept(jws: String(decoding: reply.body, as: UTF8.self), etag: reply.header("etag"), now: now)
        default:
            throw HubClient.refusal(reply)
        }
    }

    /// What the status endpoint reports: sequence, issue time, last fetch, age and staleness.
    public func status(now: Date = Date()) async -> TrustListStatus {
        guard let list = current.withLockedValue({ $0 }), let cached = try? await store.cachedTrustList() else {
            return TrustListStatus(present: false, sequence: nil, issuedAt: nil, fetchedAt: nil, ageSeconds: nil, stale: true)
        }
        let age = now.timeIntervalSince(cached.fetchedAt)
        return TrustListStatus(
            present: true, sequence: list.sequence, issuedAt: list.issuedAt, fetchedAt: cached.fetchedAt,
            ageSeconds: Int(age.rounded()), stale: age > staleAfter)
    }
}

/// The trust list's freshness, as the node agent reports it.
public struct TrustListStatus: Codable, Sendable, Hashable {
    public var present: Bool
    public var sequence: Int64?
    public var issuedAt: Date?
    public var fetchedAt: Date?
    public var ageSeconds: Int?
    public var stale: Bool

    enum CodingKeys: String, CodingKey {
        case present, sequence, stale
        case issuedAt = "issued_at"
        case fetchedAt = "fetched_at"
        case ageSeconds = "age_seconds"
    }
}
