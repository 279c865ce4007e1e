import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import ParkFedProtocol

/// The node agent's HTTPS client to the hub: mutual TLS with the park's certificate, HTTP/2 when the hub
/// offers it, one pooled connection reused for every call.
public final class HubClient: Sendable {
    public let baseURL: String
    let client: HTTPClient

    /// A client that presents `certificateChain`/`privateKey` (PEM files) and trusts only `caFile`.
    /// Without a certificate (enrollment) it still verifies the hub against the federation root.
    public init(baseURL: String, caFile: String, certificateFile: String?, keyFile: String?) throws {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        tls.minimumTLSVersion = .tlsv12
        if let certificateFile, let keyFile {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            timeout: .init(connect: .seconds(Self.connectTimeoutSeconds), read: .seconds(30)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 8))
        configuration.httpVersion = .automatic
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// How long a connection to the hub may take to open (TCP and TLS): `PARKFED_HUB_CONNECT_TIMEOUT` seconds
    /// (1-60), 5 by default. The test runs raise it: a 2-core machine running the whole suite at once can take longer
    /// than 5 s to finish a handshake.
    static let connectTimeoutSeconds: Int64 = {
        guard let text = ProcessInfo.processInfo.environment["PARKFED_HUB_CONNECT_TIMEOUT"], let seconds = Int64(text), (1...60).contains(seconds)
        else { return 5 }
        return seconds
    }()

    public func shutdown() async {
        try? await client.shutdown()
    }

    /// A raw response: status, headers and body bytes.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: Data

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    public func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(30)
    ) async throws(NodeError) -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 16 << 20)
            return Reply(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Data(bytes.readableBytesView))
        } catch {
            throw NodeError(.hubUnreachable, "cannot reach the hub at \(baseURL): \(error)")
        }
    }

    /// Sends a JSON body and decodes a JSON answer; a problem-details answer becomes `hub_refused`.
    public func json<Response: Decodable>(
        _ method: HTTPMethod, _ path: String, body: (some Encodable)?, as type: Response.Type,
        timeout: TimeAmount = .seconds(30)
    ) async throws(NodeError) -> Response {
        var data: Data?
        if let body {
            do { data = try StrictJSON.encoder.encode(body) } catch { throw NodeError(.badResponse, "cannot encode request: \(error)") }
        }
        let reply = try await send(method, path, body: data, timeout: timeout)
        guard (200..<300).contains(reply.status) else { throw Self.refusal(reply) }
        do { return try StrictJSON.decoder.decode(Response.self, from: reply.body) } catch {
            throw NodeError(.badResponse, "the hub's answer to \(path) does not decode: \(error)")
        }
    }

    static func refusal(_ reply: Reply) -> NodeError {
        if let problem = try? StrictJSON.decoder.decode(ProblemDetails.self, from: reply.body) {
            return NodeError(.hubRefused, "hub refused (\(problem.status) \(problem.code)): \(problem.detail ?? problem.title)", problemCode: problem.code)
        }
        return NodeError(.hubRefused, "hub answered HTTP \(reply.status)")
    }

    public func whoami() async throws(NodeError) -> WhoAmIResponse {
        try await json(.GET, "/v1/whoami", body: Optional<String>.none, as: WhoAmIResponse.self)
    }
}
