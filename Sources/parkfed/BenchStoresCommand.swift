import ArgumentParser
import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import Logging
import ParkFedLab
import ParkFedStore

extension BenchCommand {
    /// One hub on its SQLite file, one hub on a PostgreSQL database and two hub processes sharing one, in the same run,
    /// with the same traffic: assertion ingest and card authorisations over mutual TLS.
    struct Stores: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stores",
            abstract:
                "Ingest and card authorisations: one hub on SQLite, one hub on PostgreSQL and two hub processes on one PostgreSQL database, in the same run.",
            discussion:
                "Needs a PostgreSQL server (`scripts/postgres start --durable` prints an admin URL: fsync on, so that both stores commit durably); each run makes a database of its own there and drops it. The second hub is a real `parkfed hub serve` process on the same data directory. Build with `swift build -c release` for meaningful figures."
        )
        @Option(help: "Admin URL of a PostgreSQL server. Default: $PARKFED_BENCH_POSTGRES, else $PARKFED_TEST_POSTGRES.") var postgres: String?
        @Option(help: "Assertions to ingest on each store.") var assertions = 40_000
        @Option(help: "Card authorisations (hold + capture) on each store.") var authorisations = 2_000
        @Flag(help: "A short bounded run (4,000 assertions, 200 authorisations), for CI.") var quick = false
        @Flag(help: "Print the results as JSON on standard output.") var json = false

        var adminURL: String? {
            postgres ?? ProcessInfo.processInfo.environment["PARKFED_BENCH_POSTGRES"] ?? ProcessInfo.processInfo.environment["PARKFED_TEST_POSTGRES"]
        }

        func validate() throws {
            guard adminURL != nil else { throw ValidationError("give a PostgreSQL server with --postgres (scripts/postgres start prints one)") }
            guard assertions > 0, authorisations > 0 else { throw ValidationError("--assertions and --authorisations must be positive") }
        }

        func run() async throws {
            BenchOutput.toStandardError = json
            let results = try await measure()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                struct Summary: Encodable { var results: [BenchResult] }
                print(String(decoding: try encoder.encode(Summary(results: results)), as: UTF8.self))
            }
        }

        /// What one store did with the traffic.
        struct Figures {
            var ingest: Double
            var card: Double
            var ingestP99: Double
            var cardP99: Double
        }

        func measure() async throws -> [BenchResult] {
            let total = quick ? 4_000 : assertions, cardTotal = quick ? 200 : authorisations
            #if DEBUG
                say("note: this is a debug build; figures are only meaningful from `swift build -c release`\n")
            #endif
            say("parkfed bench stores: \(total) assertions and \(cardTotal) card authorisations from 4 parks, on each store")
            // The stores' own limit in this run: durable one-row write transactions, 8 at once, through the store
            // layer the hub uses (on PostgreSQL each under a lock of its own entity, as card writes are).
            let rawCount = quick ? 400 : 4_000
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let rawSQLite = try await Self.rawWrites(try HubDatabase.open(nil, sqliteFile: scratch.file("raw.sqlite"), logger: Self.quiet), count: rawCount)
            let rawPostgres = try await Self.onScratchDatabase(adminURL!) {
                try await Self.rawWrites(try HubDatabase.open($0, sqliteFile: scratch.file("unused.sqlite"), logger: Self.quiet), count: rawCount)
            }
            say(String(format: "  raw durable one-row write transactions, 8 at once: SQLite %.0f /s, PostgreSQL %.0f /s", rawSQLite, rawPostgres))
            say("  one hub on SQLite…")
            let sqlite = try await Self.play(hubs: 1, store: nil, assertions: total, authorisations: cardTotal)
            say("  one hub on a PostgreSQL database…")
            let one = try await Self.onScratchDatabase(adminURL!) { try await Self.play(hubs: 1, store: $0, assertions: total, authorisations: cardTotal) }
            say("  two hub processes on one PostgreSQL database…")
            let two = try await Self.onScratchDatabase(adminURL!) { try await Self.play(hubs: 2, store: $0, assertions: total, authorisations: cardTotal) }
            say("")
            func row(_ name: String, _ value: (Figures) -> Double, ratios: Bool, format: String = "%.0f") -> [String] {
                [name] + [sqlite, one, two].map { String(format: format, value($0)) }
                    + (ratios ? [String(format: "%.2f", value(one) / value(sqlite)), String(format: "%.2f", value(two) / value(one))] : ["", ""])
            }
            say(
                Table.render(
                    header: ["figure", "1 hub, SQLite", "1 hub, PostgreSQL", "2 hubs, PostgreSQL", "PostgreSQL ÷ SQLite", "2 hubs ÷ 1 hub"],
                    rows: [
                        row("ingest (assertions/s)", \.ingest, ratios: true),
                        row("ingest batch p99 (ms)", \.ingestP99, ratios: false, format: "%.1f"),
                        row("card authorisations/s", \.card, ratios: true),
                        row("card pair p99 (ms)", \.cardP99, ratios: false, format: "%.1f"),
                        [
                            "raw durable write transactions/s (1 row, 8 at once)", String(format: "%.0f", rawSQLite), String(format: "%.0f", rawPostgres), "",
                            String(format: "%.2f", rawPostgres / rawSQLite), "",
                        ],
                    ]))
            say(
                "  (same machine, 2 cores: the PostgreSQL server, the hub processes and the parks share them; goals: PostgreSQL ÷ SQLite ≥ 0.7, 2 hubs ÷ 1 hub ≥ 1.0)"
            )
            let onSQLite = "one hub on SQLite, same run", onPostgres = "one hub on PostgreSQL, same run"
            return [
                BenchResult(name: "ingest-postgres-1-hub", value: one.ingest, unit: "assertions/s", limit: sqlite.ingest, limitName: onSQLite),
                BenchResult(name: "card-postgres-1-hub", value: one.card, unit: "authorisations/s", limit: sqlite.card, limitName: onSQLite),
                BenchResult(name: "ingest-postgres-2-hubs", value: two.ingest, unit: "assertions/s", limit: one.ingest, limitName: onPostgres),
                BenchResult(name: "card-postgres-2-hubs", value: two.card, unit: "authorisations/s", limit: one.card, limitName: onPostgres),
                BenchResult(
                    name: "store-raw-postgres", value: rawPostgres, unit: "write transactions/s", limit: rawSQLite,
                    limitName: "raw durable write transactions on SQLite, same run"),
            ]
        }

        static let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

        /// Durable write transactions per second on `database`, 8 at once, each inserting one 100-byte row.
        static func rawWrites(_ database: any SQLDatabase, count: Int) async throws -> Double {
            try await database.write { db in try await db.execute(sql: "CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, note TEXT NOT NULL)") }
            let note = String(repeating: "x", count: 100)
            let start = ContinuousClock.now
            _ = try await timedConcurrently(count: count, limit: 8) { i in
                try await database.write(entities: ["raw:\(i)"]) { db in
                    _ = try await db.execute(sql: "INSERT INTO bench_raw (id, note) VALUES (?, ?)", arguments: [Int64(i), note])
                }
            }
            let rate = Double(count) / (ContinuousClock.now - start).seconds
            await database.close()
            return rate
        }

        /// Runs `body` on a new database of the server at `admin`, dropped afterwards whatever happens.
        static func onScratchDatabase<T>(_ admin: String, _ body: (String) async throws -> T) async throws -> T {
            let database = try await ScratchDatabase.make(on: admin)
            do {
                let result = try await body(database)
                await ScratchDatabase.drop(database, on: admin)
                return result
            } catch {
                await ScratchDatabase.drop(database, on: admin)
                throw error
            }
        }

        /// Runs the traffic against `hubs` hub processes (the first in this process, the second a child process on
        /// the same data directory) on `store` (nil: the SQLite file).
        static func play(hubs: Int, store: String?, assertions total: Int, authorisations: Int) async throws -> Figures {
            let federation = try await LabFederation.launch(configuration: HubConfiguration(federation: "Bench", store: store))
            var second: BackgroundProcess?
            var agents: [NodeAgent] = []
            do {
                var urls = [federation.hubURL]
                if hubs > 1 {
                    let port = try BackgroundProcess.freePort()
                    let executable = Bundle.main.executablePath ?? CommandLine.arguments[0]
                    second = try BackgroundProcess(
                        executable,
                        [
                            "hub", "serve", "--data", federation.hub.directory.path, "--listen", "127.0.0.1:\(port)",
                            "--log-level", "warning",
                        ], logPath: federation.directory.file("hub-2.log"))
                    urls.append("https://127.0.0.1:\(port)")
                    try await waitForHealth(urls[1], ca: federation.caFile)
                }
                // Four parks, each talking to one of the hubs in turn.
                for (index, id) in ["P001", "P002", "P003", "P004"].enumerated() {
                    let enrolled = try await federation.enroll(id)
                    let url = urls[index % urls.count]
                    await agents.append(
                        url == federation.hubURL
                            ? enrolled
                            : try NodeAgent(directory: enrolled.directory, hubURL: url, refreshInterval: .seconds(3600), logger: federation.logger))
                }
                let cores = ProcessInfo.processInfo.activeProcessorCount
                let perPark = (total + agents.count - 1) / agents.count
                var bodies: [[Data]] = []
                for (p, agent) in agents.enumerated() {
                    let compacts = try await Ingest.signInParallel(count: min(perPark, total - p * perPark), agent: agent, now: Date(), workers: cores)
                    bodies.append(
                        try stride(from: 0, to: compacts.count, by: 500).map {
                            try StrictJSON.encoder.encode(IngestRequest(assertions: Array(compacts[$0..<min($0 + 500, compacts.count)])))
                        })
                }
                let progress = ProgressCounter(total: total)
                let started = ContinuousClock.now
                let ingestLatencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
                    for (agent, parkBodies) in zip(agents, bodies) {
                        group.addTask { try await Ingest.send(parkBodies, via: agent.hub, concurrency: 2, progress: progress) }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                let ingestSeconds = (ContinuousClock.now - started).seconds
                guard progress.accepted == total else { throw ValidationError("only \(progress.accepted) of \(total) assertions were accepted") }

                let loader = AuthenticatedPeer(principal: .park(try ParkID("P001")), serial: "bench", notAfter: .distantFuture)
                let cards = 50
                var simulated: [SimulatedCard] = []
                for card in 0..<cards {
                    await simulated.append(
                        try SimulatedCard(try federation.hub.registerCard(RegisterCardRequest(cardID: "B\(card)", kind: .virtual), peer: loader)))
                    _ = try await federation.hub.loadCard("B\(card)", LoadRequest(loadID: "L\(card)", amountMinor: 10_000_000), peer: loader)
                }
                let cardStarted = ContinuousClock.now
                let cardLatencies = try await Card.authorise(
                    total: authorisations, cards: simulated, concurrency: 8, via: agents.map { ($0.park.rawValue, $0.hub) })
                let cardSeconds = (ContinuousClock.now - cardStarted).seconds
                let totals = try await federation.hub.store.ledgerTotals()
                let report = try await LogVerifier(hub: federation.hub).verify()
                guard totals.debits == totals.credits, report.ok else { throw ValidationError("ledger or log does not check after the run") }

                for agent in agents { await agent.shutdown() }
                if let second { await second.stop() }
                await federation.stop()
                func p99(_ values: [Duration]) -> Double {
                    let sorted = values.sorted()
                    return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * 99 / 100)].seconds * 1000
                }
                return Figures(
                    ingest: Double(total) / ingestSeconds, card: Double(cardLatencies.count) / cardSeconds,
                    ingestP99: p99(ingestLatencies), cardP99: p99(cardLatencies))
            } catch {
                for agent in agents { await agent.shutdown() }
                if let second { await second.stop() }
                await federation.stop()
                throw error
            }
        }

        static func waitForHealth(_ url: String, ca: String) async throws {
            for _ in 0..<200 {
                // Any HTTP answer over TLS (401 without a certificate) means the listener is up.
                let probe = try HubClient(baseURL: url, caFile: ca, certificateFile: nil, keyFile: nil)
                let answered = (try? await probe.send(.GET, "/healthz")) != nil
                await probe.shutdown()
                if answered { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw ValidationError("the second hub process did not start")
        }
    }
}
