import Foundation

/// A payment provider the shop takes visitors' money through: the built-in ``TestPaymentProvider`` (the demo and the
/// tests) or ``WeChatPayV3`` (WeChat Pay API v3). The shop's rules (a paid order issues once, a payment after the hold
/// expired is refunded, a notification that does not verify changes nothing) are the hub's, the same for every
/// provider; a provider only speaks its protocol.
public protocol PaymentProvider: Sendable {
    /// The provider's name as orders record it (`test`, `wechatpay`).
    var name: String { get }
    /// Starts the payment of `order`: either paid at once (the test provider) or a page of the provider's where the
    /// visitor pays, after which the provider notifies the hub and sends the visitor back to `order.returnURL`.
    func start(_ order: PaymentOrder, now: Date) async throws -> PaymentStart
    /// What the provider says of the order's payment now: nil while it is not paid.
    func query(_ orderID: String, now: Date) async throws -> PaymentNotice?
    /// A payment notification: verified (signature, time, decryption) and read, or ``PaymentError`` and nothing else.
    func notification(headers: [String: String], body: Data, now: Date) throws -> PaymentNotice
    /// Gives `refund.amountMinor` of a paid order back to the payer; idempotent by `refund.refundID`. Answers the
    /// provider's own refund id.
    func refund(_ refund: PaymentRefund, now: Date) async throws -> String
}

/// What a provider needs to take an order's payment.
public struct PaymentOrder: Sendable, Hashable {
    public var id: String
    public var amountMinor: Int64
    public var currency: String
    public var description: String
    /// When the hold ends: the provider's order closes then.
    public var expiresAt: Date
    /// The shop's order page, where the visitor comes back to.
    public var returnURL: String
    /// The visitor's address (providers ask for it against fraud).
    public var clientIP: String
}

/// How a payment starts.
public enum PaymentStart: Sendable, Hashable {
    /// Paid already, with the provider's payment id.
    case paid(String)
    /// The visitor pays on the provider's page at this address.
    case redirect(String)
}

/// A provider's word that an order was paid.
public struct PaymentNotice: Sendable, Hashable {
    public var orderID: String
    public var paymentID: String
    public var amountMinor: Int64
    public var currency: String
}

/// A refund to send through the provider.
public struct PaymentRefund: Sendable, Hashable {
    public var orderID: String
    /// The shop's id for this refund (the provider's idempotency key).
    public var refundID: String
    public var amountMinor: Int64
    /// The order's whole amount.
    public var totalMinor: Int64
    public var currency: String
    public var reason: String
}

/// Why a provider refused or could not be reached: `code` names it (`signature`, `stale`, `decrypt`, `mismatch`,
/// `provider_error`, `unreachable`).
public struct PaymentError: Error, CustomStringConvertible, Sendable, Hashable {
    public var code: String
    public var message: String
    public var description: String { "\(code): \(message)" }
    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// The built-in test provider: pays at once and refunds at once, recording nothing outside the hub. For the demo and
/// the tests; a federation that takes real money configures a real provider.
public struct TestPaymentProvider: PaymentProvider {
    public var name: String { "test" }
    public init() {}
    public func start(_ order: PaymentOrder, now: Date) async throws -> PaymentStart { .paid("T-" + UUID().uuidString.lowercased()) }
    public func query(_ orderID: String, now: Date) async throws -> PaymentNotice? { nil }
    public func notification(headers: [String: String], body: Data, now: Date) throws -> PaymentNotice {
        throw PaymentError("unsupported", "the test provider sends no notifications")
    }
    public func refund(_ refund: PaymentRefund, now: Date) async throws -> String { "TR-" + UUID().uuidString.lowercased() }
}
