import Crypto
import Foundation
import Logging
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedPKI
import ParkFedProtocol
import X509

/// A whole federation for tests: a hub initialised in a temporary directory and serving real mutual TLS on
/// 127.0.0.1, and helpers to enroll parks and start their node agents. Nothing is mocked.
public final class TestFederation: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public private(set) var hub: Hub
    public private(set) var hubServer: RunningServer
    public let logger: Logger
    /// The hub's port, kept across restarts so node agents find it again.
    public let hubPort: Int
    private var hubRunning = true
    /// Node agents made by ``enroll(_:name:)`` or handed to ``adopt(_:)-agent``, shut down by ``stop()``.
    private let agents = LockedBox<[NodeAgent]>([])
    /// Servers started by ``serve(_:)`` or handed to ``adopt(_:)-server``, stopped first by ``stop()``.
    private let servers = LockedBox<[RunningServer]>([])
    private let processes = LockedBox<[BackgroundProcess]>([])

    public var hubURL: String { "https://127.0.0.1:\(hubPort)" }
    public var caFile: String { hub.directory.caCertificate }

    /// The example federation's `partners/` directory in this checkout.
    public static let partnersDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("partners").path
    }()

    /// Starts a hub on the store the test run chose (``TestStore``); `sqliteOnly` keeps it on its SQLite file
    /// (the simulator copies whole data directories, which a shared database would not follow).
    public static func start(configuration: HubConfiguration = HubConfiguration(federation: "Test Federation"), sqliteOnly: Bool = false) async throws
        -> TestFederation
    {
        var configuration = configuration
        if configuration.store == nil, !sqliteOnly { configuration.store = try TestStore.newDatabase() }
        var logger = Logger(label: "parkfed.test")
        logger.logLevel = ProcessInfo.processInfo.environment["PARKFED_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        let directory = try TemporaryDirectory()
        let hubDirectory = try HubDirectory.initialize(at: directory.file("hub"), configuration: configuration)
        let hub = try Hub(directory: hubDirectory, logger: logger)
        _ = try hub.importPromotions(file: partnersDirectory + "/promotions.json")
        _ = try hub.importProducts(file: partnersDirectory + "/products.json")
        _ = try hub.importParks(directory: partnersDirectory)
        // A listener on a fresh port; a failure to start (seen once on a machine loaded by two suites back to back)
        // is retried before it fails the test, with its reason.
        // The port is below the kernel's ephemeral range (32768+), so that while the hub is stopped for a restart no
        // outgoing connection of another test (pooled node clients live for minutes) can be given its port.
        var server: RunningServer?
        for attempt in 1...10 where server == nil {
            do { server = try await serve(hub, port: Int.random(in: 20_000..<32_000), logger: logger) } catch  where attempt < 10 {
                logger.warning("hub server did not start, retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        return TestFederation(directory: directory, hub: hub, hubServer: server!, logger: logger)
    }

    /// Runs `body` with a new federation and awaits its whole shutdown afterwards, whatever `body` does (returns,
    /// throws, fails an expectation): its servers, node agents, hub, test database and directory. The scoped form
    /// every test uses, so nothing a test started outlives it.
    public static func run(
        configuration: HubConfiguration = HubConfiguration(federation: "Test Federation"), sqliteOnly: Bool = false,
        _ body: (TestFederation) async throws -> Void
    ) async throws {
        let federation = try await start(configuration: configuration, sqliteOnly: sqliteOnly)
        do {
            try await body(federation)
        } catch {
            await federation.stop()
            throw error
        }
        await federation.stop()
    }

    /// Shuts `agent` down with the federation (one a test made itself, e.g. a restarted agent on the same files).
    public func adopt(_ agent: NodeAgent) {
        agents.withLock { agents in if !agents.contains(where: { $0 === agent }) { agents.append(agent) } }
    }

    /// Stops a child process (a second hub, a node agent run as a command) with the federation, first.
    public func adopt(_ process: BackgroundProcess) {
        processes.withLock { processes in if !processes.contains(where: { $0 === process }) { processes.append(process) } }
    }

    /// Stops `server` with the federation, before the agents and the hub.
    public func adopt(_ server: RunningServer) {
        servers.withLock { servers in if !servers.contains(where: { $0 === server }) { servers.append(server) } }
    }

    init(directory: TemporaryDirectory, hub: Hub, hubServer: RunningServer, logger: Logger) {
        self.directory = directory
        self.hub = hub
        self.hubServer = hubServer
        self.logger = logger
        hubPort = hubServer.port
    }

    /// Stops the hub's server (the data stays), as when the hub machine goes down.
    public func stopHub() async {
        guard hubRunning else { return }
        await hubServer.stop()
        hubRunning = false
    }

    /// Starts a new hub process-equivalent on the same data and the same port.
    /// The hub's HTTPS server on 127.0.0.1.
    static func serve(_ hub: Hub, port: Int, logger: Logger) async throws -> RunningServer {
        try await RunningServer.start(logger: logger) { onRunning in
            try HubServer.application(hub: hub, host: "127.0.0.1", port: port, logger: logger, onServerRunning: onRunning)
        }
    }

    public func startHub() async throws {
        guard !hubRunning else { return }
        let hub = try Hub(directory: self.hub.directory, logger: logger)
        let port = hubPort, logger = self.logger
        var lastError: (any Error)?
        // Up to 20 s: on a loaded machine the stopped listener can take seconds to go.
        for _ in 0..<200 {
            do {
                hubServer = try await Self.serve(hub, port: port, logger: logger)
                self.hub = hub
                hubRunning = true
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError ?? TestSupportError("hub did not restart")
    }

    /// Enrolls `park` through the real enrollment endpoint and returns its node agent (not yet serving).
    public func enroll(_ park: String, name: String? = nil) async throws -> NodeAgent {
        let id = try ParkID(park)
        let token = try hub.createEnrollmentToken(park: id, name: name ?? "Park \(park)")
        let nodeDirectory = NodeDirectory(directory.file("node-\(park)"))
        try await NodeEnrollment.enroll(directory: nodeDirectory, hubURL: hubURL, park: id, token: token, caFile: caFile)
        let agent = try NodeAgent(directory: nodeDirectory, refreshInterval: .seconds(3600), logger: logger)
        // Tests that expect online decisions must not fall back to offline because a loaded CI machine answered late.
        agent.gateHubTimeout.value = .seconds(20)
        agents.withLock { $0.append(agent) }
        return agent
    }

    /// Enrolls several parks, then gives each the trust list naming all of them and the product catalogue: the
    /// state in which gates of every park can verify every park's passes.
    public func enrollParks(_ parks: [String]) async throws -> [NodeAgent] {
        var agents: [NodeAgent] = []
        for park in parks { agents.append(try await enroll(park)) }
        for agent in agents {
            try await agent.refreshTrustList()
            try await agent.refreshProducts()
        }
        return agents
    }

    /// Starts a node agent's local API (HTTPS, the park's LAN certificate) on 127.0.0.1.
    /// A failure to bind (seen rarely on a loaded machine, as for the hub) is retried before it fails the test.
    public func serve(_ agent: NodeAgent) async throws -> RunningServer {
        let logger = self.logger
        for attempt in 1...3 {
            do {
                let server = try await RunningServer.start(logger: logger, caFile: agent.directory.lanCA) { onRunning in
                    try NodeServer.application(agent: agent, host: "127.0.0.1", port: 0, logger: logger, onServerRunning: onRunning)
                }
                adopt(server)
                return server
            } catch  where attempt < 3 {
                logger.warning("node server did not start, retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        throw TestSupportError("unreachable")
    }

    /// Runs `curl` against a node agent's local API as a device of the park would: HTTPS to 127.0.0.1, trusting the
    /// park's LAN CA, with the device's bearer token when given.
    public static func nodeCurl(
        _ server: RunningServer, _ path: String, token: String? = nil, method: String = "GET",
        body: String? = nil, extra: [String] = []
    ) async throws -> CurlResult {
        var arguments = ["-sS", "--max-time", "10", "-X", method, "-w", "\n%{http_code} %{http_version}"] + server.curlTrust
        if let token { arguments += ["-H", "authorization: Bearer \(token)"] }
        if body != nil { arguments += ["-H", "content-type: application/json", "--data-binary", "@-"] }
        arguments += extra
        arguments.append(server.baseURL + path)
        return CurlResult(try await ExternalTool.run("curl", arguments, input: body.map { Data($0.utf8) }))
    }

    /// Makes a P-256 key and a certificate for `principal` signed by the federation CA and recorded by the hub;
    /// writes `NAME-cert.pem` and `NAME-key.pem` into the test directory and returns their paths.
    public func issueCertificate(
        for principal: Principal, name: String, validity: TimeInterval? = nil, notValidBefore: Date? = nil, now: Date = Date()
    ) throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let (_, pem) = try hub.issueCertificate(for: principal, publicKey: .init(key.publicKey), now: now, validity: validity, notValidBefore: notValidBefore)
        let certificatePath = directory.file("\(name)-cert.pem"), keyPath = directory.file("\(name)-key.pem")
        try SecretFile.writePublic(pem, to: certificatePath)
        try SecretFile.write(key.pemRepresentation, to: keyPath)
        return (certificatePath, keyPath)
    }

    /// Runs `curl` against the hub with the given client certificate; returns status code and body.
    public func curl(
        _ path: String, certificate: (certificate: String, key: String)? = nil, method: String = "GET",
        body: String? = nil, http2: Bool = true, extra: [String] = []
    ) async throws -> CurlResult {
        var arguments = ["-sS", "--max-time", "10", "--cacert", caFile, "-X", method, "-w", "\n%{http_code} %{http_version}"]
        arguments.append(http2 ? "--http2" : "--http1.1")
        if let certificate { arguments += ["--cert", certificate.certificate, "--key", certificate.key] }
        if let body { arguments += ["-H", "content-type: application/json", "--data-binary", "@-"] }
        arguments += extra
        arguments.append(hubURL + path)
        let result = try await ExternalTool.run("curl", arguments, input: body.map { Data($0.utf8) })
        return CurlResult(result)
    }

    /// Runs SQL on the hub's database with the database's own command-line tool (`sqlite3` on the file, `psql` on a
    /// PostgreSQL store), as an insider with access to the database would.
    public func sqlTool(_ sql: String) async throws -> ExternalTool.Result {
        if let store = hub.configuration.store {
            return try await ExternalTool.run("psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", store, "-c", sql])
        }
        return try await ExternalTool.run("sqlite3", [hub.directory.database, sql])
    }

    /// Everything in the hub's database as SQL text (`sqlite3 .dump`, or `pg_dump` of a PostgreSQL store).
    public func databaseDump() async throws -> ExternalTool.Result {
        if let store = hub.configuration.store { return try await ExternalTool.run("pg_dump", ["--no-owner", store]) }
        return try await ExternalTool.run("sqlite3", [hub.directory.database, ".dump"])
    }

    /// What a request could have changed: the database dump without the signed checkpoints that the running hub adds
    /// by itself every minute (``databaseDump()`` otherwise), as lines, for before-and-after comparisons.
    public func stateDump() async throws -> [Substring] {
        let dump: String
        if let store = hub.configuration.store {
            dump = try await ExternalTool.run("pg_dump", ["--no-owner", "--exclude-table-data=checkpoints", store]).stdout
        } else {
            dump = try await ExternalTool.run("sqlite3", [hub.directory.database, ".dump"]).stdout
        }
        // pg_dump 15.14+ brackets its output with \restrict / \unrestrict and a random key per run.
        return dump.split(separator: "\n").filter { !$0.contains("checkpoints") && !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }
    }

    /// Whether the hub's store is PostgreSQL.
    public var usesPostgres: Bool { hub.configuration.store != nil }

    public func stop() async {
        for process in processes.value { await process.stop() }
        for server in servers.value { await server.stop() }
        for agent in agents.value { await agent.shutdown() }
        await stopHub()
        if let store = hub.configuration.store { TestStore.dropDatabase(store) }
        directory.remove()
    }
}

/// What `curl` got: exit status, HTTP status, HTTP version and body.
public struct CurlResult: Sendable {
    public var exitStatus: Int32
    public var httpStatus: Int
    public var httpVersion: String
    public var body: String
    public var stderr: String

    init(_ result: ExternalTool.Result) {
        exitStatus = result.status
        stderr = result.stderr
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let trailer = lines.last.map(String.init) ?? ""
        let parts = trailer.split(separator: " ")
        httpStatus = parts.first.flatMap { Int($0) } ?? 0
        httpVersion = parts.count > 1 ? String(parts[1]) : ""
        body = lines.dropLast().joined(separator: "\n")
        if httpStatus == 0, ProcessInfo.processInfo.environment["PARKFED_DEBUG_CURL"] != nil {
            FileHandle.standardError.write(Data("CURLFAIL \(result.status): \(result.stderr)\n".utf8))
        }
    }

    /// The body as a JSON object.
    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }
}
