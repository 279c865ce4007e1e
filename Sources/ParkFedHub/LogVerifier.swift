import Foundation
import ParkFedCrypto
import ParkFedProtocol
import ParkFedStore

/// Recomputes the hub's log from its stored entries and checks it against every stored checkpoint.
///
/// For each entry, in index order: the stored leaf hash must be the hash of the stored JWS, the JWS must verify
/// with the key it names (the hub's own key for hub statements such as regulator queries), and its payload id must
/// be the row's id. Then every checkpoint's signature must verify
/// and its root must equal the root recomputed at its size, and every stored tile of the tree (which the hub serves
/// to auditors and builds its proofs from) must be the tile recomputed from the entries. The first bad index is
/// reported.
public struct LogVerifier {
    public struct Report: Sendable {
        public var entries: UInt64 = 0
        public var checkpoints: Int = 0
        /// Stored tiles checked against the recomputed tree.
        public var tiles: Int = 0
        /// Entries whose assertion a retention statement redacted (their leaf hashes vouched for).
        public var redacted: UInt64 = 0
        /// The first index whose entry is not what was logged, if any.
        public var firstBadIndex: UInt64?
        public var problems: [String] = []
        public var ok: Bool { problems.isEmpty }
    }

    let store: HubStore
    let hubKey: VerifyingKey
    let origin: String

    public init(hub: Hub) {
        store = hub.store
        hubKey = hub.signingKey.publicKey
        origin = hub.log.origin
    }

    public func verify(progress: (UInt64) -> Void = { _ in }) async throws -> Report {
        var report = Report()
        var keys: [String: VerifyingKey] = [:]
        for record in try await store.signingKeys() { keys[record.kid] = try? VerifyingKey(base64URL: record.publicKey) }
        let checkpoints = try await store.checkpoints()
        var pending = checkpoints.makeIterator()
        var nextCheckpoint = pending.next()
        // The tree rebuilt from the entries, as tiles: each checkpoint's root is taken when the tree reaches its size
        // (a few KiB in memory at any size); the full tiles it makes are kept by the root of their hashes (a digest of
        // the tile) to check the stored ones.
        var tree = MerkleTiles()
        var computedTiles: [MerkleTiles.TileID: Data] = [:]
        func add(_ leafHash: Data) {
            for tile in tree.append(leafHash: leafHash) {
                computedTiles[MerkleTiles.TileID(level: tile.level, index: tile.index)] = MerkleTiles.root(of: tile.hashes)
            }
        }
        // What retention statements vouch for: index → (statement id, leaf hash) of each entry they redacted.
        var vouched: [UInt64: (String, Data)] = [:]
        try await store.forEachLogEntry(type: RetentionStatement.type) { entry in
            guard entry.park == RegulatorQueryStatement.logParty, let jws = try? JWS(compact: entry.jws),
                let statement = try? RetentionStatement.verify(jws, hubKey: hubKey)
            else { return }
            for item in statement.redacted { if let hash = Base64URL.decode(item.leafHash) { vouched[item.index] = (statement.id, hash) } }
        }

        func flag(_ index: UInt64, _ problem: String) {
            if report.firstBadIndex == nil { report.firstBadIndex = index }
            report.problems.append("index \(index): \(problem)")
        }

        func checkCheckpoints(upTo size: UInt64) {
            while let checkpoint = nextCheckpoint, checkpoint.treeSize <= size {
                report.checkpoints += 1
                do {
                    let parsed = try Checkpoint.verify(note: checkpoint.note, key: hubKey, origin: origin)
                    if parsed.size != checkpoint.treeSize || parsed.rootHash != checkpoint.rootHash {
                        report.problems.append("checkpoint \(checkpoint.treeSize): stored size/root differ from its signed note")
                    }
                } catch {
                    report.problems.append("checkpoint \(checkpoint.treeSize): \(error)")
                }
                // Checkpoints come in size order and are checked after every entry, so a size reached is the tree's
                // own (or 0).
                if checkpoint.treeSize <= tree.size, (checkpoint.treeSize == 0 ? MerkleHash.emptyRoot : tree.rootHash()) != checkpoint.rootHash {
                    report.problems.append("checkpoint \(checkpoint.treeSize): recomputed root differs from the signed root")
                    if report.firstBadIndex == nil { report.firstBadIndex = checkpoint.treeSize - 1 }
                }
                nextCheckpoint = pending.next()
            }
        }

        try await store.forEachLogEntry { entry in
            if entry.index != tree.size { flag(tree.size, "entry missing (found index \(entry.index) next)") }
            if let statement = entry.redactedBy {
                // Redacted by a retention run: the stored leaf hash stands where a signed statement vouches for it.
                if entry.jws.isEmpty, let (id, hash) = vouched[entry.index], id == statement, hash == entry.leafHash {
                    add(entry.leafHash)
                } else {
                    flag(entry.index, "redacted without a retention statement that names it with this leaf hash")
                    add(MerkleHash.leaf(Data(entry.jws.utf8)))
                }
                report.entries += 1
                report.redacted += 1
                checkCheckpoints(upTo: tree.size)
                return
            }
            let recomputed = MerkleHash.leaf(Data(entry.jws.utf8))
            if recomputed != entry.leafHash { flag(entry.index, "stored leaf hash is not the hash of the stored assertion") }
            if entry.park == RegulatorQueryStatement.logParty {
                // The hub's own statements verify with the hub's key.
                if let jws = try? JWS(compact: entry.jws), jws.header.kid == hubKey.thumbprint, let id = HubStatement.verifiedID(jws, hubKey: hubKey) {
                    if id != entry.id { flag(entry.index, "statement id differs from the stored id") }
                } else {
                    flag(entry.index, "not a hub statement signed by the hub's key")
                }
            } else if let jws = try? JWS(compact: entry.jws), let kid = jws.header.kid, let key = keys[kid] {
                if !jws.isSigned(by: key) { flag(entry.index, "signature does not verify") }
                if let payload = try? Assertions.decodePayload(jws), payload.id != entry.id { flag(entry.index, "payload id differs from the stored id") }
            } else {
                flag(entry.index, "not a JWS by a known key")
            }
            // The tree is rebuilt from the bytes, so any change to them shows at the next checkpoint.
            add(recomputed)
            report.entries += 1
            if report.entries % 100_000 == 0 { progress(report.entries) }
            checkCheckpoints(upTo: tree.size)
        }
        checkCheckpoints(upTo: UInt64.max)
        // Every stored tile is the recomputed one, and none is missing.
        for level in 0..<8 {
            var expected = computedTiles.keys.filter { $0.level == level }.count
            try await store.forEachLogTile(level: level) { index, hashes in
                let id = MerkleTiles.TileID(level: level, index: index)
                report.tiles += 1
                guard let root = computedTiles[id] else {
                    report.problems.append("\(id) is stored but the entries do not fill it")
                    return
                }
                expected -= 1
                if MerkleTiles.root(of: hashes) != root {
                    // A changed entry shows here too (its tile was stored as logged): the index stays the entry's.
                    report.problems.append("\(id) differs from the tile recomputed from the entries")
                }
            }
            if expected > 0 { report.problems.append("\(expected) full tiles of level \(level) are not stored") }
        }
        if let last = checkpoints.last, last.treeSize > tree.size {
            report.problems.append("checkpoint \(last.treeSize) covers more entries than the \(tree.size) stored")
            if report.firstBadIndex == nil { report.firstBadIndex = tree.size }
        }
        return report
    }
}

extension Hub {
    /// The meta keys under which the last verification is kept (by the console and by `parkfed hub verify-log`).
    static let verifyMeta = (at: "verify_log_at", result: "verify_log_result")

    /// The last whole-log verification as kept by ``recordLogVerification(_:now:)``.
    public struct LastLogVerification: Sendable, Hashable {
        public var at: Date?
        /// The stored `at` as written (ISO 8601), for display.
        public var atText: String?
        /// Whether every entry verified; nil when no verification has been recorded.
        public var ok: Bool?
        /// The entries verified (`ok`), or the first entry that did not verify.
        public var number: String?
    }

    /// Reads the last verification (one reading of the stored form, for the console and the alarms).
    public func lastLogVerification() async throws -> LastLogVerification {
        let atText = try await store.meta(Self.verifyMeta.at)
        var last = LastLogVerification(at: atText.flatMap { ISO8601DateFormatter().date(from: $0) }, atText: atText)
        if let parts = try await store.meta(Self.verifyMeta.result)?.split(separator: " "), parts.count == 2 {
            last.ok = parts[0] == "ok"
            last.number = String(parts[1])
        }
        return last
    }

    /// Keeps a verification's outcome for the operator's console.
    public func recordLogVerification(_ report: LogVerifier.Report, now: Date = Date()) async throws {
        try await store.setMeta(Self.verifyMeta.at, ISO8601DateFormatter().string(from: now))
        try await store.setMeta(Self.verifyMeta.result, report.ok ? "ok \(report.entries)" : "bad \(report.firstBadIndex ?? 0)")
    }
}
