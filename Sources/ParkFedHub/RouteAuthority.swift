import Hummingbird
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol

/// Who may call a hub route. Every route is registered through a ``HubRouteGroup`` that states its authority, so
/// a route cannot exist without one (`HubRouteTests` walks the router to hold that), and the check runs before a
/// handler reads the request body: a principal of the wrong kind gets 403 `forbidden_for_principal` whatever it
/// sent. Rules that depend on ownership (this park's pass, this park's card) stay with the domain code the handler
/// calls; this is the coarse rule of the route's area.
public struct RouteAuthority: Sendable, Hashable, CustomStringConvertible {
    /// The principal kinds allowed; `nil`: no client certificate is needed (enrollment, whose one-time token is the
    /// credential).
    public let roles: Set<Principal.Role>?
    /// What stands in for a certificate on a route without one.
    public var credential: String = "enrollment token"

    /// Enrollment: no certificate yet.
    public static let enrollmentToken = RouteAuthority(roles: nil)
    /// A visitor's page of a pass: the unguessable token in the link is the credential.
    public static let visitorToken = RouteAuthority(roles: nil, credential: "pass page token")
    /// The visitors' shop pages: no certificate; a signed-in visitor's session cookie where one is needed.
    public static let visitorSession = RouteAuthority(roles: nil, credential: "visitor session cookie")
    /// A payment provider's notification: its signature (verified with the provider's key) is the credential.
    public static let providerSignature = RouteAuthority(roles: nil, credential: "payment provider's signature")
    /// A card holder's balance page: the card's own cryptogram in the link is the credential.
    public static let cardProof = RouteAuthority(roles: nil, credential: "card's own cryptogram")
    /// Any principal with a valid federation certificate.
    public static let anyPrincipal = RouteAuthority(roles: Set(Principal.Role.allCases))
    /// Parks only (their own passes, cards, members and assertions).
    public static let parks = RouteAuthority(roles: [.park])
    /// Parks (their own lines) and clearing staff with the operator (everyone's).
    public static let parksAndClearing = RouteAuthority(roles: [.park, .clearing, .hub])
    /// Clearing staff and the operator.
    public static let clearing = RouteAuthority(roles: Hub.clearingRoles)
    /// Regulators.
    public static let regulators = RouteAuthority(roles: [.regulator])
    /// The federation operator's staff (admitting and revoking parks).
    public static let operators = RouteAuthority(roles: [.operator])
    /// Resellers on the OCTO API: an API key (`Authorization: Bearer pfr_…`) or a reseller certificate.
    public static let resellers = RouteAuthority(roles: [.reseller], credential: "reseller API key or certificate")
    /// Everyone who works in the hub console (not parks: their console is their node agent's).
    public static let consoleUsers = RouteAuthority(roles: [.clearing, .regulator, .operator, .hub])

    /// Whether `principal` may call a route of this authority (a certificate-less caller never may, unless the
    /// route needs none).
    public func permits(_ principal: Principal?) -> Bool {
        guard let roles else { return true }
        guard let principal else { return false }
        return roles.contains(principal.role)
    }

    public var description: String {
        guard let roles else { return credential }
        return roles.map(\.rawValue).sorted().joined(separator: ", ")
    }
}

/// One route and its stated authority, as registered.
public struct RouteRule: Sendable, Hashable, CustomStringConvertible {
    public let method: String
    /// The path as Hummingbird prints it (`/v1/cards/{card}`), to match `Router.routes`.
    public let path: String
    public let authority: RouteAuthority
    public var description: String { "\(method) \(path) (\(authority))" }
}

/// The rules stated while the router is built.
typealias RouteBook = RuleBook<RouteRule>

extension RuleBook<RouteRule> {
    func add(_ method: HTTPRequest.Method, _ path: String, _ authority: RouteAuthority) {
        add(RouteRule(method: method.rawValue, path: RouterPath(path).description, authority: authority))
    }
}

/// A group of hub routes under one authority. Certificate routes run the authentication and rate-limit middleware,
/// then the authority check, then the handler, which receives the authenticated peer as a value.
struct HubRouteGroup {
    typealias Handler = @Sendable (Request, HubRequestContext, AuthenticatedPeer) async throws -> Response
    let group: RouterGroup<HubRequestContext>
    let authority: RouteAuthority
    let book: RouteBook

    init(_ router: Router<HubRequestContext>, _ authority: RouteAuthority, hub: Hub, book: RouteBook) {
        self.authority = authority
        self.book = book
        group = router.group()
            .add(middleware: AuthenticationMiddleware(hub: hub))
            .add(middleware: RateLimitMiddleware(limiter: hub.rateLimiter, metrics: hub.metrics))
            .add(middleware: AuthorityMiddleware(authority: authority))
    }

    func get(_ path: String, _ handler: @escaping Handler) { on(.get, path, handler) }
    func post(_ path: String, _ handler: @escaping Handler) { on(.post, path, handler) }
    func put(_ path: String, _ handler: @escaping Handler) { on(.put, path, handler) }

    func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        book.add(method, path, authority)
        group.on(RouterPath(path), method: method) { request, context -> Response in
            guard let peer = context.peer else {
                throw ProblemDetails(status: 401, code: "client_certificate_required", title: "Client certificate required")
            }
            return try await handler(request, context, peer)
        }
    }
}

/// Refuses a principal of a kind the group's authority does not name, before the handler runs.
struct AuthorityMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let authority: RouteAuthority

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard authority.permits(context.peer?.principal) else {
            throw ProblemDetails(
                status: 403, code: "forbidden_for_principal", title: "Not for this principal",
                detail: "\(request.method) \(request.uri.path) is for \(authority); you are \(context.peer.map { "\($0.principal)" } ?? "anonymous")")
        }
        return try await next(request, context)
    }
}
