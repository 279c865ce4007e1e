import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ParkFedDomain
import ParkFedProtocol

extension ProblemDetails {
    /// The HTTP status of each kind of refusal: the one place where a rule's refusal becomes a status.
    public static func status(of kind: Refusal.Kind) -> Int {
        switch kind {
        case .invalid: 400
        case .unauthenticated: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .expired: 410
        case .tooLarge: 413
        case .unprocessable: 422
        case .tooMany: 429
        case .failed: 500
        case .upstream: 502
        case .unavailable: 503
        }
    }

    /// The problem details of a refusal.
    public init(_ refusal: Refusal) {
        self.init(status: Self.status(of: refusal.kind), code: refusal.code, title: refusal.title, detail: refusal.detail)
    }
}

extension ProblemDetails {
    /// The `application/problem+json` response for this problem.
    public func response() -> Response {
        var body = self
        if body.detail == nil { body.detail = title }
        let data = (try? StrictJSON.encoder.encode(body)) ?? Data()
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: ProblemDetails.mediaType, .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension ProblemDetails {
    /// The problem an error a handler threw stands for: a rule's refusal, a problem already, the framework's own
    /// errors (404, 405, body too large), a body that does not decode; nil for anything else (a failure of ours).
    public init?(_ error: any Error) {
        switch error {
        case let refusal as Refusal: self.init(refusal)
        case let problem as ProblemDetails: self = problem
        case let error as HTTPError:
            let code =
                error.status == .notFound
                ? "not_found"
                : error.status == .methodNotAllowed
                    ? "method_not_allowed"
                    : error.status == .contentTooLarge ? "body_too_large" : "http_\(error.status.code)"
            self.init(status: error.status.code, code: code, title: error.status.reasonPhrase, detail: error.body)
        case let error as WireError: self.init(status: 400, code: "invalid_body", title: "Invalid request body", detail: error.message)
        default: return nil
        }
    }

    /// The answer to an error nothing mapped: logged, and a bare 500 that tells the caller nothing was changed.
    public static func unhandled(_ error: any Error, path: String, logger: Logger) -> ProblemDetails {
        logger.error("unhandled error", metadata: ["error": "\(error)", "path": "\(path)"])
        return ProblemDetails(status: 500, code: "internal_error", title: "Internal server error")
    }
}

/// Turns every error a handler throws into RFC 9457 problem details, so that no client ever sees an empty 500 or
/// a framework-specific error body.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            guard let problem = ProblemDetails(error) else {
                return ProblemDetails.unhandled(error, path: request.uri.path, logger: context.logger).response()
            }
            return problem.localized(MessageCatalog.Language(acceptLanguage: request.headers[.acceptLanguage])).response()
        }
    }
}

/// JSON responses with the federation's encoder (ISO 8601 dates, sorted keys).
public enum JSONResponse {
    public static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: try StrictJSON.encoder.encode(value))))
    }
}

extension Request {
    /// Collects the body (up to `limit` bytes) and decodes it strictly.
    public func decodeStrict<T: Codable>(_ type: T.Type, limit: Int = BodyLimit.request) async throws -> T {
        let buffer: ByteBuffer
        do { buffer = try await body.collect(upTo: limit) } catch {
            throw ProblemDetails(status: 413, code: "body_too_large", title: "Request body too large", detail: "the limit is \(limit) bytes")
        }
        return try StrictJSON.decode(T.self, from: Data(buffer.readableBytesView))
    }

    /// Collects the body's bytes (up to `limit`), for documents that are not JSON (a bank statement).
    public func collectBytes(limit: Int) async throws -> Data {
        do { return Data(try await body.collect(upTo: limit).readableBytesView) } catch {
            throw ProblemDetails(status: 413, code: "body_too_large", title: "Request body too large", detail: "the limit is \(limit) bytes")
        }
    }
}
