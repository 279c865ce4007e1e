import Crypto
import Foundation
import NIOConcurrencyHelpers
import Logging
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedPKI
import ParkFedProtocol
import X509

/// A whole federation in one process, for the demo, the benchmarks, the simulator and the tests: a hub initialised in a temporary directory and serving real mutual TLS on
/// 127.0.0.1, and helpers to enroll parks and start their node agents. Nothing is mocked.
public final class LabFederation: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public private(set) var hub: Hub
    public private(set) var hubServer: RunningServer
    public let logger: Logger
    /// The hub's port, kept across restarts so node agents find it again.
    public let hubPort: Int
    private var hubRunning = true
    /// Node agents made by ``enroll(_:name:)`` or handed to ``adopt(_:)-agent``, shut down by ``stop()``.
    private let agents = NIOLockedValueBox<[NodeAgent]>([])
    /// Servers started by ``serve(_:)`` or handed to ``adopt(_:)-server``, stopped first by ``stop()``.
    private let servers = NIOLockedValueBox<[RunningServer]>([])
    private let processes = NIOLockedValueBox<[BackgroundProcess]>([])

    public var hubURL: String { "https://127.0.0.1:\(hubPort)" }
    public var caFile: String { hub.directory.caCertificate }

    /// Actions run by ``stop()`` after the hub stops (a test's database to drop, say).
    private let cleanups = NIOLockedValueBox<[@Sendable () async -> Void]>([])

    /// Runs `action` when the federation stops, after its hub.
    public func onStop(_ action: @escaping @Sendable () async -> Void) { cleanups.withLockedValue { $0.append(action) } }

    /// The lab's logger: quiet unless `PARKFED_TEST_LOG` names a level.
    public static var labLogger: Logger {
        var logger = Logger(label: "parkfed.lab")
        logger.logLevel = ProcessInfo.processInfo.environment["PARKFED_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }

    /// A new hub in `directory/hub` (no server) with the example federation of `partners` imported: its promotions,
    /// products and parks.
    public static func makeHub(in directory: TemporaryDirectory, configuration: HubConfiguration, partners: String, logger: Logger) async throws -> Hub {
        ScratchDatabase.installDriver()
        let hubDirectory = try await HubDirectory.initialize(at: directory.file("hub"), configuration: configuration)
        let hub = try await Hub(directory: hubDirectory, logger: logger)
        _ = try await hub.importPromotions(file: partners + "/promotions.json")
        _ = try await hub.importProducts(file: partners + "/products.json")
        _ = try await hub.importParks(directory: partners)
        if FileManager.default.fileExists(atPath: partners + "/resellers.json") { _ = try await hub.importResellers(file: partners + "/resellers.json") }
        return hub
    }

    /// Starts a hub in a new temporary directory, on its SQLite file or the PostgreSQL database `configuration.store`
    /// names, with the example federation of `partners` (``PartnerDirectory``) imported, serving mutual TLS on
    /// 127.0.0.1.
    public static func launch(
        configuration: HubConfiguration = HubConfiguration(federation: "Lab Federation"), partners: String = PartnerDirectory.located
    ) async throws -> LabFederation {
        let logger = labLogger
        let directory = try TemporaryDirectory()
        let hub = try await makeHub(in: directory, configuration: configuration, partners: partners, logger: logger)
        // A listener on a fresh port; a failure to start (seen once on a machine loaded by two suites back to back)
        // is retried before it fails the test, with its reason.
        // The port is below the kernel's ephemeral range (32768+), so that while the hub is stopped for a restart no
        // outgoing connection of another test (pooled node clients live for minutes) can be given its port.
        let server = try await retrying("hub server", attempts: 10, every: .milliseconds(50), logger: logger) {
            try await serve(hub, port: Int.random(in: 20_000..<32_000), logger: logger)
        }
        return LabFederation(directory: directory, hub: hub, hubServer: server, logger: logger)
    }

    /// Runs `start` until it succeeds, at most `attempts` times, `every` apart; the last failure is thrown.
    /// For listeners that fail to start now and then on a loaded machine (a port not yet released).
    static func retrying<T>(_ what: String, attempts: Int, every delay: Duration, logger: Logger, _ start: () async throws -> T) async throws -> T {
        for attempt in 1... {
            do { return try await start() } catch  where attempt < attempts {
                logger.warning("\(what) did not start, retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                try await Task.sleep(for: delay)
            }
        }
        fatalError("unreachable")
    }

    /// Shuts `agent` down with the federation (one a test made itself, e.g. a restarted agent on the same files).
    public func adopt(_ agent: NodeAgent) {
        agents.withLockedValue { agents in if !agents.contains(where: { $0 === agent }) { agents.append(agent) } }
    }

    /// Stops a child process (a second hub, a node agent run as a command) with the federation, first.
    public func adopt(_ process: BackgroundProcess) {
        processes.withLockedValue { processes in if !processes.contains(where: { $0 === process }) { processes.append(process) } }
    }

    /// Stops `server` with the federation, before the agents and the hub.
    public func adopt(_ server: RunningServer) {
        servers.withLockedValue { servers in if !servers.contains(where: { $0 === server }) { servers.append(server) } }
    }

    init(directory: TemporaryDirectory, hub: Hub, hubServer: RunningServer, logger: Logger) {
        self.directory = directory
        self.hub = hub
        self.hubServer = hubServer
        self.logger = logger
        hubPort = hubServer.port
    }

    /// A no-op server on the hub's listener set-up (``HubServer/rawApplication(hub:host:port:logger:onServerRunning:)``):
    /// the raw mutual-TLS HTTP/2 request rate the benchmarks compare against. The caller stops it.
    public func serveRaw() async throws -> RunningServer {
        let hub = self.hub, logger = self.logger
        return try await RunningServer.start(logger: logger, caFile: hub.directory.caCertificate) { onRunning in
            try HubServer.rawApplication(hub: hub, host: "127.0.0.1", port: 0, logger: logger, onServerRunning: onRunning)
        }
    }

    /// A client of `server` as `agent` is of the hub: the park's certificate, the federation root, the same
    /// connection pool settings.
    public static func client(of server: RunningServer, as agent: NodeAgent) throws -> HubClient {
        try HubClient(
            baseURL: server.baseURL, caFile: agent.directory.caCertificate, certificateFile: agent.directory.tlsCertificate,
            keyFile: agent.directory.tlsKey)
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
        let hub = try await Hub(directory: self.hub.directory, logger: logger)
        let port = hubPort, logger = self.logger
        // Up to 20 s: on a loaded machine the stopped listener can take seconds to go.
        hubServer = try await Self.retrying("restarted hub server", attempts: 200, every: .milliseconds(100), logger: logger) {
            try await Self.serve(hub, port: port, logger: logger)
        }
        let old = self.hub
        self.hub = hub
        hubRunning = true
        await old.close()
    }

    /// Enrolls `park` through the real enrollment endpoint and returns its node agent (not yet serving).
    public func enroll(_ park: String, name: String? = nil) async throws -> NodeAgent {
        let id = try ParkID(park)
        let token = try await hub.createEnrollmentToken(park: id, name: name ?? "Park \(park)")
        let nodeDirectory = NodeDirectory(directory.file("node-\(park)"))
        try await NodeEnrollment.enroll(directory: nodeDirectory, hubURL: hubURL, park: id, token: token, caFile: caFile)
        let agent = try await NodeAgent(directory: nodeDirectory, refreshInterval: .seconds(3600), logger: logger)
        // Tests that expect online decisions must not fall back to offline because a loaded CI machine answered late.
        agent.gateHubTimeout.withLockedValue { $0 = .seconds(20) }
        agents.withLockedValue { $0.append(agent) }
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
        let server = try await Self.retrying("node server", attempts: 3, every: .milliseconds(200), logger: logger) {
            try await RunningServer.start(logger: logger, caFile: agent.directory.lanCA) { onRunning in
                try NodeServer.application(agent: agent, host: "127.0.0.1", port: 0, logger: logger, onServerRunning: onRunning)
            }
        }
        adopt(server)
        return server
    }

    /// Makes a P-256 key and a certificate for `principal` signed by the federation CA and recorded by the hub;
    /// writes `NAME-cert.pem` and `NAME-key.pem` into the test directory and returns their paths.
    public func issueCertificate(
        for principal: Principal, name: String, validity: TimeInterval? = nil, notValidBefore: Date? = nil, now: Date = Date()
    ) async throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let (_, pem) = try await hub.issueCertificate(
            for: principal, publicKey: .init(key.publicKey), now: now, validity: validity, notValidBefore: notValidBefore)
        let certificatePath = directory.file("\(name)-cert.pem"), keyPath = directory.file("\(name)-key.pem")
        try SecretFile.writePublic(pem, to: certificatePath)
        try SecretFile.write(key.pemRepresentation, to: keyPath)
        return (certificatePath, keyPath)
    }

    /// Whether the hub's store is PostgreSQL.
    public var usesPostgres: Bool { hub.configuration.store != nil }

    public func stop() async {
        for process in processes.withLockedValue({ $0 }) { await process.stop() }
        for server in servers.withLockedValue({ $0 }) { await server.stop() }
        for agent in agents.withLockedValue({ $0 }) { await agent.shutdown() }
        await stopHub()
        await hub.close()
        for action in cleanups.withLockedValue({ $0 }) { await action() }
        // Removing files blocks its thread: done on a thread of its own, never on Swift's cooperative pool (two
        // threads on a 2-core machine, which every server in the process needs).
        let directory = self.directory
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                directory.remove()
                done.resume()
            }.start()
        }
    }
}
