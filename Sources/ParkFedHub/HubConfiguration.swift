import Foundation
import ParkFedDomain
import ParkFedProtocol

/// A hub's settings, kept in `hub.json` in its data directory.
public struct HubConfiguration: Codable, Sendable, Hashable {
    /// The federation's display name (the CA's organisation).
    public var federation: String
    /// DNS names and IP addresses the hub's TLS certificate is valid for.
    public var hubDNSNames: [String]
    public var hubIPAddresses: [String]
    /// Lifetime of a park certificate, in days (90 by default).
    public var parkCertificateDays: Int
    /// Lifetime of regulator and clearing certificates, in days.
    public var staffCertificateDays: Int
    /// How long an enrollment token is valid, in hours (24 by default).
    public var enrollmentTokenHours: Int
    /// How far an assertion's `issued_at` may be from the hub's clock, in seconds (±300 by default).
    public var assertionSkewSeconds: Int
    /// How far in the past an assertion's `issued_at` may be, in seconds (7 days by default): gates and windows keep
    /// working while the hub is unreachable and deliver what they recorded when the link returns, so a late
    /// assertion is normal; it belongs to the business day it is accepted on.
    public var assertionMaxDelaySeconds: Int
    /// How long a card spend may stay held before it voids itself, in seconds (300 by default).
    public var cardHoldSeconds: Int
    /// The federation's time zone: pass validity, capacity and business days are counted in it.
    public var timeZone: String
    /// The federation's settlement currency.
    public var currency: String
    /// Hub fee on each obligation, in basis points of its amount, rounded down; paid by the receiving park (0: none).
    public var settlementFeeBasisPoints: Int
    /// Local time (`HH:MM`) at which the running hub closes the previous business day by itself (nil: only by hand).
    public var settlementTime: String?
    /// Requests per second each principal may make on average (token bucket; 0: no limit). A park's gates, windows
    /// and card readers share its limit; one noisy principal cannot starve the others.
    public var rateLimitPerSecond: Double
    /// Requests a principal may make at once above its rate.
    public var rateLimitBurst: Int
    /// Enrollment attempts per minute from one source address (token bucket; 0: no limit). Enrollment is the one
    /// route without a certificate: a guesser of tokens is slowed down before the hub reads the body.
    public var enrollmentsPerMinute: Double
    /// Enrollment attempts one address may make at once.
    public var enrollmentBurst: Int
    /// Seconds an idle connection (no request in flight) stays open.
    public var idleTimeoutSeconds: Int
    /// Connections open at once; one more is closed as soon as it is accepted.
    public var maxConnections: Int
    /// Where the hub keeps its state: nil for the embedded SQLite file in the data directory, or a PostgreSQL URL
    /// (`postgres://user:password@host:port/database`) that several hub processes can share.
    public var store: String?
    /// The share of a park's daily or instantaneous capacity at which operators and regulators are warned, in
    /// basis points (8000: 80 %, as local rules under 《景区最大承载量核定导则》 ask).
    public var capacityWarningBasisPoints: Int
    /// Holiday periods (e.g. 国庆节 2026-10-01..2026-10-07) whose report the hub writes for the regulators when the
    /// period has ended, beside the daily reports.
    public var reportHolidays: [ReportPeriod]
    /// Days after a pass's validity ends that its holder's real-name data is kept (then reduced to masked form by
    /// the retention job): 1095 by default (E-Commerce Law art. 31, three years), 180 at least (Cybersecurity Law
    /// art. 21, six months of network logs).
    public var realNameRetentionDays: Int
    /// Where the shop's e-mail goes: `smtp://host:port` (plain, a relay on the same host or network) or
    /// `smtps://host:port` (TLS from the first byte), and the sender address; nil: no e-mail (SMS only).
    public var smtpURL: String?
    public var mailFrom: String?
    /// bcrypt's cost for visitors' passwords (2^cost rounds; 4-15).
    public var visitorPasswordCost: Int
    /// The shop's payment providers: `test` (the built-in provider that pays at once: the demo and tests only; a
    /// federation taking real money removes it) and `wechatpay` (with the `wechatpay` settings).
    public var paymentProviders: [String]
    /// WeChat Pay API v3 for the shop (nil: not used).
    public var wechatpay: WeChatPaySettings?

    /// A named period of days, inclusive.
    public struct ReportPeriod: Codable, Sendable, Hashable {
        public var name: String
        public var from: String
        public var to: String
        public init(name: String, from: String, to: String) {
            self.name = name
            self.from = from
            self.to = to
        }
    }

    public init(
        federation: String = "ParkFederation",
        hubDNSNames: [String] = ["localhost"],
        hubIPAddresses: [String] = ["127.0.0.1", "::1"],
        parkCertificateDays: Int = 90,
        staffCertificateDays: Int = 365,
        enrollmentTokenHours: Int = 24,
        assertionSkewSeconds: Int = 300,
        assertionMaxDelaySeconds: Int = 7 * 86_400,
        cardHoldSeconds: Int = 300,
        timeZone: String = "Asia/Shanghai",
        currency: String = "CNY",
        settlementFeeBasisPoints: Int = 0,
        settlementTime: String? = "02:00",
        rateLimitPerSecond: Double = 2_000,
        rateLimitBurst: Int = 4_000,
        enrollmentsPerMinute: Double = 30,
        enrollmentBurst: Int = 60,
        idleTimeoutSeconds: Int = 120,
        maxConnections: Int = 10_000,
        store: String? = nil,
        capacityWarningBasisPoints: Int = 8000,
        reportHolidays: [ReportPeriod] = [],
        realNameRetentionDays: Int = 1095,
        smtpURL: String? = nil,
        mailFrom: String? = nil,
        visitorPasswordCost: Int = 10,
        paymentProviders: [String] = ["test"],
        wechatpay: WeChatPaySettings? = nil
    ) {
        self.paymentProviders = paymentProviders
        self.wechatpay = wechatpay
        self.smtpURL = smtpURL
        self.mailFrom = mailFrom
        self.visitorPasswordCost = visitorPasswordCost
        self.realNameRetentionDays = realNameRetentionDays
        self.reportHolidays = reportHolidays
        self.store = store
        self.capacityWarningBasisPoints = capacityWarningBasisPoints
        self.maxConnections = maxConnections
        self.rateLimitPerSecond = rateLimitPerSecond
        self.rateLimitBurst = rateLimitBurst
        self.enrollmentsPerMinute = enrollmentsPerMinute
        self.enrollmentBurst = enrollmentBurst
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.timeZone = timeZone
        self.currency = currency
        self.settlementFeeBasisPoints = settlementFeeBasisPoints
        self.settlementTime = settlementTime
        self.federation = federation
        self.hubDNSNames = hubDNSNames
        self.hubIPAddresses = hubIPAddresses
        self.parkCertificateDays = parkCertificateDays
        self.staffCertificateDays = staffCertificateDays
        self.enrollmentTokenHours = enrollmentTokenHours
        self.assertionSkewSeconds = assertionSkewSeconds
        self.assertionMaxDelaySeconds = assertionMaxDelaySeconds
        self.cardHoldSeconds = cardHoldSeconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = HubConfiguration()
        federation = try container.decode(String.self, forKey: .federation)
        hubDNSNames = try container.decodeIfPresent([String].self, forKey: .hubDNSNames) ?? defaults.hubDNSNames
        hubIPAddresses = try container.decodeIfPresent([String].self, forKey: .hubIPAddresses) ?? defaults.hubIPAddresses
        parkCertificateDays = try container.decodeIfPresent(Int.self, forKey: .parkCertificateDays) ?? defaults.parkCertificateDays
        staffCertificateDays = try container.decodeIfPresent(Int.self, forKey: .staffCertificateDays) ?? defaults.staffCertificateDays
        enrollmentTokenHours = try container.decodeIfPresent(Int.self, forKey: .enrollmentTokenHours) ?? defaults.enrollmentTokenHours
        assertionSkewSeconds = try container.decodeIfPresent(Int.self, forKey: .assertionSkewSeconds) ?? defaults.assertionSkewSeconds
        assertionMaxDelaySeconds = try container.decodeIfPresent(Int.self, forKey: .assertionMaxDelaySeconds) ?? defaults.assertionMaxDelaySeconds
        cardHoldSeconds = try container.decodeIfPresent(Int.self, forKey: .cardHoldSeconds) ?? defaults.cardHoldSeconds
        timeZone = try container.decodeIfPresent(String.self, forKey: .timeZone) ?? defaults.timeZone
        currency = try container.decodeIfPresent(String.self, forKey: .currency) ?? defaults.currency
        settlementFeeBasisPoints = try container.decodeIfPresent(Int.self, forKey: .settlementFeeBasisPoints) ?? defaults.settlementFeeBasisPoints
        settlementTime = container.contains(.settlementTime) ? try container.decodeIfPresent(String.self, forKey: .settlementTime) : defaults.settlementTime
        rateLimitPerSecond = try container.decodeIfPresent(Double.self, forKey: .rateLimitPerSecond) ?? defaults.rateLimitPerSecond
        rateLimitBurst = try container.decodeIfPresent(Int.self, forKey: .rateLimitBurst) ?? defaults.rateLimitBurst
        enrollmentsPerMinute = try container.decodeIfPresent(Double.self, forKey: .enrollmentsPerMinute) ?? defaults.enrollmentsPerMinute
        enrollmentBurst = try container.decodeIfPresent(Int.self, forKey: .enrollmentBurst) ?? defaults.enrollmentBurst
        idleTimeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .idleTimeoutSeconds) ?? defaults.idleTimeoutSeconds
        maxConnections = try container.decodeIfPresent(Int.self, forKey: .maxConnections) ?? defaults.maxConnections
        store = try container.decodeIfPresent(String.self, forKey: .store)
        capacityWarningBasisPoints =
            try container.decodeIfPresent(Int.self, forKey: .capacityWarningBasisPoints) ?? defaults.capacityWarningBasisPoints
        reportHolidays = try container.decodeIfPresent([ReportPeriod].self, forKey: .reportHolidays) ?? []
        realNameRetentionDays = try container.decodeIfPresent(Int.self, forKey: .realNameRetentionDays) ?? defaults.realNameRetentionDays
        smtpURL = try container.decodeIfPresent(String.self, forKey: .smtpURL)
        mailFrom = try container.decodeIfPresent(String.self, forKey: .mailFrom)
        visitorPasswordCost = try container.decodeIfPresent(Int.self, forKey: .visitorPasswordCost) ?? defaults.visitorPasswordCost
        paymentProviders = try container.decodeIfPresent([String].self, forKey: .paymentProviders) ?? defaults.paymentProviders
        wechatpay = try container.decodeIfPresent(WeChatPaySettings.self, forKey: .wechatpay)
    }

    enum CodingKeys: String, CodingKey {
        case federation
        case hubDNSNames = "hub_dns_names"
        case hubIPAddresses = "hub_ip_addresses"
        case parkCertificateDays = "park_certificate_days"
        case staffCertificateDays = "staff_certificate_days"
        case enrollmentTokenHours = "enrollment_token_hours"
        case assertionSkewSeconds = "assertion_skew_seconds"
        case assertionMaxDelaySeconds = "assertion_max_delay_seconds"
        case cardHoldSeconds = "card_hold_seconds"
        case timeZone = "time_zone"
        case currency
        case settlementFeeBasisPoints = "settlement_fee_bps"
        case settlementTime = "settlement_time"
        case rateLimitPerSecond = "rate_limit_per_second"
        case rateLimitBurst = "rate_limit_burst"
        case enrollmentsPerMinute = "enrollments_per_minute"
        case enrollmentBurst = "enrollment_burst"
        case idleTimeoutSeconds = "idle_timeout_seconds"
        case maxConnections = "max_connections"
        case store
        case capacityWarningBasisPoints = "capacity_warning_bps"
        case reportHolidays = "report_holidays"
        case realNameRetentionDays = "real_name_retention_days"
        case smtpURL = "smtp_url"
        case mailFrom = "mail_from"
        case visitorPasswordCost = "visitor_password_cost"
        case paymentProviders = "payment_providers"
        case wechatpay
    }

    public func validate() throws(HubError) {
        guard !federation.trimmingCharacters(in: .whitespaces).isEmpty, federation.count <= 128 else {
            throw HubError(.invalidConfiguration, "federation name must be 1-128 characters")
        }
        guard (1...825).contains(parkCertificateDays), (1...825).contains(staffCertificateDays) else {
            throw HubError(.invalidConfiguration, "certificate lifetimes must be 1-825 days")
        }
        guard (1...24 * 30).contains(enrollmentTokenHours) else {
            throw HubError(.invalidConfiguration, "enrollment token lifetime must be 1-720 hours")
        }
        guard (1...86_400).contains(assertionSkewSeconds) else {
            throw HubError(.invalidConfiguration, "assertion skew must be 1-86400 seconds")
        }
        guard (1...86_400).contains(cardHoldSeconds) else {
            throw HubError(.invalidConfiguration, "card hold lifetime must be 1-86400 seconds")
        }
        guard (1...30 * 86_400).contains(assertionMaxDelaySeconds) else {
            throw HubError(.invalidConfiguration, "assertion max delay must be 1 second to 30 days")
        }
        guard TimeZone(identifier: timeZone) != nil else {
            throw HubError(.invalidConfiguration, "unknown time zone \(timeZone)")
        }
        guard (try? Currency(currency)) != nil else { throw HubError(.invalidConfiguration, "currency must be an ISO 4217 code") }
        guard (0...10_000).contains(settlementFeeBasisPoints) else {
            throw HubError(.invalidConfiguration, "settlement_fee_bps must be 0-10000")
        }
        if let settlementTime, Self.minutes(settlementTime) == nil {
            throw HubError(.invalidConfiguration, "settlement_time must be HH:MM (00:00-23:59)")
        }
        guard (0...1_000_000).contains(rateLimitPerSecond), rateLimitPerSecond.isFinite, (1...1_000_000).contains(rateLimitBurst) else {
            throw HubError(.invalidConfiguration, "rate_limit_per_second is 0-1000000 (0: none) and rate_limit_burst 1-1000000")
        }
        guard (0...100_000).contains(enrollmentsPerMinute), enrollmentsPerMinute.isFinite, (1...100_000).contains(enrollmentBurst) else {
            throw HubError(.invalidConfiguration, "enrollments_per_minute is 0-100000 (0: none) and enrollment_burst 1-100000")
        }
        guard (1...86_400).contains(idleTimeoutSeconds) else { throw HubError(.invalidConfiguration, "idle_timeout_seconds is 1-86400") }
        guard (1...10_000).contains(capacityWarningBasisPoints) else {
            throw HubError(.invalidConfiguration, "capacity_warning_bps is 1-10000 (8000: warn at 80 % of a capacity)")
        }
        guard Set(paymentProviders).isSubset(of: ["test", "wechatpay"]), Set(paymentProviders).count == paymentProviders.count else {
            throw HubError(.invalidConfiguration, "payment_providers lists test and wechatpay, each once")
        }
        guard paymentProviders.contains("wechatpay") == (wechatpay != nil) else {
            throw HubError(.invalidConfiguration, "payment_providers names wechatpay exactly when the wechatpay settings are given")
        }
        if let wechatpay {
            guard let url = URL(string: wechatpay.notifyURL), url.scheme == "https", url.query == nil, wechatpay.apiBase.hasPrefix("https://"),
                !wechatpay.mchid.isEmpty, !wechatpay.appid.isEmpty, !wechatpay.merchantSerial.isEmpty, !wechatpay.platformSerial.isEmpty
            else {
                throw HubError(
                    .invalidConfiguration, "wechatpay: api_base and notify_url are https:// (notify_url without a query), mchid, appid and serials given")
            }
        }
        guard (4...15).contains(visitorPasswordCost) else { throw HubError(.invalidConfiguration, "visitor_password_cost is 4-15") }
        if smtpURL != nil || mailFrom != nil {
            guard mailer != nil else {
                throw HubError(.invalidConfiguration, "smtp_url is smtp://host:port or smtps://host:port, with mail_from an e-mail address")
            }
        }
        guard (180...3650).contains(realNameRetentionDays) else {
            throw HubError(.invalidConfiguration, "real_name_retention_days is 180-3650 (the law asks six months of logs at least)")
        }
        for period in reportHolidays {
            guard !period.name.trimmingCharacters(in: .whitespaces).isEmpty, period.name.count <= 64,
                !period.name.contains(where: { $0.isNewline || "/\\".contains($0) }),
                let from = try? CivilDay(period.from), let to = try? CivilDay(period.to), from <= to, to.dayNumber - from.dayNumber < 62
            else {
                throw HubError(
                    .invalidConfiguration, "report_holidays: each is a name (1-64 characters, no slashes) and from <= to (YYYY-MM-DD), at most 62 days")
            }
        }
        guard (1...1_000_000).contains(maxConnections) else { throw HubError(.invalidConfiguration, "max_connections is 1-1000000") }
        if let store, !(store.hasPrefix("postgres://") || store.hasPrefix("postgresql://")) {
            throw HubError(.invalidConfiguration, "store is a postgres:// URL (or absent for the embedded SQLite file)")
        }
        guard !hubDNSNames.isEmpty || !hubIPAddresses.isEmpty else {
            throw HubError(.invalidConfiguration, "the hub certificate needs at least one DNS name or IP address")
        }
    }

    /// Minutes after midnight of `HH:MM`.
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard text.count == 5, parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...23).contains(hours), (0...59).contains(minutes)
        else { return nil }
        return hours * 60 + minutes
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    static func load(path: String) throws(HubError) -> HubConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HubError(.notInitialized, "no hub configuration at \(path); run `parkfed hub init` first")
        }
        let configuration: HubConfiguration
        do { configuration = try JSONDecoder().decode(HubConfiguration.self, from: data) } catch {
            throw HubError(.invalidConfiguration, "\(path) is not a valid hub configuration: \(error)")
        }
        try configuration.validate()
        return configuration
    }
}

extension HubConfiguration {
    /// The SMTP client `smtp_url` and `mail_from` describe, or nil.
    public var mailer: SMTPMailer? {
        guard let smtpURL, let mailFrom, let url = URL(string: smtpURL), let host = url.host, !host.isEmpty, SMTPMailer.isAddress(mailFrom)
        else { return nil }
        switch url.scheme {
        case "smtp": return SMTPMailer(host: host, port: url.port ?? 25, from: mailFrom)
        case "smtps": return SMTPMailer(host: host, port: url.port ?? 465, from: mailFrom, implicitTLS: true)
        default: return nil
        }
    }
}
