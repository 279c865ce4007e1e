import Foundation
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import ParkFedDomain

/// A message to a visitor: a one-time code or an e-ticket link, by e-mail or SMS.
public struct OutboundMessage: Sendable, Hashable, Codable {
    public enum Channel: String, Sendable, Codable { case email, sms }
    public var channel: Channel
    public var to: String
    public var subject: String
    public var body: String

    public init(channel: Channel, to: String, subject: String, body: String) {
        self.channel = channel
        self.to = to
        self.subject = subject
        self.body = body
    }
}

/// Where visitors' messages go: a provider interface, so a federation plugs in its SMS gateway; e-mail goes out over
/// SMTP (``SMTPMailer``); the built-in SMS provider records what it would send (``RecordingSMS``), for the demo and
/// tests.
public protocol MessageSender: Sendable {
    func send(_ message: OutboundMessage) async throws
}

/// Why a message was not sent.
public struct MessageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// An SMTP client (RFC 5321) on SwiftNIO: EHLO, optional AUTH PLAIN, MAIL FROM, RCPT TO, DATA, QUIT; plain on
/// loopback, or TLS from the first byte (`implicitTLS`, port 465, RFC 8314). Each reply is checked; a refusal is a
/// ``MessageError`` naming the server's answer. Headers are RFC 5322 with the subject RFC 2047-encoded (UTF-8), the
/// body 8-bit UTF-8 with dot-stuffing.
public struct SMTPMailer: MessageSender {
    public var host: String
    public var port: Int
    public var from: String
    public var implicitTLS: Bool
    public var credentials: (user: String, password: String)?
    public var heloName: String

    public init(
        host: String, port: Int, from: String, implicitTLS: Bool = false, credentials: (user: String, password: String)? = nil, heloName: String = "parkfed"
    ) {
        self.host = host
        self.port = port
        self.from = from
        self.implicitTLS = implicitTLS
        self.credentials = credentials
        self.heloName = heloName
    }

    public func send(_ message: OutboundMessage) async throws {
        guard message.channel == .email else { throw MessageError("SMTP sends e-mail only") }
        for address in [from, message.to] where !Self.isAddress(address) { throw MessageError("not an e-mail address: \(address)") }
        let tls = implicitTLS ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        let channel = try await Self.connect(host: host, port: port, tls: tls, timeout: .seconds(10))
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            func expect(_ codes: Set<Int>, after step: String) async throws {
                // A reply is one or more lines "NNN-…" ending with "NNN …".
                while true {
                    guard let buffer = try await lines.next() else { throw MessageError("the SMTP server closed the connection after \(step)") }
                    let line = String(buffer: buffer).trimmingCharacters(in: .init(charactersIn: "\r"))
                    guard line.count >= 3, let code = Int(line.prefix(3)) else { throw MessageError("not an SMTP reply after \(step): \(line.prefix(80))") }
                    if line.count > 3, line[line.index(line.startIndex, offsetBy: 3)] == "-" { continue }
                    guard codes.contains(code) else { throw MessageError("the SMTP server refused \(step): \(line.prefix(200))") }
                    return
                }
            }
            func say(_ text: String) async throws { try await outbound.write(ByteBuffer(string: text + "\r\n")) }
            try await expect([220], after: "connecting")
            try await say("EHLO \(heloName)")
            try await expect([250], after: "EHLO")
            if let credentials {
                let plain = Data("\u{0}\(credentials.user)\u{0}\(credentials.password)".utf8).base64EncodedString()
                try await say("AUTH PLAIN \(plain)")
                try await expect([235], after: "AUTH")
            }
            try await say("MAIL FROM:<\(from)>")
            try await expect([250], after: "MAIL FROM")
            try await say("RCPT TO:<\(message.to)>")
            try await expect([250, 251], after: "RCPT TO")
            try await say("DATA")
            try await expect([354], after: "DATA")
            try await outbound.write(ByteBuffer(string: Self.content(message, from: from)))
            try await expect([250], after: "the message")
            try await say("QUIT")
            try? await expect([221], after: "QUIT")
        }
    }

    /// Whether an SMTP server answers its greeting at `host`:`port` (for waiting on one to start).
    public static func probe(host: String, port: Int) async throws -> Bool {
        let channel = try await connect(host: host, port: port, tls: nil, timeout: .seconds(2))
        return try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            let greeting = try await lines.next().map { String(buffer: $0) } ?? ""
            try await outbound.write(ByteBuffer(string: "QUIT\r\n"))
            return greeting.hasPrefix("220")
        }
    }

    /// A line-framed connection to an SMTP server (TLS from the first byte when `tls` is given).
    static func connect(host: String, port: Int, tls: NIOSSLContext?, timeout: TimeAmount) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host)) }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// The message as sent after DATA: headers, blank line, the dot-stuffed body, and the closing dot.
    static func content(_ message: OutboundMessage, from: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let subject = "=?UTF-8?B?" + Data(message.subject.utf8).base64EncodedString() + "?="
        let headers = [
            "From: <\(from)>", "To: <\(message.to)>", "Subject: \(subject)", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@\(from.split(separator: "@").last ?? "parkfed")>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        let body = message.body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix(".") ? "." + line : String(line)
        }
        return (headers + [""] + body).joined(separator: "\r\n") + "\r\n.\r\n"
    }

    /// A plain address check (local@domain, no spaces or angle brackets, at most 254 characters).
    public static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return text.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".")
            && !text.contains(where: { $0.isWhitespace || "<>\r\n,;\"".contains($0) })
    }
}

/// The built-in SMS provider: records each message it would send as one JSON line in a file (the demo's and the
/// tests' stand-in for a real gateway, which implements ``MessageSender`` the same way).
public struct RecordingSMS: MessageSender {
    public let file: String
    public init(file: String) { self.file = file }

    public func send(_ message: OutboundMessage) async throws {
        guard message.channel == .sms else { throw MessageError("the SMS provider sends SMS only") }
        // What would be sent, without the number itself: no file of the hub keeps a visitor's number in clear.
        var recorded = message
        recorded.to = Masking.phone(message.to)
        var line = try JSONEncoder().encode(recorded)
        line.append(0x0A)
        if !FileManager.default.fileExists(atPath: file) { FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600]) }
        guard let handle = FileHandle(forWritingAtPath: file) else { throw MessageError("cannot write \(file)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }
}
