import ArgumentParser
import Foundation
import ParkFedCrypto
import ParkFedHub
import ParkFedLab
import ParkFedProtocol
import ParkFedStore

extension BenchCommand {
    /// How long a hub takes to start on a large log, against rebuilding the tree from every leaf (as start-up did
    /// before the tree was stored as tiles).
    struct Startup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hub start-up time with a log of N entries (tiles read, not leaves), against rebuilding the tree from every stored leaf.",
            discussion:
                "The log is written through the store's own append (entries, their tiles and signed checkpoints, 10,000 a transaction) with "
                + "placeholder assertions: start-up reads only hashes, so what they say does not matter (verify-log would refuse them). "
                + "Build with `swift build -c release` for meaningful figures.")
        @Option(help: "Entries in the log.") var entries = 1_000_000
        @Option(help: "Start-ups timed (the median is reported).") var runs = 5
        @Flag(help: "A short bounded run (20,000 entries, 3 start-ups), for CI.") var quick = false

        func validate() throws {
            guard (1...100_000_000).contains(entries), (1...50).contains(runs) else { throw ValidationError("--entries must be 1-100000000 and --runs 1-50") }
        }

        func run() async throws { _ = try await measure() }

        func measure() async throws -> BenchResult {
            let total = quick ? 20_000 : entries, starts = quick ? 3 : runs
            #if DEBUG
                say("note: this is a debug build; figures are only meaningful from `swift build -c release`\n")
            #endif
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let directory = try await HubDirectory.initialize(
                at: scratch.file("hub"), configuration: HubConfiguration(federation: "Bench", settlementTime: nil))
            let writer = try await Hub(directory: directory, logger: CLILogging.quiet)
            say("parkfed bench startup: a log of \(total) entries in \(directory.database)")
            let written = ContinuousClock.now
            let root = try await Self.fill(writer, entries: total)
            let size = try await writer.store.logSize()
            await writer.close()
            say(String(format: "  written in %.1f s", (ContinuousClock.now - written).seconds))

            // Start-up as `hub serve` does it (store, keys, trust, the log's tree), timed from outside the hub.
            var times: [Double] = []
            for _ in 0..<starts {
                let start = ContinuousClock.now
                let hub = try await Hub(directory: directory, logger: CLILogging.quiet)
                times.append((ContinuousClock.now - start).seconds)
                guard hub.log.size == size, hub.log.snapshotRoot() == root else {
                    say("MISMATCH: the started hub has \(hub.log.size) entries and another root")
                    throw ExitCode(1)
                }
                await hub.close()
            }
            let startup = times.sorted()[times.count / 2]

            // The comparison: every leaf hash read and the whole tree rebuilt in memory (start-up before tiles).
            let store = try await HubStore(path: directory.database)
            let rebuildStart = ContinuousClock.now
            var whole = MerkleTree()
            for hash in try await store.leafHashes() { whole.append(leafHash: hash) }
            let rebuild = (ContinuousClock.now - rebuildStart).seconds
            await store.close()
            guard whole.rootHash() == root else {
                say("MISMATCH: the rebuilt tree's root differs from the tiled tree's")
                throw ExitCode(1)
            }
            let tiledBytes = (0..<8).reduce(0) { $0 + Self.partialBytes(size: size, level: $1) }
            say("")
            say(
                Table.render(
                    header: ["figure", "value"],
                    rows: [
                        ["entries", "\(size)"],
                        ["hub start-up (median of \(starts)): store, keys, trust, the tree from tiles", String(format: "%.3f s", startup)],
                        ["rebuild from every leaf (start-up before tiles)", String(format: "%.3f s", rebuild)],
                        ["tree in memory: partial tiles / whole tree", "\(tiledBytes) bytes / \(size * 64) bytes (≈64 a leaf)"],
                        ["goal (#20)", "under 2 s at 1,000,000 entries"],
                    ]))
            return BenchResult(
                name: "startup", value: Double(size) / startup, unit: "entries taken up/s", limit: Double(size) / rebuild,
                limitName: "entries/s of a rebuild from every leaf", p50: startup * 1000, p99: times.max().map { $0 * 1000 })
        }

        /// At most 255 hashes a level stay in memory: the partial tile's bytes for `size` leaves.
        static func partialBytes(size: UInt64, level: Int) -> Int {
            Int((size >> UInt64(MerkleTiles.height * level)) & UInt64(MerkleTiles.width - 1)) * MerkleHash.size
        }

        /// Appends `entries` placeholder entries through the store's append, with the tiles they complete and a signed
        /// checkpoint a transaction, as the hub's log does; returns the root.
        static func fill(_ hub: Hub, entries: Int) async throws -> Data {
            final class Box: @unchecked Sendable { var tree = MerkleTiles() }
            let box = Box()
            let key = hub.signingKey, origin = hub.log.origin
            let progress = ProgressCounter(total: entries)
            let now = Date()
            for start in stride(from: 0, to: entries, by: 10_000) {
                let candidates = (start..<min(entries, start + 10_000)).map { i in
                    let jws = "bench.\(i).placeholder"
                    return LogCandidate(
                        id: "bench-\(i)", park: "P001", type: "card.spent", kid: "bench", issuedAt: now, jws: jws, leafHash: MerkleHash.leaf(Data(jws.utf8)))
                }
                _ = try await hub.store.append(candidates, knownSize: box.tree.size, now: now) { missed, appended in
                    let tiles = box.tree.append(leafHashes: missed + appended)
                    let checkpoint = Checkpoint(origin: origin, size: box.tree.size, rootHash: box.tree.rootHash(), timestamp: now)
                    return (
                        CheckpointRecord(treeSize: box.tree.size, rootHash: checkpoint.rootHash, createdAt: now, note: try checkpoint.signed(with: key)),
                        tiles
                    )
                }
                progress.add(candidates.count)
            }
            return box.tree.rootHash()
        }
    }
}
