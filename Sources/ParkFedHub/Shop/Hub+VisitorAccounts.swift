import Crypto
import Foundation
import HummingbirdBcrypt
import NIOConcurrencyHelpers
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// Where the shop's messages go: e-mail over SMTP when the hub is configured for it (`smtp_url`, `mail_from`), SMS
/// through a provider (the built-in one records what it would send in the data directory's `sms-outbox.jsonl`).
public final class VisitorMessaging: Sendable {
    let senders: NIOLockedValueBox<(email: (any MessageSender)?, sms: any MessageSender)>

    init(email: (any MessageSender)?, sms: any MessageSender) { senders = NIOLockedValueBox((email, sms)) }

    /// Replaces the providers (a federation's own SMS gateway; a test's SMTP server).
    public func use(email: (any MessageSender)?, sms: (any MessageSender)? = nil) {
        senders.withLockedValue { current in current = (email, sms ?? current.sms) }
    }

    func send(_ message: OutboundMessage) async throws {
        let (email, sms) = senders.withLockedValue { $0 }
        switch message.channel {
        case .email:
            guard let email else { throw MessageError("e-mail is not configured at this hub (smtp_url, mail_from)") }
            try await email.send(message)
        case .sms: try await sms.send(message)
        }
    }
}

/// Visitors' accounts at the hub's public side: sign-up with an e-mail address or a phone number and a one-time code
/// sent to it, the terms and privacy policy accepted (versions and time recorded), sign-in with a code or a password
/// (bcrypt, hummingbird-auth), limits on codes sent and attempts, the account's real-name holders (self, family)
/// entered once and kept sealed, and deletion. The hub keeps no contact or document in clear: each is sealed with the
/// field key ring and found by a keyed blind index.
extension Hub {
    /// The versions of the terms and the privacy policy a sign-up accepts.
    public static let termsVersion = "2026-12", privacyVersion = "2026-12"
    static let codeLifetime: TimeInterval = 600, codeAttempts = 5, codesPerHour = 5, codeInterval: TimeInterval = 60
    static let sessionLifetime: TimeInterval = 7 * 86_400, passwordFailures = 5, lockout: TimeInterval = 900, holdersPerAccount = 10

    /// A contact as typed, checked and normalised: an e-mail address (lowercased) or a phone number (digits, an
    /// optional leading +).
    public struct VisitorContact: Sendable, Hashable {
        public var channel: OutboundMessage.Channel
        public var value: String

        public init(_ text: String) throws {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.contains("@") {
                let lower = trimmed.lowercased()
                guard SMTPMailer.isAddress(lower) else {
                    throw Refusal(.invalid, code: "invalid_contact", title: "Not an e-mail address", detail: "an address is name@domain")
                }
                (channel, value) = (.email, lower)
            } else {
                let digits = trimmed.filter { $0 != " " && $0 != "-" }
                guard (6...20).contains(digits.count),
                    digits.enumerated().allSatisfy({ $0.element.isASCII && ($0.element.isNumber || ($0.offset == 0 && $0.element == "+")) })
                else { throw Refusal(.invalid, code: "invalid_contact", title: "Not a phone number or e-mail address", detail: "6-20 digits, or name@domain") }
                (channel, value) = (.sms, digits)
            }
        }

        var kind: String { channel == .email ? "email" : "phone" }
        var masked: String {
            guard channel == .email else { return Masking.phone(value) }
            let parts = value.split(separator: "@")
            return String(parts[0].prefix(1)) + "***@" + parts[1]
        }
    }

    func contactIndex(_ contact: VisitorContact) -> String { secrets.fields.blindIndex("\(contact.kind):\(contact.value)", purpose: "visitor.contact") }
    func codeHash(_ code: String, contact: String) -> String { secrets.fields.blindIndex("\(contact):\(code)", purpose: "visitor.code") }
    static func sessionHash(_ token: String) -> String { tokenHash(token) }

    /// Sends a one-time code for `purpose` (`signup` or `signin`) to a contact, within the limits (one a minute, five
    /// an hour). The answer is the same whether or not the contact has an account.
    public func sendVisitorCode(to text: String, purpose: String, language: MessageCatalog.Language = .zh, now: Date = Date()) async throws {
        guard ["signup", "signin"].contains(purpose) else { throw Refusal(.invalid, code: "invalid_purpose", title: "Unknown purpose") }
        let contact = try VisitorContact(text)
        let index = contactIndex(contact)
        guard try await store.visitorCodesSent(contactIndex: index, since: now.addingTimeInterval(-Self.codeInterval)) == 0 else {
            throw Refusal(.tooMany, code: "code_too_soon", title: "A code was sent a moment ago", detail: "wait a minute before asking for another")
        }
        guard try await store.visitorCodesSent(contactIndex: index, since: now.addingTimeInterval(-3600)) < Self.codesPerHour else {
            throw Refusal(.tooMany, code: "too_many_codes", title: "Too many codes", detail: "at most \(Self.codesPerHour) codes an hour")
        }
        var random = SystemRandomNumberGenerator()
        let code = String(format: "%06d", Int.random(in: 0..<1_000_000, using: &random))
        try await store.addVisitorCode(
            contactIndex: index, purpose: purpose, codeHash: codeHash(code, contact: index), now: now, expiresAt: now.addingTimeInterval(Self.codeLifetime))
        let (subject, body) =
            language == .zh
            ? ("ParkFederation 验证码 \(code)", "您的验证码是 \(code)，10 分钟内有效。如非本人操作，请忽略。")
            : ("ParkFederation code \(code)", "Your code is \(code). It works for 10 minutes. If you did not ask for it, ignore this message.")
        do { try await messages.send(OutboundMessage(channel: contact.channel, to: contact.value, subject: subject, body: body)) } catch {
            logger.warning("visitor code not sent", metadata: ["error": "\(error)"])
            throw Refusal(.unavailable, code: "message_not_sent", title: "The code could not be sent", detail: "try again in a moment")
        }
    }

    /// A new account: the code sent to the contact, both consents, and optionally a password (8-128 characters).
    /// Answers the session token (shown once, kept only as its hash).
    public func signUpVisitor(
        contact text: String, code: String, acceptTerms: Bool, acceptPrivacy: Bool, password: String?, now: Date = Date()
    ) async throws -> (account: String, session: String) {
        let contact = try VisitorContact(text)
        guard acceptTerms, acceptPrivacy else {
            throw Refusal(.invalid, code: "consent_required", title: "Consent required", detail: "accept the terms and the privacy policy to open an account")
        }
        if let password { try Self.checkPassword(password) }
        let index = contactIndex(contact)
        try await checkCode(code, contactIndex: index, purpose: "signup", now: now)
        let token = Self.newSessionToken()
        let record = VisitorAccountRecord(
            id: "V-" + UUIDv7.make(now: now), contactKind: contact.kind, contactIndex: index,
            contactSealed: try secrets.fields.seal(contact.value, purpose: "visitor.contact"), contactMasked: contact.masked,
            passwordHash: password.map { Bcrypt.hash($0, cost: UInt8(configuration.visitorPasswordCost)) }, termsVersion: Self.termsVersion,
            privacyVersion: Self.privacyVersion, consentedAt: now, createdAt: now)
        guard
            try await store.createVisitorAccount(
                record, sessionHash: Self.sessionHash(token), sessionExpires: now.addingTimeInterval(Self.sessionLifetime), now: now)
        else { throw Refusal(.conflict, code: "account_exists", title: "An account exists", detail: "sign in instead") }
        logger.info("visitor account created", metadata: ["account": "\(record.id)"])
        return (record.id, token)
    }

    /// Signs in with the code sent to the contact, or with the account's password (five failures lock it 15 minutes).
    public func signInVisitor(contact text: String, code: String?, password: String?, now: Date = Date()) async throws -> (account: String, session: String) {
        let contact = try VisitorContact(text)
        let index = contactIndex(contact)
        let refused = Refusal(.unauthenticated, code: "sign_in_failed", title: "Sign-in failed", detail: "the contact, code or password is not right")
        if let code {
            try await checkCode(code, contactIndex: index, purpose: "signin", now: now)
            guard let account = try await store.visitorAccount(contactIndex: index) else { throw refused }
            return try await openSession(account.id, how: "code", now: now)
        }
        guard let password, let account = try await store.visitorAccount(contactIndex: index), let hash = account.passwordHash else { throw refused }
        if let locked = account.lockedUntil, locked > now {
            throw Refusal(.tooMany, code: "account_locked", title: "Too many wrong passwords", detail: "try again in 15 minutes, or sign in with a code")
        }
        guard Bcrypt.verify(password, hash: hash) else {
            try await store.failVisitorPassword(account.id, limit: Self.passwordFailures, lockUntil: now.addingTimeInterval(Self.lockout), now: now)
            throw refused
        }
        return try await openSession(account.id, how: "password", now: now)
    }

    func openSession(_ account: String, how: String, now: Date) async throws -> (account: String, session: String) {
        let token = Self.newSessionToken()
        try await store.openVisitorSession(Self.sessionHash(token), account: account, how: how, now: now, expires: now.addingTimeInterval(Self.sessionLifetime))
        return (account, token)
    }

    func checkCode(_ code: String, contactIndex index: String, purpose: String, now: Date) async throws {
        let typed = code.filter { !$0.isWhitespace }
        guard typed.count == 6, typed.allSatisfy(\.isNumber) else {
            throw Refusal(.invalid, code: "invalid_code", title: "The code is six digits")
        }
        switch try await store.checkVisitorCode(
            contactIndex: index, purpose: purpose, codeHash: codeHash(typed, contact: index), maximumAttempts: Self.codeAttempts, now: now)
        {
        case .accepted: return
        case .wrong(let left):
            throw Refusal(.invalid, code: "wrong_code", title: "Wrong code", detail: left > 0 ? "\(left) attempts left" : "ask for a new code")
        case .none: throw Refusal(.invalid, code: "no_code", title: "No live code", detail: "the code expired or was used: ask for a new one")
        }
    }

    static func checkPassword(_ password: String) throws {
        guard (8...128).contains(password.count) else {
            throw Refusal(.invalid, code: "weak_password", title: "Password too short or long", detail: "8-128 characters")
        }
    }

    static func newSessionToken() -> String {
        var random = SystemRandomNumberGenerator()
        return "pfv_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })
    }

    /// The account of a session token (nil: signed out or expired).
    public func visitorAccount(session token: String, now: Date = Date()) async throws -> VisitorAccountRecord? {
        guard token.hasPrefix("pfv_"), token.count < 100, let id = try await store.visitorSession(Self.sessionHash(token), now: now) else { return nil }
        return try await store.visitorAccount(id: id)
    }

    public func signOutVisitor(session token: String) async throws { try await store.closeVisitorSession(Self.sessionHash(token)) }

    /// Adds a real-name holder to an account (validated as a window validates one), sealed; at most ten.
    public func addVisitorHolder(account: String, _ input: HolderInput, now: Date = Date()) async throws -> VisitorHolderRecord {
        let name = input.name.trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(name.count), !name.contains(where: \.isNewline) else {
            throw Refusal(.invalid, code: "invalid_holder", title: "The name is 1-64 characters")
        }
        guard let kind = IdentityDocument.Kind(rawValue: input.idType) else {
            throw Refusal(.invalid, code: "invalid_document", title: "Unknown document type")
        }
        let document: IdentityDocument
        do { document = try IdentityDocument(kind: kind, number: input.idNumber) } catch {
            throw Refusal(.invalid, code: "invalid_document", title: "Invalid document number", detail: error.message)
        }
        let holder = VisitorHolderRecord(
            id: "H-" + UUIDv7.make(now: now), account: account, nameSealed: try secrets.fields.seal(name, purpose: "visitor.holder.name"),
            idType: kind.rawValue, idSealed: try secrets.fields.seal(document.number, purpose: "visitor.holder.id_number"), nameMasked: Masking.name(name),
            idMasked: document.maskedNumber, createdAt: now)
        guard try await store.addVisitorHolder(holder, limit: Self.holdersPerAccount) else {
            throw Refusal(.conflict, code: "too_many_holders", title: "At most \(Self.holdersPerAccount) holders per account")
        }
        return holder
    }

    /// Deletes the account, its holders and sessions (passes already issued are transaction records the retention
    /// run reduces in time).
    public func deleteVisitorAccount(_ account: String, now: Date = Date()) async throws {
        try await store.deleteVisitorAccount(account, now: now)
        logger.notice("visitor account deleted", metadata: ["account": "\(account)"])
    }
}
