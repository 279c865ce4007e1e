import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedLab
import Synchronization

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks, with the raw limits of this machine measured in the same run.",
        subcommands: [All.self, Ingest.self, Stages.self, Card.self, Gate.self, Settle.self, Startup.self, Stores.self], defaultSubcommand: All.self)

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accepted assertions per second over mutual TLS and HTTP/2 with durable commits, against raw Ed25519 verifications.",
            discussion: "Build with `swift build -c release` and run .build/release/parkfed bench ingest for meaningful figures.")
        @Option(help: "Assertions to ingest.") var assertions = 100_000
        @Option(help: "Assertions per batch (at most 1000).") var batch = 1000
        @Option(help: "Batches in flight at once (HTTP/2 streams on the pooled connection).") var concurrency = 4
        @Option(help: "Parks sending (each its own key and connection).") var parks = 2
        @Flag(help: "A short bounded run (5,000 assertions), for CI.") var quick = false

        func validate() throws {
            guard (1...IngestRequest.maximumBatch).contains(batch) else { throw ValidationError("--batch must be 1-1000") }
            guard assertions > 0, concurrency > 0, (1...16).contains(parks) else {
                throw ValidationError("--assertions, --concurrency and --parks must be positive (parks ≤ 16)")
            }
        }

        func run() async throws { _ = try await measure() }

        func measure() async throws -> BenchResult {
            let total = quick ? 5_000 : assertions
            let cores = ProcessInfo.processInfo.activeProcessorCount
            #if DEBUG
                say("note: this is a debug build; figures are only meaningful from `swift build -c release`\n")
            #endif
            say("parkfed bench ingest: \(total) assertions, batches of \(batch), \(concurrency) in flight per park, \(parks) park(s), \(cores) cores")

            // 1. The raw limit: Ed25519 verifications per second, one core and all cores.
            let rawCount = quick ? 5_000 : 40_000
            let rawBefore = try await RawVerify.rates(count: rawCount, workers: cores)
            say(String(format: "  raw Ed25519 verify: %.0f /s on 1 core, %.0f /s on %d cores", rawBefore.oneCore, rawBefore.allCores, cores))

            // 2. A real hub on loopback, real parks, real mutual TLS.
            let federation = try await LabFederation.launch()
            var agents: [NodeAgent] = []
            for index in 0..<parks { agents.append(try await federation.enroll(String(format: "P%03d", index + 1))) }
            say("  hub on \(federation.hubURL), \(parks) park(s) enrolled; signing \(total) assertions…")
            let perPark = (total + parks - 1) / parks
            var bodies: [[Data]] = []
            for (p, agent) in agents.enumerated() {
                let count = min(perPark, total - p * perPark)
                let now = Date()
                let compacts = try await Self.signInParallel(count: count, agent: agent, now: now, workers: cores)
                bodies.append(
                    try stride(from: 0, to: compacts.count, by: batch).map {
                        try StrictJSON.encoder.encode(IngestRequest(assertions: Array(compacts[$0..<min($0 + batch, compacts.count)])))
                    })
            }

            // 3. Ingest: every park sends its batches, `concurrency` at a time.
            let progress = ProgressCounter(total: total)
            let cpuBefore = ProcessCPU.seconds
            let started = ContinuousClock.now
            let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
                for (agent, parkBodies) in zip(agents, bodies) {
                    group.addTask {
                        try await Self.send(parkBodies, via: agent.hub, concurrency: concurrency, progress: progress)
                    }
                }
                var all: [Duration] = []
                for try await part in group { all += part }
                return all
            }
            let elapsed = ContinuousClock.now - started
            let cpuMicros = (ProcessCPU.seconds - cpuBefore) * 1e6 / Double(max(1, progress.accepted))
            let seconds = elapsed.seconds
            let accepted = progress.accepted
            let size = try await federation.hub.store.logSize()
            let report = try await LogVerifier(hub: federation.hub).verify()
            for agent in agents { await agent.shutdown() }
            await federation.stop()
            // The raw limit again, after the run: the ratio is against the mean of the two.
            let rawAfter = try await RawVerify.rates(count: rawCount, workers: cores)
            let oneCoreRaw = Bracketed(before: rawBefore.oneCore, after: rawAfter.oneCore)
            let allCoresRaw = Bracketed(before: rawBefore.allCores, after: rawAfter.allCores)
            let (oneCore, allCores) = (oneCoreRaw.mean, allCoresRaw.mean)

            let rate = Double(accepted) / seconds
            let sorted = latencies.sorted()
            func ms(_ d: Duration) -> Double { d.seconds * 1000 }
            let p50 = sorted.isEmpty ? 0 : ms(sorted[sorted.count / 2])
            let p99 = sorted.isEmpty ? 0 : ms(sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
            say("")
            say(
                Table.render(
                    header: ["figure", "value"],
                    rows: [
                        ["assertions accepted", "\(accepted) of \(total) (log size \(size), verify-log \(report.ok ? "OK" : "FAILED"))"],
                        ["elapsed", String(format: "%.2f s", seconds)],
                        ["ingest (mTLS, HTTP/2, durable)", String(format: "%.0f assertions/s", rate)],
                        ["batch latency p50 / p99", String(format: "%.1f ms / %.1f ms", p50, p99)],
                        ["raw Ed25519 verify, 1 core", oneCoreRaw.text],
                        ["raw Ed25519 verify, \(cores) cores", allCoresRaw.text],
                        ["ingest ÷ raw verify (1 core)", String(format: "%.2f", rate / oneCore)],
                        ["ingest ÷ raw verify (\(cores) cores)", String(format: "%.2f  (goal ≥ 0.6)", rate / allCores)],
                        [
                            "CPU per assertion (hub and parks, this process)",
                            String(format: "%.0f µs, of which one Ed25519 verify %.0f µs (%.0f %%)", cpuMicros, 1e6 / oneCore, 1e6 / oneCore / cpuMicros * 100),
                        ],
                    ]))
            guard accepted == total, report.ok else { throw ExitCode(1) }
            return BenchResult(name: "ingest", value: rate, unit: "assertions/s", limit: allCores, limitName: "raw Ed25519 verify, \(cores) cores")
        }

        static func send(_ bodies: [Data], via hub: HubClient, concurrency: Int, progress: ProgressCounter) async throws -> [Duration] {
            try await timedConcurrently(count: bodies.count, limit: concurrency) { index in
                let reply = try await hub.send(.POST, "/v1/assertions", body: bodies[index], timeout: .seconds(120))
                guard reply.status == 200 else { throw ValidationError("hub answered \(reply.status): \(String(decoding: reply.body, as: UTF8.self))") }
                let response = try StrictJSON.decoder.decode(IngestResponse.self, from: reply.body)
                progress.add(response.results.filter { $0.status == .accepted }.count)
            }
        }

        /// Signs `count` sample assertions for `agent` on every core (set-up, not timed).
        static func signInParallel(count: Int, agent: NodeAgent, now: Date, workers: Int) async throws -> [String] {
            let chunk = (count + workers - 1) / workers
            let park = agent.park, key = agent.signingKey
            return try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
                for worker in 0..<workers {
                    let range = (worker * chunk)..<min(count, (worker + 1) * chunk)
                    guard !range.isEmpty else { continue }
                    group.addTask {
                        (worker, try range.map { try Assertions.sign(SampleAssertions.data($0, issuer: park), park: park, key: key, now: now).1.compact })
                    }
                }
                var parts = [[String]](repeating: [], count: workers)
                for try await (worker, part) in group { parts[worker] = part }
                return parts.flatMap { $0 }
            }
        }

        static func rate(count: Int, _ body: () -> Void) -> Double {
            let start = ContinuousClock.now
            body()
            let elapsed = ContinuousClock.now - start
            return Double(count) / elapsed.seconds
        }

        static func parallelRate(count: Int, workers: Int, _ body: @escaping @Sendable (Range<Int>) -> Void) async -> Double {
            let start = ContinuousClock.now
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask { body((worker * count)..<((worker + 1) * count)) }
                }
            }
            let elapsed = ContinuousClock.now - start
            return Double(count * workers) / elapsed.seconds
        }
    }
}

extension BenchCommand {
    struct Stages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per-assertion cost of each ingest stage on one core (where the hub's time goes).")
        @Option(help: "Assertions per stage.") var count = 20_000

        func run() async throws {
            let key = SigningKey()
            let park = try ParkID("P001")
            let compacts = try (0..<count).map { try Assertions.sign(SampleAssertions.data($0, issuer: park), park: park, key: key).1.compact }
            let verifying = key.publicKey
            var rows: [[String]] = []
            func stage(_ name: String, _ body: () async throws -> Void) async rethrows {
                let start = ContinuousClock.now
                try await body()
                let elapsed = ContinuousClock.now - start
                let micros = elapsed.seconds * 1e6 / Double(count)
                rows.append([name, String(format: "%.2f µs", micros), String(format: "%.0f /s", 1e6 / micros)])
            }
            var parsed: [JWS] = []
            try await stage("JWS parse (base64url, header JSON)") { parsed = try compacts.map { try JWS(compact: $0) } }
            await stage("Ed25519 verify") { for jws in parsed { precondition(jws.isSigned(by: verifying)) } }
            try await stage("payload decode + strict checks") { for jws in parsed { _ = try Assertions.decodePayload(jws) } }
            var payloads: [AssertionPayload] = []
            try await stage("  of which JSONDecoder") { payloads = try parsed.map { try Assertions.decoder.decode(AssertionPayload.self, from: $0.payload) } }
            try await stage("  of which JSONEncoder (re-encode)") { for payload in payloads { _ = try Assertions.encoder.encode(payload) } }
            try await stage("  of which JSONSerialization parse") { for jws in parsed { _ = try JSONSerialization.jsonObject(with: jws.payload) } }
            await stage("leaf hash (SHA-256)") { for compact in compacts { _ = MerkleHash.leaf(Data(compact.utf8)) } }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let hubDirectory = try await HubDirectory.initialize(at: directory.file("hub"), configuration: HubConfiguration())
            let hub = try await Hub(directory: hubDirectory, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
            let candidates = zip(compacts, parsed).map { compact, jws in
                LogCandidate(
                    id: UUIDv7.make(), park: "P001", type: "card.spent", kid: jws.header.kid ?? "", issuedAt: Date(), jws: compact,
                    leafHash: MerkleHash.leaf(Data(compact.utf8)))
            }
            try await stage("SQLite append, 1,000-row transactions (FULL sync)") {
                for start in stride(from: 0, to: candidates.count, by: 1000) {
                    let slice = Array(candidates[start..<min(start + 1000, candidates.count)])
                    _ = try await hub.store.append(slice, knownSize: UInt64(start), now: Date()) { _, _ in
                        (CheckpointRecord(treeSize: UInt64(start + slice.count), rootHash: Data(count: 32), createdAt: Date(), note: "bench"), [])
                    }
                }
            }
            try await stage("JSON request body decode (1,000 a batch)") {
                let body = try StrictJSON.encoder.encode(IngestRequest(assertions: Array(compacts.prefix(1000))))
                for _ in 0..<(count / 1000) { _ = try StrictJSON.decode(IngestRequest.self, from: body) }
            }
            say(Table.render(header: ["stage (one core)", "per assertion", "rate"], rows: rows))
        }
    }
}

/// Runs `work(0..<count)` with at most `limit` at once and returns how long each took.
func timedConcurrently(count: Int, limit: Int, _ work: @escaping @Sendable (Int) async throws -> Void) async throws -> [Duration] {
    try await withThrowingTaskGroup(of: Duration.self) { group in
        var latencies: [Duration] = []
        var next = 0
        func launch() {
            let index = next
            next += 1
            group.addTask {
                let start = ContinuousClock.now
                try await work(index)
                return ContinuousClock.now - start
            }
        }
        while next < min(limit, count) { launch() }
        while let latency = try await group.next() {
            latencies.append(latency)
            if next < count { launch() }
        }
        return latencies
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point figure for rates and latencies.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Counts accepted assertions and prints progress every 10%.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private var lastTenth = 0
    let total: Int

    init(total: Int) { self.total = total }

    func add(_ count: Int) {
        let line: String? = lock.withLock {
            done += count
            let tenth = done * 10 / max(total, 1)
            guard tenth > lastTenth else { return nil }
            lastTenth = tenth
            return "  … \(done) done (\(tenth * 10)%)"
        }
        if let line { say(line) }
    }

    var accepted: Int { lock.withLock { done } }
}

/// The raw limit of the request paths: mutual-TLS HTTP/2 requests per second to a no-op handler on the hub's own
/// listener set-up (``LabFederation/serveRaw()``), from the same kind of client (each park's certificate and
/// connection pool) at the same concurrency as the run it is compared with, measured in the same run.
enum RawMTLS {
    struct Figure {
        var rate: Double
        var latencies: [Duration]
        /// CPU time of this process (clients and server) per request, in microseconds.
        var cpuMicros: Double
    }

    static func measure(_ federation: LabFederation, as agents: [NodeAgent], total: Int, concurrency: Int, body: Data) async throws -> Figure {
        let server = try await federation.serveRaw()
        let clients = try agents.map { try LabFederation.client(of: server, as: $0) }
        let figure: Result<Figure, any Error>
        do { figure = .success(try await rate(clients, .POST, "/raw", body: body, total: total, concurrency: concurrency)) } catch { figure = .failure(error) }
        for client in clients { await client.shutdown() }
        await server.stop()
        return try figure.get()
    }

    /// The rate of one request over `clients`, `concurrency` in flight on each (after one each to bring the
    /// connections up).
    static func rate(_ clients: [HubClient], _ method: HTTPMethod, _ path: String, body: Data?, total: Int, concurrency: Int) async throws -> Figure {
        for client in clients { _ = try await client.send(method, path, body: body) }
        let perClient = max(1, total / clients.count)
        let cpu = ProcessCPU.seconds
        let start = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for client in clients {
                group.addTask {
                    try await timedConcurrently(count: perClient, limit: concurrency) { _ in
                        let reply = try await client.send(method, path, body: body)
                        guard reply.status == 200 else { throw ValidationError("\(path) answered \(reply.status)") }
                    }
                }
            }
            var all: [Duration] = []
            for try await part in group { all += part }
            return all
        }
        return Figure(
            rate: Double(latencies.count) / (ContinuousClock.now - start).seconds, latencies: latencies,
            cpuMicros: (ProcessCPU.seconds - cpu) * 1e6 / Double(max(1, latencies.count)))
    }
}

/// A raw limit measured before and after the run it is compared with: this machine kind's speed drifts while it
/// runs (a shared 2-core VM measured Ed25519 verification ±25 % apart in runs a minute apart), and the mean of the
/// two brackets the run instead of taking one moment's speed for the whole of it.
struct Bracketed {
    var before: Double
    var after: Double
    var mean: Double { (before + after) / 2 }
    /// "mean /s (before b, after a)".
    var text: String { String(format: "%.0f /s (before %.0f, after %.0f)", mean, before, after) }
}

/// CPU time this process has used so far (user and system, every thread), for CPU per request: the benchmarks run
/// the hub, the parks and their clients in one process, so this is the whole cost of a request on this machine.
enum ProcessCPU {
    static var seconds: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// Latencies gathered from concurrent tasks.
final class Latencies: Sendable {
    private let values = Mutex<[Duration]>([])
    func add(_ more: [Duration]) { values.withLock { $0 += more } }
    var all: [Duration] { values.withLock { $0 } }
}

/// p50 and p99 of `values`, in milliseconds.
func millisecondPercentiles(_ values: [Duration]) -> (p50: Double, p99: Double) {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return (0, 0) }
    return (sorted[sorted.count / 2].seconds * 1000, sorted[min(sorted.count - 1, sorted.count * 99 / 100)].seconds * 1000)
}

/// The raw limit most benchmarks compare against: Ed25519 verifications of small messages per second, on one core
/// and on `workers` cores, measured in the same run.
enum RawVerify {
    static func rates(count: Int, workers: Int) async throws -> (oneCore: Double, allCores: Double) {
        let key = SigningKey()
        let messages = (0..<256).map { Data("message \($0) of the benchmark, about as long as a small assertion payload".utf8) }
        let signatures = try messages.map { try key.signature(for: $0) }
        let oneCore = BenchCommand.Ingest.rate(count: count) {
            for i in 0..<count { precondition(key.publicKey.isValidSignature(signatures[i & 255], for: messages[i & 255])) }
        }
        guard workers > 1 else { return (oneCore, oneCore) }
        let allCores = await BenchCommand.Ingest.parallelRate(count: count, workers: workers) { range in
            for i in range { precondition(key.publicKey.isValidSignature(signatures[i & 255], for: messages[i & 255])) }
        }
        return (oneCore, allCores)
    }
}

extension BenchCommand {
    struct Card: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Card authorisations (hold + capture) per second under concurrency over mutual TLS, against raw durable SQLite write transactions.",
            discussion: "Build with `swift build -c release` for meaningful figures.")
        @Option(help: "Authorisations (hold + capture pairs).") var authorisations = 4_000
        @Option(help: "Cards spent on at once.") var cards = 50
        @Option(help: "Requests in flight per park.") var concurrency = 16
        @Flag(help: "A short bounded run (400 authorisations), for CI.") var quick = false

        func run() async throws { _ = try await measure() }

        func measure() async throws -> BenchResult {
            let total = quick ? 400 : authorisations
            #if DEBUG
                say("note: this is a debug build; figures are only meaningful from `swift build -c release`\n")
            #endif
            say("parkfed bench card: \(total) authorisations on \(cards) cards from 3 parks, \(concurrency) in flight per park")

            // The raw limit: durable (synchronous FULL, WAL) single-row write transactions on this machine.
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let rawCount = quick ? 300 : 3_000
            let rawRate = try await Self.rawWriteRate(path: scratch.file("raw.sqlite"), count: rawCount)
            say(String(format: "  raw durable SQLite write transactions: %.0f /s", rawRate))

            let federation = try await LabFederation.launch()
            var agents: [NodeAgent] = []
            for id in ["P001", "P002", "P003"] { agents.append(try await federation.enroll(id)) }
            let loader = AuthenticatedPeer(principal: .park(try ParkID("P001")), serial: "bench", notAfter: .distantFuture)
            var simulated: [SimulatedCard] = []
            for card in 0..<cards {
                await simulated.append(
                    try SimulatedCard(try federation.hub.registerCard(RegisterCardRequest(cardID: "B\(card)", kind: .virtual), peer: loader)))
                _ = try await federation.hub.loadCard("B\(card)", LoadRequest(loadID: "L\(card)", amountMinor: 10_000_000), peer: loader)
            }
            // The raw limit: the same clients (one a park), the same concurrency, a body of the same size, a no-op handler.
            let sample = try StrictJSON.encoder.encode(
                HoldRequest(requestID: "P0-0", amountMinor: 100, cardProof: simulated[0].proof(.hold, amountMinor: 100, park: "P001", requestID: "P0-0")))
            let rawRequestCount = quick ? 600 : 20_000
            let raw = try await RawMTLS.measure(federation, as: agents, total: rawRequestCount, concurrency: concurrency, body: sample)
            say(String(format: "  raw mutual-TLS HTTP/2 requests (no-op handler, same clients): %.0f /s", raw.rate))
            // Where the gap starts: the hub's own HTTP layer (authentication, rate limit, metrics, logging) on a
            // route with no rule behind it.
            let whoami = try await RawMTLS.rate(
                agents.map(\.hub), .GET, "/v1/whoami", body: nil, total: rawRequestCount, concurrency: concurrency)
            say(String(format: "  the hub's GET /v1/whoami (authenticated, no rule), same clients: %.0f /s", whoami.rate))
            let commitsBefore = federation.hub.store.sqliteCommits ?? 0
            let cpuBefore = ProcessCPU.seconds
            let started = ContinuousClock.now
            let each = Latencies()
            let latencies = try await Self.authorise(
                total: total, cards: simulated, concurrency: concurrency, via: agents.map { ($0.park.rawValue, $0.hub) }, requests: each)
            let elapsed = ContinuousClock.now - started
            let cpuMicros = (ProcessCPU.seconds - cpuBefore) * 1e6 / Double(max(1, 2 * latencies.count))
            let seconds = elapsed.seconds
            let commits = (federation.hub.store.sqliteCommits ?? 0) - commitsBefore
            let totals = try await federation.hub.store.ledgerTotals()
            // The raw limit again, after the run: the ratio is against the mean of the two.
            let rawAfter = try await RawMTLS.measure(federation, as: agents, total: rawRequestCount, concurrency: concurrency, body: sample)
            let rawRequests = Bracketed(before: raw.rate, after: rawAfter.rate)
            for agent in agents { await agent.shutdown() }
            await federation.stop()

            let rate = Double(latencies.count) / seconds
            let single = millisecondPercentiles(each.all)
            // Each authorisation is two requests (hold, capture); the latency is of each pair.
            let requests = 2 * rate
            let pair = millisecondPercentiles(latencies), rawLatency = millisecondPercentiles(raw.latencies)
            say("")
            say(
                Table.render(
                    header: ["figure", "value"],
                    rows: [
                        ["authorisations (hold + capture)", "\(latencies.count), ledger \(totals.debits == totals.credits ? "balanced" : "UNBALANCED")"],
                        ["elapsed", String(format: "%.2f s", seconds)],
                        ["authorisation requests per second (hold or capture)", String(format: "%.0f /s", requests)],
                        ["latency p50 / p99 of each request", String(format: "%.1f ms / %.1f ms", single.p50, single.p99)],
                        ["latency p50 / p99 of hold + capture", String(format: "%.1f ms / %.1f ms", pair.p50, pair.p99)],
                        ["raw mutual-TLS HTTP/2 requests, same clients and concurrency", rawRequests.text],
                        ["  raw latency p50 / p99", String(format: "%.1f ms / %.1f ms", rawLatency.p50, rawLatency.p99)],
                        ["the hub's GET /v1/whoami (authenticated, no rule), same clients", String(format: "%.0f /s", whoami.rate)],
                        ["durable commits for \(2 * latencies.count) writes (group commit)", "\(commits)"],
                        ["authorisation requests ÷ raw requests", String(format: "%.2f  (goal ≥ 0.5)", requests / rawRequests.mean)],
                        [
                            "CPU per request (hub and parks, this process)",
                            String(format: "%.0f µs; raw request %.0f µs (%.1f×)", cpuMicros, raw.cpuMicros, cpuMicros / raw.cpuMicros),
                        ],
                        ["raw durable SQLite write transactions", String(format: "%.0f /s", rawRate)],
                    ]))
            guard totals.debits == totals.credits else { throw ExitCode(1) }
            return BenchResult(
                name: "card", value: requests, unit: "authorisation requests/s", limit: rawRequests.mean, limitName: "raw mutual-TLS HTTP/2 requests",
                p50: single.p50, p99: single.p99)
        }

        /// `total` hold + capture pairs on cards `B0`… (registered and loaded), split over `hubs` (one client a park),
        /// `concurrency` in flight on each: the latency of each pair.
        static func authorise(
            total: Int, cards: [SimulatedCard], concurrency: Int, via hubs: [(park: String, hub: HubClient)], requests: Latencies? = nil
        ) async throws -> [Duration] {
            let perPark = total / hubs.count
            return try await withThrowingTaskGroup(of: [Duration].self) { group in
                for (p, (park, hub)) in hubs.enumerated() {
                    group.addTask {
                        try await timedConcurrently(count: perPark, limit: concurrency) { i in
                            let simulated = cards[(i * 7 + p) % cards.count], request = "P\(p)-\(i)"
                            let card = simulated.id
                            // The card computes its cryptogram as a reader asks it (counter, amount, park, request).
                            let proof = simulated.proof(.hold, amountMinor: 100, park: park, requestID: request)
                            let t0 = ContinuousClock.now
                            let hold = try await hub.send(
                                .POST, "/v1/cards/\(card)/holds",
                                body: try StrictJSON.encoder.encode(HoldRequest(requestID: request, amountMinor: 100, cardProof: proof)))
                            guard hold.status == 200 else { throw ValidationError("hold refused: \(String(decoding: hold.body, as: UTF8.self))") }
                            let t1 = ContinuousClock.now
                            let capture = try await hub.send(.POST, "/v1/cards/\(card)/holds/\(request)/capture")
                            guard capture.status == 200 else { throw ValidationError("capture refused: \(capture.status)") }
                            requests?.add([t1 - t0, ContinuousClock.now - t1])
                        }
                    }
                }
                var all: [Duration] = []
                for try await part in group { all += part }
                return all
            }
        }

        /// Single-row INSERT transactions with synchronous FULL in WAL mode: one fsync each, the floor of any
        /// durable acknowledgement on this disk.
        static func rawWriteRate(path: String, count: Int) async throws -> Double {
            let store = try NodeStore(path: path)
            let start = ContinuousClock.now
            for i in 0..<count { try await store.raiseAlarm(kind: "bench", detail: "row \(i)", now: Date()) }
            let elapsed = ContinuousClock.now - start
            return Double(count) / elapsed.seconds
        }
    }

    struct Gate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Gate decisions per second and latency: the offline verification path, whole offline decisions, and online decisions through the hub, against raw Ed25519 verifications.",
            discussion: "Build with `swift build -c release` for meaningful figures.")
        @Option(help: "Passes scanned in each phase.") var passes = 4_000
        @Option(help: "Gates scanning at once in the online phase.") var concurrency = 32
        @Option(help: "Gates scanning at once in the offline phase.") var offlineGates = 8
        @Flag(help: "A short bounded run (300 passes), for CI.") var quick = false
        @Option(help: "The hub's store on a scratch database of this PostgreSQL server (its admin URL) instead of SQLite.")
        var postgres: String?

        func run() async throws { _ = try await measure() }

        func measure() async throws -> [BenchResult] {
            guard let admin = postgres else { return try await measure(store: nil) }
            return try await Stores.onScratchDatabase(admin) { try await measure(store: $0) }
        }

        func measure(store: String?) async throws -> [BenchResult] {
            let total = quick ? 300 : passes
            #if DEBUG
                say("note: this is a debug build; figures are only meaningful from `swift build -c release`\n")
            #endif
            say("parkfed bench gate: \(total) passes per phase, sold at P001 and scanned at P002, the hub on \(store == nil ? "SQLite" : "PostgreSQL")")
            let (rawVerifyCount, rawRequestCount) = quick ? (5_000, 600) : (40_000, 20_000)
            let (raw1Before, _) = try await RawVerify.rates(count: rawVerifyCount, workers: 1)
            say(String(format: "  raw Ed25519 verify: %.0f /s on 1 core", raw1Before))
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let rawWrites = try await Card.rawWriteRate(path: scratch.file("raw.sqlite"), count: quick ? 300 : 2_000)
            say(String(format: "  raw durable SQLite write transactions: %.0f /s", rawWrites))

            var configuration = HubConfiguration(federation: "Lab Federation")
            configuration.store = store
            // One park's gates send every decision: its rate limit (2,000 requests a second by default) must not be
            // what is measured.
            configuration.rateLimitPerSecond = 1_000_000
            configuration.rateLimitBurst = 1_000_000
            let federation = try await LabFederation.launch(configuration: configuration)
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (seller, gate) = (agents[0], agents[1])
            let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
            func sell(_ count: Int) async throws -> [String] {
                var codes: [String] = []
                for _ in 0..<count { codes.append(try await seller.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "ota", holder: holder)).code) }
                return codes
            }
            // 1. The offline verification path alone: parse, trust list, signature, product (no state).
            // Measured again after the offline phase: the offline ratio is against the mean of the two.
            let codes = try await sell(total)
            func verification() throws -> (rate: Double, latencies: [Duration]) {
                var latencies: [Duration] = []
                latencies.reserveCapacity(total * 4)
                let start = ContinuousClock.now
                for round in 0..<4 {
                    for code in codes {
                        let t = ContinuousClock.now
                        guard case .success = gate.verifyCode(code) else { throw ValidationError("a sold code did not verify (round \(round))") }
                        latencies.append(ContinuousClock.now - t)
                    }
                }
                return (Double(latencies.count) / (ContinuousClock.now - start).seconds, latencies)
            }
            let (verifyBefore, verifyLatencies) = try verification()

            // 2. Online decisions: the hub counts each entry and logs it, `concurrency` gates at once; against the raw
            // mutual-TLS request rate of the gate node's own client at the same concurrency, with a body of the size
            // of an entry assertion.
            let onlineCodes = try await sell(total)
            let body = Data(#"{"assertion":"\#(String(repeating: "x", count: onlineCodes[0].count + 300))"}"#.utf8)
            let raw = try await RawMTLS.measure(federation, as: [gate], total: rawRequestCount, concurrency: concurrency, body: body)
            say(String(format: "  raw mutual-TLS HTTP/2 requests (no-op handler, the node's client, %d at once): %.0f /s", concurrency, raw.rate))
            let onlineCommitsBefore = gate.store.gateCommits
            let onlineCPU = ProcessCPU.seconds
            let onlineStart = ContinuousClock.now
            let onlineLatencies = try await timedConcurrently(count: total, limit: concurrency) { i in
                let decision = try await gate.scan(GateScanRequest(code: onlineCodes[i], gate: "G\(i % concurrency)"))
                guard decision.decision == .allow, decision.mode == .online else { throw ValidationError("online scan \(i): \(decision.reason ?? "?")") }
            }
            let onlineRate = Double(total) / (ContinuousClock.now - onlineStart).seconds
            let onlineCommits = gate.store.gateCommits - onlineCommitsBefore
            let onlineCPUMicros = (ProcessCPU.seconds - onlineCPU) * 1e6 / Double(total)
            say(String(format: "  online decisions, %d gates: %.0f /s", concurrency, onlineRate))
            let rawAfter = try await RawMTLS.measure(federation, as: [gate], total: rawRequestCount, concurrency: concurrency, body: body)
            let rawRequests = Bracketed(before: raw.rate, after: rawAfter.rate)

            // 3. Whole offline decisions with the hub stopped, `offlineGates` at once: verify, reserve in SQLite
            // (durable), outbox.
            await federation.stopHub()
            _ = try await gate.scan(GateScanRequest(code: codes[0], gate: "G0"))  // finds the hub down
            say("  the hub is stopped: whole offline decisions")
            let offlineCommitsBefore = gate.store.gateCommits
            let offlineCPU = ProcessCPU.seconds
            let offlineStart = ContinuousClock.now
            let gates = offlineGates
            let offlineLatencies = try await timedConcurrently(count: total - 1, limit: gates) { i in
                let decision = try await gate.scan(GateScanRequest(code: codes[i + 1], gate: "G\(i % gates)"))
                guard decision.decision == .allow else { throw ValidationError("offline scan \(i): \(decision.reason ?? "?")") }
            }
            let offlineRate = Double(total - 1) / (ContinuousClock.now - offlineStart).seconds
            let offlineCommits = gate.store.gateCommits - offlineCommitsBefore
            let offlineCPUMicros = (ProcessCPU.seconds - offlineCPU) * 1e6 / Double(total - 1)
            say(String(format: "  offline decisions, %d gates: %.0f /s", gates, offlineRate))
            let pending = await gate.status().outbox.pending
            let verifyRates = Bracketed(before: verifyBefore, after: try verification().rate)
            let verifyRate = verifyRates.mean
            let raw1Rates = Bracketed(before: raw1Before, after: try await RawVerify.rates(count: rawVerifyCount, workers: 1).oneCore)
            let raw1 = raw1Rates.mean
            await federation.stop()

            func percentiles(_ values: [Duration]) -> String {
                let sorted = values.sorted()
                func us(_ d: Duration) -> Double { d.seconds * 1_000_000 }
                return String(format: "%.0f µs / %.0f µs", us(sorted[sorted.count / 2]), us(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]))
            }
            say("")
            say(
                Table.render(
                    header: ["figure", "value"],
                    rows: [
                        ["offline verification (parse, trust list, signature, product)", verifyRates.text],
                        ["  latency p50 / p99", percentiles(verifyLatencies)],
                        ["raw Ed25519 verify, 1 core", raw1Rates.text],
                        ["offline verification ÷ raw verify", String(format: "%.2f", verifyRate / raw1)],
                        ["online decisions (gate → node → hub → durable → answer), \(concurrency) gates", String(format: "%.0f /s", onlineRate)],
                        ["  latency p50 / p99", percentiles(onlineLatencies)],
                        ["raw mutual-TLS HTTP/2 requests, same client and concurrency", rawRequests.text],
                        ["  latency p50 / p99", percentiles(raw.latencies)],
                        ["online decisions ÷ raw requests", String(format: "%.2f  (goal ≥ 0.35, p99 < 25 ms)", onlineRate / rawRequests.mean)],
                        ["  the node's durable commits for \(2 * total) gate writes (group commit)", "\(onlineCommits)"],
                        [
                            "  CPU per online decision (gate, node and hub, this process)",
                            String(format: "%.0f µs; raw request %.0f µs (%.1f×)", onlineCPUMicros, raw.cpuMicros, onlineCPUMicros / raw.cpuMicros),
                        ],
                        ["offline decisions (verification + durable local reservation + outbox), \(gates) gates", String(format: "%.0f /s", offlineRate)],
                        ["  latency p50 / p99", percentiles(offlineLatencies)],
                        ["offline decisions ÷ offline verification", String(format: "%.2f  (goal ≥ 0.5)", offlineRate / verifyRate)],
                        ["  the node's durable commits for \(total - 1) reservations (group commit)", "\(offlineCommits)"],
                        [
                            "  CPU per offline decision (this process)",
                            String(
                                format: "%.0f µs; one offline verification %.0f µs (%.1f×)", offlineCPUMicros, 1e6 / verifyRate,
                                offlineCPUMicros * verifyRate / 1e6),
                        ],
                        ["raw durable SQLite write transactions", String(format: "%.0f /s", rawWrites)],
                        ["entries waiting in the outbox after the offline phase", "\(pending)"],
                    ]))
            let online = millisecondPercentiles(onlineLatencies), offline = millisecondPercentiles(offlineLatencies)
            let verify = millisecondPercentiles(verifyLatencies)
            return [
                BenchResult(
                    name: "gate", value: onlineRate, unit: "online decisions/s", limit: rawRequests.mean, limitName: "raw mutual-TLS HTTP/2 requests",
                    p50: online.p50, p99: online.p99),
                BenchResult(
                    name: "gate-offline", value: offlineRate, unit: "offline decisions/s", limit: verifyRate, limitName: "offline verification",
                    p50: offline.p50, p99: offline.p99),
                BenchResult(
                    name: "gate-verify", value: verifyRate, unit: "offline verifications/s", limit: raw1, limitName: "raw Ed25519 verify, 1 core",
                    p50: verify.p50, p99: verify.p99),
            ]
        }
    }

    struct Settle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Net N obligations among P parks (generated into a real hub database) and compare with a plain aggregate scan of the same rows.",
            discussion:
                "Build with `swift build -c release`. The default (10 million among 500 parks) writes a multi-gigabyte database and takes minutes to generate.")
        @Option(help: "Obligations to generate.") var obligations = 10_000_000
        @Option(help: "Parks they are spread over.") var parks = 500
        @Option(help: "Where to put the database (default: a temporary directory, removed afterwards).") var data: String?
        @Flag(help: "A short bounded run (50,000 obligations among 30 parks), for CI.") var quick = false

        func validate() throws {
            guard obligations > 0, (2...10_000).contains(parks) else { throw ValidationError("--obligations must be positive and --parks 2-10000") }
        }

        func run() async throws { _ = try await measure() }

        func measure() async throws -> BenchResult {
            let total = quick ? 50_000 : obligations, parkCount = quick ? 30 : parks
            #if DEBUG
                say("note: this is a debug build; figures are only meaningful from `swift build -c release`\n")
            #endif
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let root = data ?? scratch.path
            let hubDirectory = try await HubDirectory.initialize(
                at: (root as NSString).appendingPathComponent("hub-\(UUIDv7.make())"),
                configuration: HubConfiguration(federation: "Bench", settlementTime: nil))
            let hub = try await Hub(directory: hubDirectory, logger: CLILogging.quiet)
            say("parkfed bench settle: \(total) obligations among \(parkCount) parks into \(hubDirectory.database)")
            let ids = try (0..<parkCount).map { try ParkID(String(format: "P%04d", $0)) }
            let day = try CivilDay("2026-11-24")
            var random = SystemRandomNumberGenerator()
            let progress = ProgressCounter(total: total)
            let generated = ContinuousClock.now
            var made = 0
            while made < total {
                let chunk = min(100_000, total - made)
                let rows = (0..<chunk).map { i -> (Obligation, CivilDay) in
                    let from = Int.random(in: 0..<parkCount, using: &random)
                    let to = (from + Int.random(in: 1..<parkCount, using: &random)) % parkCount
                    return (
                        Obligation(
                            from: ids[from], to: ids[to], amountMinor: Int64.random(in: 100...50_000, using: &random),
                            reason: "pass_redemption", reference: "B\(made + i)"), day
                    )
                }
                try await hub.store.loadObligations(rows, at: Date(timeIntervalSince1970: 1_795_000_000))
                made += chunk
                progress.add(chunk)
            }
            say(
                String(
                    format: "  generated in %.1f s (each row filed with its running pair total, as live traffic is)", (ContinuousClock.now - generated).seconds)
            )

            // The raw limit: SQLite's own aggregate over the same rows.
            let scanStart = ContinuousClock.now
            let scan = try await hub.store.plainScan(after: nil, through: day)
            let scanTime = (ContinuousClock.now - scanStart).seconds
            // Netting: the whole close of the day (totals, netting, signed batch, one transaction).
            let netStart = ContinuousClock.now
            let record = try await hub.runSettlement(day: day, now: hub.endOfDay(day).addingTimeInterval(1)) { say("  … \($0)") }
            let netTime = (ContinuousClock.now - netStart).seconds
            let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
            guard batch.obligationCount == scan.count, batch.grossMinor == scan.sum, batch.positions.reduce(0, { $0 + $1.netMinor }) == 0 else {
                say("MISMATCH: batch \(batch.obligationCount) obligations, gross \(batch.grossMinor); scan \(scan.count), \(scan.sum)")
                throw ExitCode(1)
            }
            say("")
            say(
                Table.render(
                    header: ["figure", "value"],
                    rows: [
                        ["obligations", "\(scan.count) among \(parkCount) parks, gross \(batch.grossMinor), \(batch.pairCount) pairs"],
                        ["netting (close the day: totals, netting, signed batch)", String(format: "%.3f s", netTime)],
                        ["plain SQLite aggregate scan of the same rows", String(format: "%.3f s", scanTime)],
                        ["netting ÷ plain scan", String(format: "%.2f  (target well under 2)", netTime / scanTime)],
                        ["net total", "\(batch.netMinor) (reduction \(String(format: "%.2f", Double(batch.reductionBasisPoints) / 100)) %)"],
                        ["positions sum", "\(batch.positions.reduce(0) { $0 + $1.netMinor })"],
                    ]))
            if data == nil { try? FileManager.default.removeItem(atPath: hubDirectory.path) }
            // As rates over the same rows: obligations settled per second against obligations a plain scan reads per second.
            return BenchResult(
                name: "settle", value: Double(scan.count) / netTime, unit: "obligations netted/s", limit: Double(scan.count) / scanTime,
                limitName: "plain SQLite aggregate scan, rows/s")
        }
    }
}

/// One benchmark's headline: its figure, the raw limit measured in the same run, and their ratio.
struct BenchResult: Encodable, Sendable {
    var name: String
    var value: Double
    var unit: String
    var limit: Double
    var ratio: Double
    /// What the limit is.
    var limitName: String
    /// Latency of one operation, in milliseconds, where the figure is a request path.
    var p50: Double?
    var p99: Double?

    init(name: String, value: Double, unit: String, limit: Double, limitName: String, p50: Double? = nil, p99: Double? = nil) {
        self.name = name
        self.value = value
        self.unit = unit
        self.limit = limit
        self.ratio = limit > 0 ? value / limit : 0
        self.limitName = limitName
        self.p50 = p50
        self.p99 = p99
    }

    enum CodingKeys: String, CodingKey {
        case name, value, unit, limit, ratio, p50, p99
        case limitName = "limit_name"
    }
}

/// Where the benchmarks write their progress and tables: standard output, or standard error when the summary is
/// JSON (so that standard output holds only the JSON document).
enum BenchOutput {
    nonisolated(unsafe) static var toStandardError = false
}

func say(_ line: String = "") {
    if BenchOutput.toStandardError {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    } else {
        print(line)
    }
}

extension BenchCommand {
    struct All: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "all",
            abstract: "Run every benchmark (gate, ingest, card, settle, startup) and print one table: figure, raw limit measured in the same run, ratio.",
            discussion:
                "`parkfed bench` alone runs this. Build with `swift build -c release` for meaningful figures. Each benchmark also runs alone (`parkfed bench gate|ingest|card|settle|startup --help`) with more detail and options. With --json, standard output holds only {\"results\": [{\"name\", \"value\", \"unit\", \"limit\", \"ratio\"}]}, and the detail goes to standard error."
        )
        @Flag(help: "Short bounded runs (as in CI).") var quick = false
        @Flag(help: "Print the summary as JSON on standard output.") var json = false
        @Option(help: "Obligations for the settle benchmark (its own default, 10 million, takes many minutes to generate).")
        var settleObligations = 1_000_000
        @Option(help: "Parks for the settle benchmark.") var settleParks = 200

        func validate() throws {
            guard settleObligations > 0, (2...10_000).contains(settleParks) else {
                throw ValidationError("--settle-obligations must be positive and --settle-parks 2-10000")
            }
        }

        func run() async throws {
            BenchOutput.toStandardError = json
            let quickFlag = quick ? ["--quick"] : []
            var results: [BenchResult] = []
            say("== gate ==")
            results += try await Gate.parse(quickFlag).measure()
            say("\n== ingest ==")
            results.append(try await Ingest.parse(quickFlag).measure())
            say("\n== card ==")
            results.append(try await Card.parse(quickFlag).measure())
            say("\n== settle ==")
            results.append(try await Settle.parse(quickFlag + ["--obligations", "\(settleObligations)", "--parks", "\(settleParks)"]).measure())
            say("\n== startup ==")
            results.append(try await Startup.parse(quickFlag).measure())
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                struct Summary: Encodable { var results: [BenchResult] }
                print(String(decoding: try encoder.encode(Summary(results: results)), as: UTF8.self))
            } else {
                #if DEBUG
                    print("\nnote: debug build; build with `swift build -c release` for figures that mean something")
                #endif
                print("\nparkfed bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Self.machine())")
                print(
                    Table.render(
                        header: ["benchmark", "figure", "raw limit (same run)", "ratio"],
                        rows: results.map {
                            [
                                $0.name, String(format: "%.0f %@", $0.value, $0.unit), String(format: "%.0f /s  %@", $0.limit, $0.limitName),
                                String(format: "%.2f", $0.ratio),
                            ]
                        }))
            }
        }

        static func machine() -> String {
            let model = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces)
            return model ?? "unknown CPU"
        }
    }
}
