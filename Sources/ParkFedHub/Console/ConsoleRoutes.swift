import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParkFedCrypto
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol
import ParkFedStore

/// The hub console: pages for clearing staff, regulators and the federation operator, signed in with their own
/// federation certificate over the same mutual TLS as the API.
///
/// Every page is registered through a ``HubRouteGroup`` with the authority of the API it stands for, and every
/// action calls the same ``Hub`` rule the API route calls, so a console user has exactly the rights of their
/// principal and leaves the same records. Pages are server-rendered from templates, in Chinese or English
/// (`?lang=`, then the `lang` cookie, then `Accept-Language`); errors on console paths are pages too
/// (``ConsoleErrorPages``), a 403 for a role that may not see the page.
struct ConsolePages: Sendable {
    let hub: Hub
    let templates: Result<ConsoleTemplates, HubError>
    let formKey: SymmetricKey

    init(hub: Hub) {
        self.hub = hub
        templates = Result { () throws(HubError) in
            do { return try ConsoleTemplates.load() } catch let error as HubError { throw error } catch { throw HubError(.io, "\(error)") }
        }
        formKey = hub.secrets.fields.derivedKey("console-form-token-v1")
    }

    // MARK: Rendering

    /// The language of this request, and whether the request chose it (then it is kept in a cookie).
    static func language(_ request: Request) -> (MessageCatalog.Language, chosen: Bool) {
        if let asked = request.uri.queryParameters["lang"].flatMap({ MessageCatalog.Language(rawValue: String($0)) }) { return (asked, true) }
        for cookie in (request.headers[.cookie] ?? "").split(separator: ";") {
            let parts = cookie.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0] == "lang", let language = MessageCatalog.Language(rawValue: parts[1]) { return (language, false) }
        }
        return (MessageCatalog.Language(acceptLanguage: request.headers[.acceptLanguage]), false)
    }

    static func navigation(_ principal: Principal?, _ words: [String: String]) -> [[String: String]] {
        switch principal?.role {
        case .clearing, .hub: [["href": "/console/settlement", "label": words["settlement"]!]]
        case .regulator: [["href": "/console/regulator", "label": words["regulator"]!]]
        case .operator: [["href": "/console/operator", "label": words["operator"]!]]
        default: []
        }
    }

    /// A page: `template` inside the layout, with the words of the request's language.
    func page(
        _ template: String, title: String, request: Request, peer: AuthenticatedPeer?, status: HTTPResponse.Status = .ok,
        flash: (text: String, kind: String)? = nil, _ values: [String: Any] = [:]
    ) -> Response {
        let (language, chosen) = Self.language(request)
        let words = ConsoleText.words(language)
        let templates: ConsoleTemplates
        switch self.templates {
        case .success(let loaded): templates = loaded
        case .failure(let error):
            return Response(
                status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "The console is not available: \(error.message)\n")))
        }
        var context = values
        context["t"] = words
        context["lang"] = language.rawValue
        context["title"] = words[title] ?? title
        context["principal"] = peer.map { "\($0.principal)" } ?? "—"
        context["nav"] = Self.navigation(peer?.principal, words)
        if let peer { context["csrf"] = ConsoleForm.token(for: peer, key: formKey) }
        if let flash { context["flash"] = ["text": flash.text, "kind": flash.kind] }
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .contentLanguage: language.rawValue,
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
            .xContentTypeOptions: "nosniff", HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if chosen { headers[.setCookie] = "lang=\(language.rawValue); Path=/console; Secure; HttpOnly; SameSite=Strict; Max-Age=31536000" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: templates.render(template, context))))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// The form of a POST, its token and origin checked.
    func form(_ request: Request, _ peer: AuthenticatedPeer) async throws -> ConsoleForm {
        let buffer = try await request.body.collect(upTo: BodyLimit.small)
        return try ConsoleForm.checked(
            String(buffer: buffer), fetchSite: request.headers[HTTPField.Name("Sec-Fetch-Site")!], peer: peer, key: formKey)
    }

    func money(_ minor: Int64) -> String { ConsoleMoney.format(minor, currency: hub.configuration.currency) }

    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        return ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
    }

    // MARK: Routes

    static func register(on router: Router<HubRequestContext>, hub: Hub, book: RouteBook) {
        let pages = ConsolePages(hub: hub)
        let anyone = HubRouteGroup(router, .consoleUsers, hub: hub, book: book)
        let clearing = HubRouteGroup(router, .clearing, hub: hub, book: book)
        let regulators = HubRouteGroup(router, .regulators, hub: hub, book: book)
        let operators = HubRouteGroup(router, .operators, hub: hub, book: book)

        anyone.get("/console") { _, _, peer -> Response in
            switch peer.principal.role {
            case .regulator: redirect("/console/regulator")
            case .operator: redirect("/console/operator")
            default: redirect("/console/settlement")
            }
        }
        pages.registerSettlement(clearing)
        pages.registerOperator(operators)
        pages.registerRegulator(regulators)
    }
}

/// Money for people: `1,234.56 CNY` from integer minor units (two decimals).
enum ConsoleMoney {
    static func format(_ minor: Int64, currency: String) -> String {
        let sign = minor < 0 ? "-" : ""
        let magnitude = minor.magnitude
        let units = String(magnitude / 100)
        var grouped = ""
        for (offset, character) in units.reversed().enumerated() {
            if offset > 0, offset % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        let cents = magnitude % 100
        return "\(sign)\(String(grouped.reversed())).\(cents < 10 ? "0" : "")\(cents) \(currency)"
    }
}

/// Console paths answer errors as pages (a 403 page for a role that may not see one), everything else as problem
/// details.
struct ConsoleErrorPages: RouterMiddleware {
    typealias Context = HubRequestContext
    let hub: Hub
    let pages: ConsolePages

    init(hub: Hub) {
        self.hub = hub
        pages = ConsolePages(hub: hub)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path == "/console" || request.uri.path.hasPrefix("/console/") else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch {
            let problem: ProblemDetails
            switch error {
            case let refusal as Refusal: problem = ProblemDetails(refusal)
            case let details as ProblemDetails: problem = details
            case let http as HTTPError:
                problem = ProblemDetails(status: http.status.code, code: "not_found", title: http.status.reasonPhrase, detail: http.body)
            default:
                context.logger.error("console page failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
                problem = ProblemDetails(status: 500, code: "internal_error", title: "Internal server error")
            }
            let (language, _) = ConsolePages.language(request)
            let localized = problem.localized(language)
            let words = ConsoleText.words(language)
            let heading = problem.status == 403 ? words["forbidden"]! : problem.status == 404 ? words["notFound"]! : localized.title
            return pages.page(
                "error", title: heading, request: request, peer: context.peer, status: HTTPResponse.Status(code: problem.status),
                ["status": problem.status, "heading": heading, "detail": localized.detail ?? localized.title, "code": problem.code])
        }
    }
}
