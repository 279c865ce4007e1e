import Crypto
import Foundation
import NIOConcurrencyHelpers
import Hummingbird
import ParkFedHTTP
import HummingbirdCore
import Logging
import NIOCore
import ParkFedCrypto
import ParkFedDomain
import ParkFedPKI
import ParkFedProtocol
import ParkFedStore
import ServiceLifecycle
import X509

/// A park's node agent: holds the park's certificate and keys, keeps a pooled mutual-TLS connection to the hub,
/// caches the trust list, renews its certificate after two thirds of its lifetime, and serves the park's local
/// API (gates, windows) on the park network.
public final class NodeAgent: Sendable {
    public let directory: NodeDirectory
    public let park: ParkID
    public let store: NodeStore
    public let trustList: TrustListCache
    public let signingKey: SigningKey
    let configuration: NIOLockedValueBox<NodeConfiguration>
    let client: NIOLockedValueBox<HubClient>
    let hubState = NIOLockedValueBox(HubContact())
    /// Wakes the outbox sender when a new assertion is recorded.
    let outboxWakeUp = WakeSignal()
    let logger: Logger
    /// Gate and sale counters for the metrics endpoint.
    let metrics: NodeMetrics
    /// The federation's combo pass products, from the hub.
    let products = NIOLockedValueBox<[String: ComboProduct]>([:])
    /// When the hub was last found unreachable by a gate call (gates then decide offline for a few seconds).
    let hubDownSince = NIOLockedValueBox<Date?>(nil)
    /// The hub's capacity levels as last read (``CapacityStatus``): shown to the park's operators, and the days
    /// whose sales stopped, which the node refuses to sell while it sells offline.
    let capacityLevels = NIOLockedValueBox<CapacityStatus?>(nil)
    /// The park's gate mode (normal, fast-check, evacuation), from the last logged change.
    let gateMode = NIOLockedValueBox(GateMode.normal)
    let gateModeCheckedAt = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
    /// How long a gate waits for the hub's decision before deciding offline (2 s: no visitor waits longer).
    public let gateHubTimeout = NIOLockedValueBox<TimeAmount>(.seconds(2))
    /// Local days and hours for validity and capacity.
    public let calendar: BusinessCalendar
    /// The park's secret for keyed digests of holders' ID numbers.
    let holderKey: Data
    /// How often the agent refreshes the trust list and checks its certificate.
    public let refreshInterval: Duration
    /// Each device's share of the park's hub budget: requests a second that make the node call the hub
    /// (`device_hub_calls_per_second` in node.json, 20 by default, twice that at once). A physical gate lane scans
    /// about one code a second; a stolen or runaway credential cannot starve the park's other gates.
    public let deviceHubBudget: RateLimiter
    /// The operator's hub-link check (`/v1/hub/whoami`): once a second for the whole node, bursts of 3.
    let probeLimiter = RateLimiter(perSecond: 1, burst: 3)

    struct HubContact: Sendable {
        var reachable: Bool?
        var lastContact: Date?
        var lastError: String?
    }

    public init(
        directory: NodeDirectory, hubURL: String? = nil, refreshInterval: Duration = .seconds(60),
        logger: Logger = Logger(label: "parkfed.node")
    ) async throws {
        self.directory = directory
        self.refreshInterval = refreshInterval
        var configuration = try NodeConfiguration.load(directory)
        if let hubURL { configuration.hubURL = hubURL }
        park = try ParkID(configuration.park)
        metrics = NodeMetrics(park: configuration.park)
        let share = configuration.deviceHubCallsPerSecond ?? 20
        deviceHubBudget = RateLimiter(perSecond: share, burst: Int(max(1, share * 2)))
        var logger = logger
        logger[metadataKey: "park"] = "\(configuration.park)"
        self.logger = logger
        self.configuration = NIOLockedValueBox(configuration)
        store = try NodeStore(path: directory.database)
        signingKey = try Ed25519PEM.parsePrivateKey(pem: try SecretFile.read(directory.signingKey))
        trustList = try await TrustListCache(store: store, hubKey: try VerifyingKey(base64URL: configuration.hubSigningKey))
        client = NIOLockedValueBox(
            try HubClient(
                baseURL: configuration.hubURL, caFile: directory.caCertificate,
                certificateFile: directory.tlsCertificate, keyFile: directory.tlsKey))
        calendar = try BusinessCalendar(timeZone: configuration.timeZone ?? "Asia/Shanghai")
        if !FileManager.default.fileExists(atPath: directory.holderKey) {
            try SecretFile.write(Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }), to: directory.holderKey)
        }
        guard let key = FileManager.default.contents(atPath: directory.holderKey), key.count == 32 else {
            throw NodeError(.invalidConfiguration, "\(directory.holderKey) must hold a 32-byte key")
        }
        holderKey = key
        await loadKeptProducts()
        if let last = try await store.modeChanges(limit: 1).first, let mode = GateMode(rawValue: last.mode) { gateMode.withLockedValue { $0 = mode } }
    }

    public var hub: HubClient { client.withLockedValue({ $0 }) }

    public func shutdown() async {
        await client.withLockedValue({ $0 }).shutdown()
    }

    // MARK: Hub calls

    /// Asks the hub who this connection is; proves the mutual-TLS link works.
    public func whoami() async throws(NodeError) -> WhoAmIResponse {
        try await tracked { (hub: HubClient) async throws(NodeError) in try await hub.whoami() }
    }

    /// Refreshes the trust list from the hub (conditional GET).
    public func refreshTrustList() async throws(NodeError) {
        try await tracked { (hub: HubClient) async throws(NodeError) in try await self.trustList.refresh(from: hub) }
    }

    func tracked<T>(_ call: (HubClient) async throws(NodeError) -> T) async throws(NodeError) -> T {
        do {
            let value = try await call(client.withLockedValue({ $0 }))
            hubState.withLockedValue { $0 = HubContact(reachable: true, lastContact: Date(), lastError: nil) }
            hubDownSince.withLockedValue { $0 = nil }
            return value
        } catch {
            var state = hubState.withLockedValue({ $0 })
            if error.code == .hubUnreachable { state.reachable = false } else { state.lastContact = Date() }
            state.lastError = error.message
            hubState.withLockedValue { $0 = state }
            throw error
        }
    }

    // MARK: Renewal

    /// Renews the certificate now: new key, CSR under the current certificate, files replaced, client rebuilt.
    public func renewCertificate() async throws {
        let key = P256.Signing.PrivateKey()
        let csr = try SigningRequest.make(for: .park(park), key: key)
        let response = try await tracked { hub async throws(NodeError) in
            try await hub.json(.POST, "/v1/certificates/renewals", body: RenewalRequest(csr: csr), as: CertificateResponse.self)
        }
        let chain = try Certificate.parseChain(pem: response.certificateChain)
        guard chain[0].federationPrincipal == .park(park), chain[0].publicKey == .init(key.publicKey) else {
            throw NodeError(.badResponse, "the renewed certificate is not for \(park) and the new key")
        }
        // Write both new files beside the old ones, then move them into place.
        try SecretFile.write(key.pemRepresentation, to: directory.tlsKey + ".next")
        try SecretFile.writePublic(response.certificateChain, to: directory.tlsCertificate + ".next")
        guard rename(directory.tlsKey + ".next", directory.tlsKey) == 0,
            rename(directory.tlsCertificate + ".next", directory.tlsCertificate) == 0
        else { throw NodeError(.invalidConfiguration, "cannot install the renewed certificate in \(directory.path)") }
        var configuration = self.configuration.withLockedValue({ $0 })
        configuration.certificateSerial = response.serial
        configuration.certificateNotBefore = response.notBefore
        configuration.certificateNotAfter = response.notAfter
        try configuration.save(directory)
        self.configuration.withLockedValue { $0 = configuration }
        let old = client.withLockedValue({ $0 })
        let renewed = try HubClient(
            baseURL: configuration.hubURL, caFile: directory.caCertificate,
            certificateFile: directory.tlsCertificate, keyFile: directory.tlsKey)
        client.withLockedValue { $0 = renewed }
        await old.shutdown()
        logger.notice("certificate renewed", metadata: ["serial": "\(response.serial)", "not_after": "\(response.notAfter)"])
    }

    /// One round of upkeep: refresh the trust list, renew the certificate when two thirds of it have passed.
    public func maintain(now: Date = Date()) async {
        do { try await refreshTrustList() } catch {
            logger.warning("trust list refresh failed", metadata: ["error": "\(error)"])
        }
        do {
            try await refreshProducts()
            try await refreshRevocations()
            try await refreshCapacity()
        } catch {
            logger.warning("pass catalogue or revocation refresh failed", metadata: ["error": "\(error)"])
        }
        await resolveReservations(now: now)
        if now >= configuration.withLockedValue({ $0 }).renewalDue {
            do { try await renewCertificate() } catch {
                logger.warning("certificate renewal failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Status

    public struct Status: Codable, Sendable {
        public struct Hub: Codable, Sendable {
            public var url: String
            public var reachable: Bool?
            public var lastContact: Date?
            public var lastError: String?
            enum CodingKeys: String, CodingKey {
                case url, reachable
                case lastContact = "last_contact"
                case lastError = "last_error"
            }
        }
        public struct CertificateInfo: Codable, Sendable {
            public var serial: String
            public var notAfter: Date
            public var renewalDue: Date
            enum CodingKeys: String, CodingKey {
                case serial
                case notAfter = "not_after"
                case renewalDue = "renewal_due"
            }
        }
        public struct Outbox: Codable, Sendable {
            public var pending: Int
            public var accepted: Int
            public var rejected: Int
            /// Accepted assertions whose inclusion in the signed log this node has verified.
            public var verified: Int
            /// The size of the last signed checkpoint this node checked.
            public var checkpointSize: UInt64?
            enum CodingKeys: String, CodingKey {
                case pending, accepted, rejected, verified
                case checkpointSize = "checkpoint_size"
            }
        }
        public var park: String
        public var signingKid: String
        public var hub: Hub
        public var trustList: TrustListStatus
        public var certificate: CertificateInfo
        public var outbox: Outbox
        /// The latest alarms (newest first): rejected assertions, failed log checks.
        public var alarms: [NodeStore.Alarm]
        public var alarmCount: Int
        /// The gate mode and its latest changes (who, why, when).
        public var mode: GateMode
        public var modeChanges: [NodeStore.ModeChange]
        /// People inside now and the park's levels against its capacities (warnings from the share the hub set).
        public var capacity: CapacityNow
        enum CodingKeys: String, CodingKey {
            case park, hub, certificate, outbox, alarms, mode, capacity
            case modeChanges = "mode_changes"
            case signingKid = "signing_kid"
            case trustList = "trust_list"
            case alarmCount = "alarm_count"
        }
    }

    public func status(now: Date = Date()) async -> Status {
        let configuration = self.configuration.withLockedValue({ $0 })
        let contact = hubState.withLockedValue({ $0 })
        let counts = await (try? store.outboxCounts()) ?? [:]
        let outbox = await Status.Outbox(
            pending: counts["pending"] ?? 0, accepted: counts["accepted"] ?? 0, rejected: counts["rejected"] ?? 0,
            verified: counts["verified"] ?? 0, checkpointSize: ((try? store.meta("log_checkpoint_size")) ?? nil).flatMap { UInt64($0) })
        return await Status(
            park: park.rawValue, signingKid: configuration.signingKid,
            hub: .init(url: configuration.hubURL, reachable: contact.reachable, lastContact: contact.lastContact, lastError: contact.lastError),
            trustList: trustList.status(now: now),
            certificate: .init(serial: configuration.certificateSerial, notAfter: configuration.certificateNotAfter, renewalDue: configuration.renewalDue),
            outbox: outbox, alarms: (try? store.alarms(limit: 10)) ?? [], alarmCount: (try? store.alarmCount()) ?? 0,
            mode: currentMode(), modeChanges: (try? store.modeChanges(limit: 5)) ?? [], capacity: await capacityNow(now: now))
    }
}

/// Delivers the outbox as soon as something is recorded, retrying with exponential backoff (0.25 s to 30 s)
/// while the hub is unreachable, and audits the hub's log after each delivery.
public struct OutboxService: Service {
    let agent: NodeAgent

    public init(agent: NodeAgent) { self.agent = agent }

    public func run() async throws {
        var backoff = Duration.milliseconds(250)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var wait = Duration.seconds(5)
            do {
                let delivered = try await agent.deliverOutbox()
                if delivered > 0 { _ = try await agent.auditLog() }
                backoff = .milliseconds(250)
            } catch {
                agent.logger.warning("outbox delivery failed; retrying", metadata: ["error": "\(error)", "in": "\(backoff)"])
                wait = backoff
                backoff = min(backoff * 2, .seconds(30))
            }
            // Sleep until the wait is over, something new is recorded, or the service shuts down.
            let signal = agent.outboxWakeUp
            await withGracefulShutdownHandler {
                await signal.wait(timeout: wait)
            } onGracefulShutdown: {
                signal.signal()
            }
        }
    }
}

/// A one-slot wake-up: `signal()` wakes the waiter, or the next `wait` if nobody waits yet.
final class WakeSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?

    func signal() {
        let toResume: CheckedContinuation<Void, Never>? = lock.withLock {
            if let waiter {
                self.waiter = nil
                return waiter
            }
            pending = true
            return nil
        }
        toResume?.resume()
    }

    func wait(timeout: Duration) async {
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self?.signal() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow: Bool = lock.withLock {
                if pending {
                    pending = false
                    return true
                }
                waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        timer.cancel()
    }
}

/// The background upkeep loop as a service: stops at graceful shutdown.
public struct NodeMaintenanceService: Service {
    let agent: NodeAgent

    public init(agent: NodeAgent) { self.agent = agent }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await agent.maintain()
            let interval = agent.refreshInterval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
