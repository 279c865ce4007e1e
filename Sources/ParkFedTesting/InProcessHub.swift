import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedLab
import ParkFedPKI
import ParkFedProtocol

/// A hub without a server, for tests of the hub's rules: the same ``Hub`` the routes call, on the store the test run
/// chose (``TestStore``), with the example federation imported. Parks enroll in process (a token and a CSR, as over
/// the network, without the TLS) and act through the principal their certificate names. Tests about the network
/// (TLS, HTTP, outside peers) run a ``TestFederation``; tests about a rule run here, in milliseconds.
public final class InProcessHub: Sendable {
    public let hub: Hub
    public let directory: TemporaryDirectory

    /// A park enrolled in process: the peer its certificate makes and the key it signs assertions with.
    public struct Park: Sendable {
        public let id: ParkID
        public let peer: AuthenticatedPeer
        public let signingKey: SigningKey

        public init(id: ParkID, peer: AuthenticatedPeer, signingKey: SigningKey) {
            self.id = id
            self.peer = peer
            self.signingKey = signingKey
        }

        /// Signs `data` as this park's assertion (JWS compact).
        public func sign(_ data: AssertionData, now: Date = Date()) throws -> String {
            try Assertions.sign(data, park: id, key: signingKey, now: now).1.compact
        }
    }

    init(hub: Hub, directory: TemporaryDirectory) {
        self.hub = hub
        self.directory = directory
    }

    /// Runs `body` with a new hub and `parks` enrolled, and closes the hub (and drops its test database, removes its
    /// directory) afterwards, whatever `body` does.
    public static func run(
        parks: [String] = [], configuration: HubConfiguration = HubConfiguration(federation: "Rule Federation"),
        _ body: (InProcessHub, [Park]) async throws -> Void
    ) async throws {
        var configuration = configuration
        let made = configuration.store == nil ? try await TestStore.newDatabase() : nil
        if let made { configuration.store = made }
        let directory = try TemporaryDirectory()
        let outcome: Result<Void, any Error>
        do {
            let hub = try await LabFederation.makeHub(
                in: directory, configuration: configuration, partners: PartnerDirectory.checkout, logger: LabFederation.labLogger)
            let rules = InProcessHub(hub: hub, directory: directory)
            do {
                var enrolled: [Park] = []
                for park in parks { enrolled.append(try await rules.enroll(park)) }
                try await body(rules, enrolled)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await hub.close()
        } catch {
            outcome = .failure(error)
        }
        if let made { await TestStore.dropDatabase(made) }
        directory.remove()
        try outcome.get()
    }

    /// Enrolls `park` (a park of the example federation or any park id) with a one-time token and a CSR.
    public func enroll(_ park: String) async throws -> Park {
        let id = try ParkID(park)
        let token = try await hub.createEnrollmentToken(park: id, name: "Park \(park)")
        let signingKey = SigningKey()
        let csr = try SigningRequest.make(for: .park(id), key: P256.Signing.PrivateKey())
        let response = try await hub.enroll(EnrollmentRequest(token: token, csr: csr, signingKey: signingKey.publicKey.base64URL, park: park))
        return Park(id: id, peer: AuthenticatedPeer(principal: .park(id), serial: response.serial, notAfter: response.notAfter), signingKey: signingKey)
    }

    /// A principal that needs no key of its own in these tests (a regulator, clearing staff).
    public func peer(_ principal: Principal) -> AuthenticatedPeer {
        AuthenticatedPeer(principal: principal, serial: "in-process", notAfter: .distantFuture)
    }

    /// The hub's database as SQL lines, for "nothing was written" checks (``TestFederation/stateDump()``).
    public func stateDump() async throws -> [Substring] { try await TestFederation.stateDump(of: hub) }
}
