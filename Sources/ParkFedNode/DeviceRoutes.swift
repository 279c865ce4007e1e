import Foundation
import Hummingbird
import ParkFedHTTP
import ParkFedProtocol
import ParkFedStore

/// One route of the local API and the device roles it names (`nil`: open, the two probes only).
public struct DeviceRouteRule: Sendable, Hashable, CustomStringConvertible {
    public let method: String
    /// As Hummingbird prints it (`/v1/sales/{pass}/refund`), to match `Router.routes`.
    public let path: String
    public let roles: Set<DeviceRecord.Role>?
    /// Whether the route makes the node call the hub (and so takes from the device's share of the hub budget).
    public let reachesHub: Bool
    public var description: String {
        "\(method) \(path) (\(roles.map { $0.map(\.rawValue).sorted().joined(separator: ", ") } ?? "open")\(reachesHub ? ", hub" : ""))"
    }
}

/// Registers the local API's routes with their device roles, in one place: the credential is checked before the
/// body is read, and a route that reaches the hub first takes a token from the device's bucket.
struct DeviceRoutes {
    typealias Handler = @Sendable (Request, BasicRequestContext, DeviceRecord) async throws -> Response
    let router: Router<BasicRequestContext>
    let agent: NodeAgent
    let book = RuleBook<DeviceRouteRule>()

    func open(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) {
        book.add(DeviceRouteRule(method: method.rawValue, path: RouterPath(path).description, roles: nil, reachesHub: false))
        router.on(RouterPath(path), method: method, use: handler)
    }

    /// A route whose handler checks the device itself (the console: a session cookie, or a bearer credential as
    /// here), registered with the roles it names.
    func custom(
        _ method: HTTPRequest.Method, _ path: String, _ roles: Set<DeviceRecord.Role>, reachesHub: Bool,
        _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
    ) {
        book.add(DeviceRouteRule(method: method.rawValue, path: RouterPath(path).description, roles: roles, reachesHub: reachesHub))
        router.on(RouterPath(path), method: method, use: handler)
    }

    func get(_ path: String, _ roles: Set<DeviceRecord.Role>, reachesHub: Bool = false, _ handler: @escaping Handler) {
        on(.get, path, roles, reachesHub: reachesHub, handler)
    }
    func post(_ path: String, _ roles: Set<DeviceRecord.Role>, reachesHub: Bool = false, _ handler: @escaping Handler) {
        on(.post, path, roles, reachesHub: reachesHub, handler)
    }
    func put(_ path: String, _ roles: Set<DeviceRecord.Role>, reachesHub: Bool = false, _ handler: @escaping Handler) {
        on(.put, path, roles, reachesHub: reachesHub, handler)
    }

    func on(_ method: HTTPRequest.Method, _ path: String, _ roles: Set<DeviceRecord.Role>, reachesHub: Bool, _ handler: @escaping Handler) {
        book.add(DeviceRouteRule(method: method.rawValue, path: RouterPath(path).description, roles: roles, reachesHub: reachesHub))
        let agent = self.agent
        router.on(RouterPath(path), method: method) { request, context -> Response in
            let device = try await agent.device(authorization: request.headers[.authorization], roles: roles)
            if reachesHub, let wait = agent.deviceHubBudget.take(device.id) {
                return RateLimiter.refusal(
                    wait: wait, code: "local_rate_limited", title: "Too many requests",
                    detail: "device \(device.name) is over its share of the park's hub calls; retry in \(Int(wait.rounded(.up))) s")
            }
            return try await handler(request, context, device)
        }
    }
}
