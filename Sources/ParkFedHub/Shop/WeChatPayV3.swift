import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOSSL
import _CryptoExtras

/// The hub's settings for WeChat Pay API v3 (`wechatpay` in hub.json): the merchant (直连商户) and its keys, kept as
/// files in the data directory, never in hub.json itself.
public struct WeChatPaySettings: Codable, Sendable, Hashable {
    /// The API's address (`https://api.mch.weixin.qq.com`; a simulator's address in tests).
    public var apiBase: String
    public var mchid: String
    public var appid: String
    /// The serial number of the merchant's API certificate (商户API证书序列号).
    public var merchantSerial: String
    /// The merchant's RSA private key (apiclient_key.pem), relative to the data directory.
    public var merchantKeyFile: String
    /// The APIv3 key (32 characters), relative to the data directory.
    public var apiV3KeyFile: String
    /// WeChat Pay's public key (微信支付公钥, PEM), relative to the data directory, and its id (`PUB_KEY_ID_…`).
    public var platformPublicKeyFile: String
    public var platformSerial: String
    /// The hub's public address of `POST /shop/payments/wechatpay/notify`.
    public var notifyURL: String
    /// An extra trust anchor for `api_base` (a simulator's CA), relative to the data directory; nil: the system's.
    public var caFile: String?

    public init(
        apiBase: String = "https://api.mch.weixin.qq.com", mchid: String, appid: String, merchantSerial: String, merchantKeyFile: String,
        apiV3KeyFile: String, platformPublicKeyFile: String, platformSerial: String, notifyURL: String, caFile: String? = nil
    ) {
        self.apiBase = apiBase
        self.mchid = mchid
        self.appid = appid
        self.merchantSerial = merchantSerial
        self.merchantKeyFile = merchantKeyFile
        self.apiV3KeyFile = apiV3KeyFile
        self.platformPublicKeyFile = platformPublicKeyFile
        self.platformSerial = platformSerial
        self.notifyURL = notifyURL
        self.caFile = caFile
    }

    enum CodingKeys: String, CodingKey {
        case apiBase = "api_base", mchid, appid, merchantSerial = "merchant_serial", merchantKeyFile = "merchant_key_file"
        case apiV3KeyFile = "api_v3_key_file", platformPublicKeyFile = "platform_public_key_file", platformSerial = "platform_serial"
        case notifyURL = "notify_url", caFile = "ca_file"
    }
}

/// WeChat Pay API v3 (微信支付 APIv3) for direct merchants: H5 orders (`POST /v3/pay/transactions/h5`, the visitor pays
/// in a phone browser), the query by the shop's order number, domestic refunds, and the payment notification.
///
/// Every request is signed as the API asks: `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,
/// signature=…,timestamp=…,serial_no=…`, the signature RSA PKCS #1 v1.5 with SHA-256 over `METHOD\nPATH\nTIMESTAMP\n
/// NONCE\nBODY\n` with the merchant's key. Every answer and notification is verified with WeChat Pay's public key over
/// `TIMESTAMP\nNONCE\nBODY\n` (`Wechatpay-Timestamp`, `-Nonce`, `-Signature`, `-Serial`), its time within 5 minutes;
/// a notification's resource is AES-256-GCM under the APIv3 key (nonce and associated data as sent).
public struct WeChatPayV3: PaymentProvider {
    public var name: String { "wechatpay" }
    let settings: WeChatPaySettings
    let merchantKey: _RSA.Signing.PrivateKey
    let platformKey: _RSA.Signing.PublicKey
    let apiV3Key: SymmetricKey
    /// A client per call (payments are few; a client kept for the hub's life would need shutting down with it).
    let clientConfiguration: HTTPClient.Configuration
    /// How far a signed answer's time may be from the hub's clock.
    static let skew: TimeInterval = 300

    /// Reads the keys the settings name from `directory` (the hub's data directory).
    public init(settings: WeChatPaySettings, directory: String) throws {
        func file(_ name: String) throws -> String {
            let path = name.hasPrefix("/") ? name : (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else { throw PaymentError("configuration", "cannot read \(path)") }
            return String(decoding: data, as: UTF8.self)
        }
        self.settings = settings
        do {
            merchantKey = try _RSA.Signing.PrivateKey(pemRepresentation: try file(settings.merchantKeyFile))
            platformKey = try _RSA.Signing.PublicKey(pemRepresentation: try file(settings.platformPublicKeyFile))
        } catch let error as PaymentError { throw error } catch {
            throw PaymentError("configuration", "the merchant key or WeChat Pay's public key is not an RSA PEM key: \(error)")
        }
        let key = try file(settings.apiV3KeyFile).trimmingCharacters(in: .whitespacesAndNewlines)
        guard key.utf8.count == 32 else { throw PaymentError("configuration", "the APIv3 key is 32 characters") }
        apiV3Key = SymmetricKey(data: Data(key.utf8))
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let ca = settings.caFile {
            let path = ca.hasPrefix("/") ? ca : (directory as NSString).appendingPathComponent(ca)
            tls.trustRoots = .file(path)
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(5), read: .seconds(10)))
        configuration.redirectConfiguration = .disallow
        clientConfiguration = configuration
    }

    // MARK: The API

    public func start(_ order: PaymentOrder, now: Date) async throws -> PaymentStart {
        let body: [String: Any] = [
            "appid": settings.appid, "mchid": settings.mchid, "description": String(order.description.prefix(127)),
            "out_trade_no": try Self.tradeNumber(order.id), "time_expire": Self.rfc3339(order.expiresAt), "notify_url": settings.notifyURL,
            "amount": ["total": order.amountMinor, "currency": order.currency],
            "scene_info": ["payer_client_ip": order.clientIP, "h5_info": ["type": "Wap"]],
        ]
        let answer = try await call("POST", "/v3/pay/transactions/h5", body: body, now: now)
        guard let url = answer["h5_url"] as? String, url.hasPrefix("https://") else { throw PaymentError("provider_error", "no h5_url in the answer") }
        // The visitor comes back to the order's page after paying (H5 payments take `redirect_url`).
        let back = order.returnURL.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return .redirect(url + (url.contains("?") ? "&" : "?") + "redirect_url=" + back)
    }

    public func query(_ orderID: String, now: Date) async throws -> PaymentNotice? {
        let answer = try await call("GET", "/v3/pay/transactions/out-trade-no/\(try Self.tradeNumber(orderID))?mchid=\(settings.mchid)", body: nil, now: now)
        return try transaction(answer, expecting: orderID)
    }

    public func refund(_ refund: PaymentRefund, now: Date) async throws -> String {
        let body: [String: Any] = [
            "out_trade_no": try Self.tradeNumber(refund.orderID), "out_refund_no": refund.refundID, "reason": String(refund.reason.prefix(80)),
            "amount": ["refund": refund.amountMinor, "total": refund.totalMinor, "currency": refund.currency],
        ]
        let answer = try await call("POST", "/v3/refund/domestic/refunds", body: body, now: now)
        guard let id = answer["refund_id"] as? String, let status = answer["status"] as? String else {
            throw PaymentError("provider_error", "no refund_id or status in the answer")
        }
        guard ["SUCCESS", "PROCESSING"].contains(status) else { throw PaymentError("provider_error", "the refund is \(status)") }
        return id
    }

    public func notification(headers: [String: String], body: Data, now: Date) throws -> PaymentNotice {
        try verify(headers: headers, body: body, now: now)
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let resource = object["resource"] as? [String: Any],
            resource["algorithm"] as? String == "AEAD_AES_256_GCM", let ciphertext = (resource["ciphertext"] as? String).flatMap({ Data(base64Encoded: $0) }),
            let nonce = resource["nonce"] as? String, ciphertext.count > 16
        else { throw PaymentError("malformed", "not a WeChat Pay notification with an AEAD_AES_256_GCM resource") }
        guard object["event_type"] as? String == "TRANSACTION.SUCCESS" else {
            throw PaymentError("unsupported", "event \(object["event_type"] as? String ?? "?") is not a successful payment")
        }
        let plain: Data
        do {
            let box = try AES.GCM.SealedBox(
                nonce: try AES.GCM.Nonce(data: Data(nonce.utf8)), ciphertext: ciphertext.dropLast(16), tag: ciphertext.suffix(16))
            plain = try AES.GCM.open(box, using: apiV3Key, authenticating: Data(((resource["associated_data"] as? String) ?? "").utf8))
        } catch { throw PaymentError("decrypt", "the resource does not decrypt under the APIv3 key") }
        guard let transaction = try? JSONSerialization.jsonObject(with: plain) as? [String: Any], let trade = transaction["out_trade_no"] as? String,
            let notice = try self.transaction(transaction, expecting: try Self.orderID(trade))
        else { throw PaymentError("mismatch", "the notification names no paid order of this merchant") }
        return notice
    }

    /// A transaction as the API describes it: this merchant's, for `orderID`, paid (`SUCCESS`), or nil while it is not.
    func transaction(_ object: [String: Any], expecting orderID: String) throws -> PaymentNotice? {
        guard object["mchid"] as? String == settings.mchid, object["appid"] as? String == settings.appid else {
            throw PaymentError("mismatch", "the transaction is of another merchant or app")
        }
        guard let trade = object["out_trade_no"] as? String, trade == (try Self.tradeNumber(orderID)) else {
            throw PaymentError("mismatch", "the transaction is of another order")
        }
        guard object["trade_state"] as? String == "SUCCESS" else { return nil }
        guard let id = object["transaction_id"] as? String, !id.isEmpty, let amount = object["amount"] as? [String: Any],
            let total = (amount["total"] as? NSNumber)?.int64Value, let currency = amount["currency"] as? String
        else { throw PaymentError("malformed", "a paid transaction without its id or amount") }
        return PaymentNotice(orderID: orderID, paymentID: id, amountMinor: total, currency: currency)
    }

    // MARK: Signing and verifying

    /// One signed call; the answer's signature is verified before its body is read. Signatures carry the wall
    /// clock's time whatever business time `now` the caller decides with (the API checks it against its own clock).
    func call(_ method: String, _ path: String, body: [String: Any]?, now _: Date) async throws -> [String: Any] {
        let now = Date()
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .withoutEscapingSlashes]) } ?? Data()
        var request = HTTPClientRequest(url: settings.apiBase + path)
        request.method = .init(rawValue: method)
        request.headers.add(name: "Authorization", value: try authorization(method: method, path: path, body: payload, now: now))
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "ParkFederation-hub")
        request.headers.add(name: "Wechatpay-Serial", value: settings.platformSerial)
        if body != nil {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: payload))
        }
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        let response: HTTPClientResponse
        let data: Data
        do {
            response = try await client.execute(request, timeout: .seconds(15))
            data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw PaymentError("unreachable", "WeChat Pay did not answer: \(error)")
        }
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        try verify(headers: headers, body: data, now: now)
        let object = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        guard (200..<300).contains(Int(response.status.code)) else {
            throw PaymentError("provider_error", "\(response.status.code) \(object["code"] as? String ?? "") \(object["message"] as? String ?? "")")
        }
        return object
    }

    /// The `Authorization` header of a request.
    func authorization(method: String, path: String, body: Data, now: Date) throws -> String {
        let timestamp = String(Int64(now.timeIntervalSince1970))
        let nonce = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let message = Data("\(method)\n\(path)\n\(timestamp)\n\(nonce)\n".utf8) + body + Data("\n".utf8)
        let signature = try merchantKey.signature(for: message, padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
        return "WECHATPAY2-SHA256-RSA2048 mchid=\"\(settings.mchid)\",nonce_str=\"\(nonce)\",signature=\"\(signature)\","
            + "timestamp=\"\(timestamp)\",serial_no=\"\(settings.merchantSerial)\""
    }

    /// Verifies WeChat Pay's signature of an answer or notification (header names in lower case).
    func verify(headers: [String: String], body: Data, now: Date) throws {
        let lower = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let timestamp = lower["wechatpay-timestamp"], let nonce = lower["wechatpay-nonce"], let signature = lower["wechatpay-signature"],
            let serial = lower["wechatpay-serial"]
        else { throw PaymentError("signature", "no Wechatpay-Timestamp, -Nonce, -Signature and -Serial headers") }
        guard serial == settings.platformSerial else { throw PaymentError("signature", "signed with key \(serial), not \(settings.platformSerial)") }
        guard let seconds = Int64(timestamp), abs(Double(seconds) - now.timeIntervalSince1970) <= Self.skew else {
            throw PaymentError("stale", "the signature's time is more than 5 minutes from the hub's clock")
        }
        guard let raw = Data(base64Encoded: signature),
            platformKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: raw), for: Data("\(timestamp)\n\(nonce)\n".utf8) + body + Data("\n".utf8),
                padding: .insecurePKCS1v1_5)
        else { throw PaymentError("signature", "WeChat Pay's signature does not verify") }
    }

    // MARK: Formats

    /// The shop's order id as an `out_trade_no` (6-32 of `[0-9A-Za-z_-|*]`): its UUID's 32 hex digits.
    static func tradeNumber(_ orderID: String) throws -> String {
        let hex = orderID.dropFirst(2).replacingOccurrences(of: "-", with: "")
        guard orderID.hasPrefix("O-"), hex.count == 32, hex.allSatisfy(\.isHexDigit) else { throw PaymentError("mismatch", "not a shop order id") }
        return hex
    }

    /// The shop's order id of an `out_trade_no`.
    static func orderID(_ trade: String) throws -> String {
        guard trade.count == 32, trade.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { throw PaymentError("mismatch", "not a shop order number") }
        let h = Array(trade)
        return "O-" + String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20..<32])
    }

    /// RFC 3339 in China Standard Time, as the API writes times (`2026-12-02T20:15:00+08:00`).
    static func rfc3339(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx"
        return formatter.string(from: date)
    }
}
