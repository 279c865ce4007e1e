import Crypto
import Foundation
import Logging
import ParkFedCrypto
import ParkFedDomain
import ParkFedPKI
import ParkFedHTTP
import ParkFedProtocol
import ParkFedStore
import X509

/// A loaded hub: its configuration, CA, keys and store. The HTTP server and the `parkfed hub` commands both work
/// through this type, so every rule is enforced in one place.
public final class Hub: Sendable {
    public let directory: HubDirectory
    public let configuration: HubConfiguration
    public let ca: FederationCA
    public let signingKey: SigningKey
    public let store: HubStore
    public let metrics = HubMetrics()
    /// Parsed client certificates, their standing and the signing keys, per trust epoch.
    let trust = TrustCache()
    /// The verifiable log of accepted assertions.
    public let log: AssertionLog
    /// The capacity watch after appends, one pass for every append waiting (the park-days each touched, its time).
    let capacityPasses = SharedPass<(touched: Set<String>, now: Date), Void>()
    /// The trust epoch each request checks, one read for every request waiting.
    let epochReads = SharedPass<Void, Result<Int64, any Error>>()
    /// Combo pass products and the effect of pass assertions on pass state.
    public let passes: PassRules
    /// Keys for real-name data (sealing, encryption at rest, blind index), outside the database.
    public let secrets: HubSecrets
    /// The federation's card-issuer master key (derived once from the field key ring; it never leaves the hub):
    /// every card's key is diversified from it (`CardCryptogram.cardKey`).
    let cardIssuerKey: SymmetricKey
    /// Per-principal request limits (`rate_limit_per_second`, `rate_limit_burst`).
    public let rateLimiter: RateLimiter
    /// Enrollment attempts per source address (`enrollments_per_minute`, `enrollment_burst`).
    public let enrollmentLimiter: RateLimiter
    /// Visitor pages, per source address: 2 a second, bursts of 30.
    public let visitorLimiter = RateLimiter(perSecond: 2, burst: 30)
    /// Where the shop's codes and e-tickets go (e-mail over SMTP, SMS through a provider).
    public let messages: VisitorMessaging
    /// The shop's payment providers.
    public let payments: ShopPayments
    let logger: Logger

    public init(directory: HubDirectory, logger: Logger = Logger(label: "parkfed.hub")) async throws {
        self.directory = directory
        self.logger = logger
        configuration = try HubConfiguration.load(path: directory.configuration)
        messages = VisitorMessaging(
            email: configuration.mailer, sms: RecordingSMS(file: (directory.path as NSString).appendingPathComponent("sms-outbox.jsonl")))
        var providers: [any PaymentProvider] = configuration.paymentProviders.contains("test") ? [TestPaymentProvider()] : []
        if let settings = configuration.wechatpay {
            do { providers.append(try WeChatPayV3(settings: settings, directory: directory.path)) } catch {
                throw HubError(.invalidConfiguration, "wechatpay: \(error)")
            }
        }
        payments = ShopPayments(providers)
        rateLimiter = RateLimiter(perSecond: configuration.rateLimitPerSecond, burst: configuration.rateLimitBurst)
        enrollmentLimiter = RateLimiter(perSecond: configuration.enrollmentsPerMinute / 60, burst: configuration.enrollmentBurst)
        ca = try FederationCA.load(
            certificatePEM: try SecretFile.read(directory.caCertificate), keyPEM: try SecretFile.read(directory.caKey))
        signingKey = try Ed25519PEM.parsePrivateKey(pem: try SecretFile.read(directory.signingKey))
        secrets = try HubSecrets.loadOrCreate(directory)
        cardIssuerKey = secrets.fields.derivedKey("card-issuer-master-v1")
        let calendar = try BusinessCalendar(timeZone: configuration.timeZone)
        store = try await HubStore(
            database: HubDatabase.open(configuration.store, sqliteFile: directory.database, logger: logger),
            businessDay: { calendar.day(of: $0) }, feeBasisPoints: Int64(configuration.settlementFeeBasisPoints))
        passes = try await PassRules(store: store, calendar: calendar, secrets: secrets)
        log = try await AssertionLog(
            store: store, signingKey: signingKey, origin: AssertionLog.origin(federation: configuration.federation),
            rules: passes, metrics: metrics, trust: trust, logger: logger)
        log.observer.withLock {
            $0 = AppendObserver { [weak self] candidates, now in
                guard let self else { return }
                let touched = self.capacityTouched(by: candidates)
                guard !touched.isEmpty else { return }
                await self.capacityPasses.run((touched, now)) { [weak self] requests in
                    await self?.watchCapacity(requests.reduce(into: []) { $0.formUnion($1.touched) }, now: requests.map(\.now).max() ?? now)
                }
            }
        }
    }

    /// Closes the hub's store (its database threads or connections). The hub cannot serve after this.
    public func close() async { await store.close() }

    /// Ingests a batch of assertions sent by `peer` (a park speaks only for itself).
    public func ingest(_ request: IngestRequest, from peer: AuthenticatedPeer, now: Date = Date()) async throws -> IngestResponse {
        guard case .park = peer.principal else {
            throw Refusal(.forbidden, code: "forbidden_for_principal", title: "Only parks submit assertions")
        }
        guard !request.assertions.isEmpty, request.assertions.count <= IngestRequest.maximumBatch else {
            throw Refusal(
                .invalid, code: "invalid_batch", title: "Invalid batch",
                detail: "a batch holds 1 to \(IngestRequest.maximumBatch) assertions")
        }
        let response = try await log.ingest(
            request.assertions, from: peer.principal, trustEpoch: peer.trustEpoch, now: now,
            skew: TimeInterval(configuration.assertionSkewSeconds),
            maxDelay: TimeInterval(configuration.assertionMaxDelaySeconds))
        metrics.ingested(response.results)
        return response
    }

    // MARK: Enrollment tokens

    /// Makes a one-time enrollment token for `park`. Only its SHA-256 is stored; the token is returned once. With
    /// `readmit`, the token re-admits a revoked park (new certificate and signing key; the old ones stay revoked).
    public func createEnrollmentToken(park: ParkID, name: String, now: Date = Date(), validity: TimeInterval? = nil, readmit: Bool = false) async throws
        -> String
    {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if passes.isReseller(park) {
            throw Refusal(.conflict, code: "reseller_id", title: "A reseller's id", detail: "\(park) is a reseller's settlement id; a park needs its own")
        }
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw Refusal(.invalid, code: "invalid_name", title: "Invalid park name", detail: "a park name is 1-200 characters")
        }
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let token = "pfe_" + Base64URL.encode(bytes)
        let lifetime = validity ?? TimeInterval(configuration.enrollmentTokenHours * 3600)
        try await store.addEnrollmentToken(
            hash: Self.tokenHash(token), park: park, name: trimmed, now: now, expiresAt: now.addingTimeInterval(lifetime),
            readmit: readmit)
        logger.info("enrollment token created", metadata: ["park": "\(park)", "readmit": "\(readmit)"])
        return token
    }

    static func tokenHash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }

    // MARK: Enrollment

    /// Enrolls a park: checks the token and the CSR, issues the certificate bound to the token's park, registers
    /// the park's signing key. Every refusal is a ``Refusal`` and changes nothing.
    public func enroll(_ request: EnrollmentRequest, now: Date = Date()) async throws(Refusal) -> CertificateResponse {
        let csr: SigningRequest
        do { csr = try Self.signingRequest(request.csr) } catch {
            metrics.enrollment(outcome: error.code)
            throw error
        }
        let signingKey: VerifyingKey
        do { signingKey = try VerifyingKey(base64URL: request.signingKey) } catch {
            metrics.enrollment(outcome: "invalid_signing_key")
            throw Refusal(
                .invalid, code: "invalid_signing_key", title: "Invalid signing key",
                detail: "signing_key must be a raw 32-byte Ed25519 public key in base64url")
        }
        var requested = csr.namedParkIDs
        if let park = request.park {
            guard ParkID.isValid(park) else {
                throw Refusal(.invalid, code: "invalid_park_id", title: "Invalid park id", detail: "park \(park.debugDescription) is not a park id")
            }
            requested.insert(park)
        }
        let ca = self.ca
        let validity = TimeInterval(configuration.parkCertificateDays * 86_400)
        let csrKey = csr.publicKey
        let result: (park: ParkRecord, certificate: IssuedCertificateRecord)
        do {
            result = try await store.enroll(
                tokenHash: Self.tokenHash(request.token), requestedParks: requested,
                signingKey: (signingKey.thumbprint, signingKey.base64URL), now: now
            ) { park, name in
                let certificate = try ca.issueClientCertificate(for: .park(park), displayName: name, publicKey: csrKey, now: now, validity: validity)
                return try Self.record(certificate, principal: .park(park), now: now)
            }
        } catch let error as StoreError {
            metrics.enrollment(outcome: error.code.rawValue)
            logger.notice("enrollment refused", metadata: ["code": "\(error.code)"])
            throw Self.problem(error)
        } catch {
            logger.error("enrollment failed", metadata: ["error": "\(error)"])
            throw Refusal(.failed, code: "internal_error", title: "Enrollment failed", detail: "the hub could not complete the enrollment")
        }
        metrics.enrollment(outcome: "accepted")
        logger.info("park enrolled", metadata: ["park": "\(result.park.id)", "serial": "\(result.certificate.serial)"])
        return certificateResponse(result.certificate, signingKid: signingKey.thumbprint)
    }

    /// Renews the certificate of an authenticated peer: same principal, new key from the CSR, fresh lifetime.
    public func renew(peer: AuthenticatedPeer, request: RenewalRequest, now: Date = Date()) async throws(Refusal) -> CertificateResponse {
        let csr = try Self.signingRequest(request.csr)
        if case .park(let park) = peer.principal, let other = csr.namedParkIDs.first(where: { $0 != park.rawValue }) {
            throw Refusal(
                .forbidden, code: "csr_names_other_principal", title: "CSR names another park",
                detail: "a park can only renew its own certificate, not \(other)'s")
        }
        let ca = self.ca
        let principal = peer.principal
        let days = principal.role == .park ? configuration.parkCertificateDays : configuration.staffCertificateDays
        let csrKey = csr.publicKey
        let record: IssuedCertificateRecord
        do {
            record = try await store.renew(oldSerial: peer.serial) {
                let certificate = try ca.issueClientCertificate(for: principal, publicKey: csrKey, now: now, validity: TimeInterval(days * 86_400))
                return try Self.record(certificate, principal: principal, now: now)
            }
        } catch let error as StoreError {
            throw Self.problem(error)
        } catch {
            throw Refusal(.failed, code: "internal_error", title: "Renewal failed", detail: "the hub could not renew the certificate")
        }
        logger.info("certificate renewed", metadata: ["principal": "\(principal)", "serial": "\(record.serial)"])
        return certificateResponse(record, signingKid: nil)
    }

    /// Issues a certificate for a regulator or clearing principal (or a park, for tests and manual set-up)
    /// from a public key, and records it.
    public func issueCertificate(
        for principal: Principal, publicKey: Certificate.PublicKey, now: Date = Date(),
        validity: TimeInterval? = nil, notValidBefore: Date? = nil
    ) async throws -> (Certificate, String) {
        let days = principal.role == .park ? configuration.parkCertificateDays : configuration.staffCertificateDays
        let certificate = try ca.issueClientCertificate(
            for: principal, publicKey: publicKey, now: now, validity: validity ?? TimeInterval(days * 86_400), notValidBefore: notValidBefore)
        let record = try Self.record(certificate, principal: principal, now: now)
        try await store.recordCertificate(record)
        logger.info("certificate issued", metadata: ["principal": "\(principal)", "serial": "\(record.serial)"])
        return (certificate, record.pem)
    }

    /// Parses and checks a CSR; a refusal is a 400 problem named by the PKI's reason.
    static func signingRequest(_ pem: String) throws(Refusal) -> SigningRequest {
        do { return try SigningRequest(pem: pem) } catch {
            throw Refusal(.invalid, code: error.code.rawValue, title: "Unacceptable certificate signing request", detail: error.message)
        }
    }

    static func record(_ certificate: Certificate, principal: Principal, now: Date) throws -> IssuedCertificateRecord {
        IssuedCertificateRecord(
            serial: certificate.serialHex, principal: principal, notBefore: certificate.notValidBefore,
            notAfter: certificate.notValidAfter, pem: try certificate.pemString(), issuedAt: now)
    }

    func certificateResponse(_ record: IssuedCertificateRecord, signingKid: String?) -> CertificateResponse {
        let caPEM = (try? ca.certificate.pemString()) ?? ""
        return CertificateResponse(
            principal: record.principal.description, certificateChain: record.pem + caPEM, serial: record.serial,
            notBefore: record.notBefore, notAfter: record.notAfter, signingKid: signingKid,
            hubSigningKey: signingKey.publicKey.base64URL, hubSigningKid: signingKey.kid)
    }

    static func problem(_ error: StoreError) -> Refusal {
        switch error.code {
        case .tokenUnknown: Refusal(.unauthenticated, code: error.code.rawValue, title: "Unknown enrollment token", detail: error.message)
        case .tokenUsed: Refusal(.conflict, code: error.code.rawValue, title: "Enrollment token already used", detail: error.message)
        case .tokenExpired: Refusal(.unauthenticated, code: error.code.rawValue, title: "Enrollment token expired", detail: error.message)
        case .tokenForOtherPark: Refusal(.forbidden, code: error.code.rawValue, title: "Token is for another park", detail: error.message)
        case .keyInUse: Refusal(.conflict, code: error.code.rawValue, title: "Signing key already registered", detail: error.message)
        case .parkRevoked: Refusal(.forbidden, code: error.code.rawValue, title: "Park revoked", detail: error.message)
        case .notFound: Refusal(.notFound, code: error.code.rawValue, title: "Not found", detail: error.message)
        default: Refusal(.failed, code: error.code.rawValue, title: "Store error", detail: error.message)
        }
    }

    // MARK: Revocation

    /// Revokes a park at once: its certificates are refused on the next request, its keys leave the trust list.
    public func revoke(park: ParkID, now: Date = Date()) async throws -> Int {
        let count = try await store.revokePark(park, now: now)
        logger.notice("park revoked", metadata: ["park": "\(park)", "certificates": "\(count)"])
        return count
    }

    public func revoke(principal: Principal, now: Date = Date()) async throws -> Int {
        if case .park(let park) = principal { return try await revoke(park: park, now: now) }
        let count = try await store.revokeCertificates(of: principal, now: now)
        logger.notice("certificates revoked", metadata: ["principal": "\(principal)", "certificates": "\(count)"])
        return count
    }

    // MARK: Trust list

    /// The current signed trust list; a new one (next sequence) is signed only when parks or keys changed.
    public func currentTrustList(now: Date = Date()) async throws -> TrustListRecord {
        let parks = try await store.parks()
        let keys = await Dictionary(grouping: try store.signingKeys(), by: \.park)
        let entries = parks.map { park in
            TrustList.Park(
                park: park.id.rawValue, name: park.name, status: park.status.rawValue, kind: park.kind,
                keys: (keys[park.id] ?? []).map { key in
                    TrustList.Key(
                        kid: key.kid, publicKey: key.publicKey, notBefore: key.notBefore,
                        notAfter: key.revokedAt ?? key.notAfter, status: key.revokedAt == nil ? "active" : "revoked")
                })
        }
        let federation = configuration.federation
        let sealKey = secrets.holderSealPublicKey
        let content = try StrictJSON.encoder.encode(
            TrustList(
                federation: federation, sequence: 0, issuedAt: Date(timeIntervalSince1970: 0), parks: entries,
                holderSealKey: sealKey))
        let contentHash = Hex.encode(SHA256.hash(data: content))
        let key = signingKey
        let record = try await store.publishTrustList(contentHash: contentHash, now: now) { sequence in
            let list = TrustList(federation: federation, sequence: sequence, issuedAt: now, parks: entries, holderSealKey: sealKey)
            return try JWS.sign(payload: try StrictJSON.encoder.encode(list), kid: key.kid, type: TrustList.jwsType, with: key).compact
        }
        metrics.trustListSequence(record.sequence)
        return record
    }

    // MARK: Authentication

    /// Decides whether a verified client certificate may speak: the hub must have issued it, and neither it nor
    /// its park may be revoked or expired. TLS has already checked the chain to the federation root.
    public func authenticate(certificateDER: [UInt8], now: Date = Date()) async throws(Refusal) -> AuthenticatedPeer {
        do { return try await checkCertificate(certificateDER: certificateDER, now: now) } catch {
            metrics.authenticationRefused(code: error.code)
            logger.notice("client certificate refused", metadata: ["code": "\(error.code)"])
            throw error
        }
    }

    func checkCertificate(certificateDER: [UInt8], now: Date) async throws(Refusal) -> AuthenticatedPeer {
        let certificate: TrustCache.Parsed
        do { certificate = try trust.parse(certificateDER) } catch {
            throw Refusal(.unauthenticated, code: "bad_client_certificate", title: "Unreadable client certificate")
        }
        guard let principal = certificate.principal else {
            throw Refusal(.forbidden, code: "no_principal", title: "Certificate names no federation principal")
        }
        guard certificate.notAfter > now, certificate.notBefore <= now else {
            throw Refusal(.unauthenticated, code: "certificate_expired", title: "Client certificate expired or not yet valid")
        }
        let standing: CertificateStanding, epoch: Int64
        do {
            let store = self.store
            epoch = try await epochReads.run(()) { _ in
                do { return .success(try await store.trustEpoch()) } catch { return .failure(error) }
            }.get()
            standing = try await trust.standing(certificate.serial, epoch: epoch) { try await store.standing(ofSerial: certificate.serial) }
        } catch {
            throw Refusal(.unavailable, code: "store_unavailable", title: "The hub cannot check certificates right now")
        }
        guard standing.known else {
            throw Refusal(.forbidden, code: "unknown_certificate", title: "Certificate not issued by this hub")
        }
        guard !standing.revoked, !standing.parkRevoked else {
            throw Refusal(
                .forbidden, code: "certificate_revoked", title: "Client certificate revoked",
                detail: "\(principal) has been revoked from the federation")
        }
        return AuthenticatedPeer(principal: principal, serial: certificate.serial, notAfter: certificate.notAfter, trustEpoch: epoch)
    }
}

/// A caller whose certificate the hub has checked.
public struct AuthenticatedPeer: Sendable, Hashable {
    public let principal: Principal
    public let serial: String
    public let notAfter: Date
    /// The trust epoch the certificate was checked at (nil for in-process callers): the same request's signing-key
    /// checks use it instead of reading the epoch again.
    public let trustEpoch: Int64?

    /// For in-process callers (tests, benchmarks, the CLI) that act as a principal without a TLS connection.
    public init(principal: Principal, serial: String, notAfter: Date, trustEpoch: Int64? = nil) {
        self.principal = principal
        self.serial = serial
        self.notAfter = notAfter
        self.trustEpoch = trustEpoch
    }
}
