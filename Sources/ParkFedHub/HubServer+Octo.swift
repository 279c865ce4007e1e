import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol

/// The OCTO supplier API's routes (`/octo/...`) for resellers. A reseller authenticates with `Authorization:
/// Bearer pfr_…` (its API key) or a federation certificate of `reseller:<id>`; each is limited to the hub's rate
/// per principal. Every answer of these routes, refusals included, is OCTO's: its error bodies
/// (`{"error":"INVALID_PRODUCT_ID","errorMessage":…}`), never problem details. `Octo-Capabilities: octo/pricing`
/// adds retail and net prices, and is echoed.
extension HubServer {
    static func registerOcto(on router: Router<HubRequestContext>, hub: Hub, book: RouteBook) {
        let group = router.group("/octo").add(middleware: OctoMiddleware(hub: hub))
        func route(
            _ method: HTTPRequest.Method, _ path: String,
            _ handler: @escaping @Sendable (Request, HubRequestContext, Hub.OctoCaller) async throws -> any Encodable & Sendable
        ) {
            book.add(method, "/octo" + path, .resellers)
            group.on(RouterPath(path), method: method) { request, context -> Response in
                guard case .reseller(let id)? = context.peer?.principal, let reseller = try? ParkID(id) else {
                    throw Octo.ErrorBody("UNAUTHORIZED", "an API key or a reseller certificate is required", status: 401)
                }
                let pricing = request.headers[values: HTTPField.Name("Octo-Capabilities")!]
                    .flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.contains(Octo.pricingCapability)
                let caller = Hub.OctoCaller(reseller: reseller, pricing: pricing, baseURL: baseURL(request))
                let body = try await handler(request, context, caller)
                var response = try octoJSON(body, status: .ok)
                if pricing { response.headers[HTTPField.Name("Octo-Capabilities")!] = Octo.pricingCapability }
                return response
            }
        }
        route(.get, "/supplier") { _, _, caller in hub.octoSupplier(caller) }
        route(.get, "/products") { _, _, caller in try await hub.octoProducts(caller) }
        route(.get, "/products/:id") { _, context, caller in try await hub.octoProduct(context.parameters.get("id") ?? "", caller) }
        route(.post, "/availability") { request, _, caller in try await hub.octoAvailability(try await decode(request), caller) }
        route(.post, "/availability/calendar") { request, _, caller in try await hub.octoCalendar(try await decode(request), caller) }
        route(.post, "/bookings") { request, _, caller in try await hub.octoHold(try await decode(request), caller) }
        route(.get, "/bookings") { request, _, caller in
            var query: [String: String] = [:]
            for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
            return try await hub.octoBookings(query, caller)
        }
        route(.get, "/bookings/:uuid") { _, context, caller in try await hub.octoBooking(context.parameters.get("uuid") ?? "", caller) }
        route(.patch, "/bookings/:uuid") { request, context, caller in
            try await hub.octoUpdate(context.parameters.get("uuid") ?? "", try await decode(request), caller)
        }
        route(.post, "/bookings/:uuid/extend") { request, context, caller in
            try await hub.octoExtend(context.parameters.get("uuid") ?? "", try await decode(request, empty: Octo.ExtendRequest()), caller)
        }
        route(.post, "/bookings/:uuid/confirm") { request, context, caller in
            try await hub.octoConfirm(context.parameters.get("uuid") ?? "", try await decode(request), caller)
        }
        route(.post, "/bookings/:uuid/cancel") { request, context, caller in
            try await hub.octoCancel(context.parameters.get("uuid") ?? "", try await decode(request, empty: Octo.CancelRequest()), caller)
        }
        route(.get, "/webhooks") { _, _, caller in try await hub.octoWebhookLog(caller) }
        route(.get, "/statement") { request, _, caller in
            let query = request.uri.queryParameters
            guard let from = query["localDateStart"].flatMap({ try? CivilDay(String($0)) }),
                let to = query["localDateEnd"].flatMap({ try? CivilDay(String($0)) })
            else { throw Octo.ErrorBody.badRequest("localDateStart and localDateEnd (YYYY-MM-DD) are required") }
            return try await hub.resellerStatement(caller.reseller, from: from, to: to)
        }
    }

    /// An OCTO request body: JSON of at most 64 KiB (members OCTO clients send that this API does not use are
    /// ignored); an empty body is `empty` when the route allows one.
    static func decode<T: Decodable>(_ request: Request, empty: T? = nil) async throws -> T {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: 64 * 1024) } catch {
            throw Octo.ErrorBody.badRequest("the request body is larger than 64 KiB")
        }
        if buffer.readableBytes == 0, let empty { return empty }
        do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch let error as DecodingError {
            throw Octo.ErrorBody.badRequest("invalid JSON body: \(Self.describe(error))")
        } catch {
            throw Octo.ErrorBody.badRequest("invalid JSON body")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is required".trimmingCharacters(in: ["."])
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)) has the wrong type"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "not JSON" : "\(path(context)): \(context.debugDescription)"
        @unknown default: return "unreadable"
        }
    }

    /// `https://<host>` as the caller reached the hub (its `:authority` or `Host`), when that is a plain host[:port].
    static func baseURL(_ request: Request) -> String {
        let authority = request.head.authority ?? "127.0.0.1"
        let allowed =
            authority.utf8.count <= 255
            && authority.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || ".-:[]".unicodeScalars.contains($0) }
        return "https://" + (allowed ? authority : "127.0.0.1")
    }

    static func octoJSON(_ body: any Encodable, status: HTTPResponse.Status) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(body))))
    }
}

/// Authenticates a reseller (API key, else certificate), applies its rate limit, and answers every refusal of the
/// OCTO routes as an OCTO error body.
struct OctoMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let hub: Hub

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var context = context
            context.peer = try await authenticate(request, context)
            let principal = context.peer.map { "\($0.principal)" } ?? "anonymous"
            context.logger[metadataKey: "principal"] = "\(principal)"
            if let wait = hub.rateLimiter.take(principal) {
                hub.metrics.rateLimited(principal: principal)
                var response = try HubServer.octoJSON(
                    Octo.ErrorBody("TOO_MANY_REQUESTS", "\(principal) is over its rate limit; retry after \(Int(wait.rounded(.up))) s", status: 429),
                    status: .tooManyRequests)
                response.headers[.retryAfter] = String(Int(wait.rounded(.up)))
                return response
            }
            return try await next(request, context)
        } catch let error as Octo.ErrorBody {
            return try HubServer.octoJSON(error, status: HTTPResponse.Status(code: error.status))
        } catch let problem as ProblemDetails {
            return try HubServer.octoJSON(
                Octo.ErrorBody(problem.status == 404 ? "NOT_FOUND" : "BAD_REQUEST", problem.detail ?? problem.title, status: problem.status),
                status: HTTPResponse.Status(code: problem.status))
        } catch let refusal as Refusal {
            return try HubServer.octoJSON(Octo.ErrorBody("UNPROCESSABLE_ENTITY", refusal.detail ?? refusal.title, status: 400), status: .badRequest)
        } catch {
            hub.logger.error("OCTO request failed", metadata: ["error": "\(error)"])
            return try HubServer.octoJSON(
                Octo.ErrorBody("INTERNAL_SERVER_ERROR", "the hub could not complete the request", status: 500), status: .internalServerError)
        }
    }

    /// The bearer API key, else a client certificate that names a reseller; anything else is refused.
    func authenticate(_ request: Request, _ context: Context) async throws -> AuthenticatedPeer {
        if let authorization = request.headers[.authorization] {
            guard authorization.hasPrefix("Bearer "), let reseller = try await hub.reseller(bearer: String(authorization.dropFirst(7))) else {
                throw Octo.ErrorBody("UNAUTHORIZED", "the API key is not valid (unknown, revoked, or its reseller suspended)", status: 401)
            }
            return AuthenticatedPeer(principal: .reseller(reseller.rawValue), serial: "api-key", notAfter: .distantFuture)
        }
        guard let der = await context.peerCertificateDER() else {
            throw Octo.ErrorBody("UNAUTHORIZED", "Authorization: Bearer <API key>, or a reseller's federation certificate, is required", status: 401)
        }
        let peer: AuthenticatedPeer
        do { peer = try await hub.authenticate(certificateDER: der) } catch {
            throw Octo.ErrorBody("UNAUTHORIZED", error.detail ?? error.title, status: 401)
        }
        guard case .reseller(let id) = peer.principal, let reseller = try? ParkID(id), try await hub.admittedReseller(reseller)?.record.status == .active
        else {
            throw Octo.ErrorBody("FORBIDDEN", "the OCTO API is for resellers; \(peer.principal) is not one", status: 403)
        }
        return peer
    }
}
