import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore
import ServiceLifecycle

/// OCTO webhooks to resellers (`booking_update`: a gate redeemed a ticket, a booking was cancelled). Each is queued
/// in the transaction that made the change, so none is lost; the sender posts the booking as it is now, signed
/// (`Octo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under the reseller's webhook secret),
/// and retries with backoff (30 s doubling, at most 6 h apart) until the reseller answers 2xx. Every attempt is
/// visible (`parkfed reseller webhooks`, `GET /octo/webhooks`).
extension Hub {
    /// The reseller's webhook secret: derived at the hub (`octo-webhook-v1:<id>`), shown by `parkfed reseller
    /// webhook-secret` to the reseller's operator.
    public func webhookSecret(of reseller: ParkID) -> String {
        Base64URL.encode(secrets.fields.derivedKey("octo-webhook-v1:\(reseller.rawValue)").withUnsafeBytes { Data($0) })
    }

    /// The signature header of a body sent at `time`.
    public static func webhookSignature(body: Data, secret: String, time: Date) -> String {
        let stamp = String(Int64(time.timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(stamp).".utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(stamp),v1=\(Hex.encode(Data(mac)))"
    }

    /// The wait before the next attempt of an outbound delivery (webhooks, regulator pushes): 30 s doubling with
    /// each failed attempt, at most 6 h.
    static func deliveryBackoff(afterAttempts attempts: Int) -> TimeInterval { min(6 * 3600, 30 * pow(2, Double(attempts))) }

    /// Sends every webhook due now, once each; returns how many were delivered. Failures are recorded with their
    /// next attempt.
    @discardableResult
    public func deliverWebhooks(client: HTTPClient = .shared, now: Date = Date()) async throws -> Int {
        var delivered = 0
        for webhook in try await store.dueWebhooks(now: now) {
            let outcome = await send(webhook, client: client, now: now)
            let backoff = Self.deliveryBackoff(afterAttempts: webhook.attempts)
            try await store.recordWebhookAttempt(
                webhook.id, status: outcome.status, error: outcome.error, delivered: outcome.delivered, nextAttemptAt: now.addingTimeInterval(backoff),
                now: now)
            metrics.octoWebhook(outcome.delivered ? "delivered" : "failed")
            if outcome.delivered { delivered += 1 }
        }
        return delivered
    }

    func send(_ webhook: OctoWebhookRecord, client: HTTPClient, now: Date) async -> (delivered: Bool, status: Int?, error: String?) {
        do {
            guard let admitted = try await admittedReseller(webhook.reseller), let url = admitted.record.webhookURL else {
                return (false, nil, "the reseller has no webhook_url")
            }
            guard let record = try await store.booking(webhook.bookingUUID) else { return (false, nil, "no booking \(webhook.bookingUUID)") }
            let caller = OctoCaller(reseller: webhook.reseller, pricing: true, baseURL: record.baseURL)
            let booking = try await octoView(record, admitted, caller, now: now)
            let body = try JSONEncoder().encode(Octo.Webhook(event: webhook.event, webhookId: webhook.id, booking: booking))
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "octo-signature", value: Self.webhookSignature(body: body, secret: webhookSecret(of: webhook.reseller), time: now))
            request.headers.add(name: "octo-webhook-id", value: webhook.id)
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            return ((200..<300).contains(status), status, (200..<300).contains(status) ? nil : "HTTP \(status)")
        } catch {
            return (false, nil, String("\(error)".prefix(300)))
        }
    }
}

/// Sends what the hub owes outside peers every few seconds while it serves: resellers' webhooks and regulators'
/// capacity pushes, each queue retried with its own backoff.
public struct OutboundDeliveryService: Service {
    let hub: Hub
    let every: Duration
    public init(hub: Hub, every: Duration = .seconds(5)) {
        self.hub = hub
        self.every = every
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await hub.deliverWebhooks() } catch { hub.logger.warning("webhook delivery failed", metadata: ["error": "\(error)"]) }
            do { try await hub.deliverRegulatorPushes() } catch { hub.logger.warning("regulator push failed", metadata: ["error": "\(error)"]) }
            // Shop refunds a provider has not taken yet, when their next attempt is due.
            do { try await hub.retryShopRefunds() } catch { hub.logger.warning("shop refund retry failed", metadata: ["error": "\(error)"]) }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: every) }
        }
    }
}

extension Hub {
    /// A webhook as a reseller sees it on `GET /octo/webhooks` (its own only).
    public struct WebhookView: Encodable, Sendable, Hashable {
        public var id: String
        public var event: String
        public var bookingUuid: String
        public var utcCreatedAt: String
        public var attempts: Int
        public var utcNextAttemptAt: String?
        public var utcDeliveredAt: String?
        public var lastStatus: Int?
        public var lastError: String?
    }

    public func octoWebhookLog(_ caller: OctoCaller) async throws -> [WebhookView] {
        let clock = octoClock
        return try await store.webhooks(reseller: caller.reseller).map {
            WebhookView(
                id: $0.id, event: $0.event, bookingUuid: $0.bookingUUID, utcCreatedAt: clock.utc($0.createdAt), attempts: $0.attempts,
                utcNextAttemptAt: $0.deliveredAt == nil ? clock.utc($0.nextAttemptAt) : nil, utcDeliveredAt: $0.deliveredAt.map(clock.utc),
                lastStatus: $0.lastStatus, lastError: $0.lastError)
        }
    }
}
