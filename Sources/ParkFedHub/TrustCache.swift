import Foundation
import ParkFedDomain
import ParkFedPKI
import ParkFedStore
import Synchronization
import X509

/// What the hub derives from certificates and signing keys, kept while the trust epoch it was read at is current
/// (``HubStore/trustEpoch()``): a client certificate is parsed once (keyed by its DER bytes, so once per park and
/// certificate, not once per request), its standing (known, revoked, park revoked) and the signing keys are read
/// once per epoch. Every change to those tables moves the epoch (database triggers, any process), so a revoked
/// certificate or key is refused on its next request.
final class TrustCache: Sendable {
    /// A client certificate as the hub needs it.
    struct Parsed: Sendable {
        var principal: Principal?
        var serial: String
        var notBefore: Date
        var notAfter: Date
    }

    private struct Derived {
        var epoch: Int64 = -1
        var standings: [String: CertificateStanding] = [:]
        var keys: [String: AssertionLog.KeyInfo]?
    }

    /// Parsed certificates are bounded (a federation has thousands of certificates, not millions): beyond this the
    /// map starts again.
    static let maximumCertificates = 10_000
    private let parsed = Mutex<[Data: Parsed]>([:])
    private let derived = Mutex(Derived())

    func parse(_ der: [UInt8]) throws -> Parsed {
        let key = Data(der)
        if let found = parsed.withLock({ $0[key] }) { return found }
        let certificate = try Certificate(derEncoded: der)
        let made = Parsed(
            principal: certificate.federationPrincipal, serial: certificate.serialHex, notBefore: certificate.notValidBefore,
            notAfter: certificate.notValidAfter)
        parsed.withLock { map in
            if map.count >= Self.maximumCertificates { map.removeAll(keepingCapacity: true) }
            map[key] = made
        }
        return made
    }

    /// The standing of `serial` at `epoch`, read with `fetch` when it is not known at that epoch.
    func standing(_ serial: String, epoch: Int64, fetch: () async throws -> CertificateStanding) async throws -> CertificateStanding {
        if let found = derived.withLock({ $0.epoch == epoch ? $0.standings[serial] : nil }) { return found }
        let standing = try await fetch()
        remember(epoch) { $0.standings[serial] = standing }
        return standing
    }

    /// The signing keys at `epoch`, read with `fetch` when they are not known at that epoch.
    func keys(epoch: Int64, fetch: () async throws -> [String: AssertionLog.KeyInfo]) async throws -> [String: AssertionLog.KeyInfo] {
        if let found = derived.withLock({ $0.epoch == epoch ? $0.keys : nil }) { return found }
        let keys = try await fetch()
        remember(epoch) { $0.keys = keys }
        return keys
    }

    /// Keeps something read at `epoch`: a newer epoch forgets everything older; an older read is dropped.
    private func remember(_ epoch: Int64, _ change: (inout Derived) -> Void) {
        derived.withLock { state in
            if epoch > state.epoch { state = Derived(epoch: epoch) }
            if epoch == state.epoch { change(&state) }
        }
    }
}
