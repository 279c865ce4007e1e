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
    let templates: Result<PageTemplates, PageError>
    let formKey: SymmetricKey

    init(hub: Hub) {
        self.hub = hub
        templates = PageTemplates.loaded(module: "ParkFedHub")
        formKey = hub.secrets.fields.derivedKey("console-form-token-v1")
    }

    // MARK: Rendering

    static func language(_ request: Request) -> (MessageCatalog.Language, chosen: Bool) { PageResponse.language(request) }

    /// The form token's subject: the principal and its certificate.
    static func subject(_ peer: AuthenticatedPeer) -> String { "\(peer.principal)|\(peer.serial)" }

    static func navigation(_ principal: Principal?, _ words: [String: String]) -> [[String: String]] {
        switch principal?.role {
        case .clearing, .hub:
            [
                ["href": "/console/settlement", "label": words["settlement"]!],
                ["href": "/console/settlement/exceptions", "label": words["exceptions"]!],
                ["href": "/console/settlement/disputes", "label": words["disputes"]!],
            ]
        case .regulator:
            [
                ["href": "/console/regulator", "label": words["regulator"]!],
                ["href": "/console/regulator/occupancy", "label": words["occupancyNow"]!],
                ["href": "/console/regulator/warnings", "label": words["capWarnings"]!],
                ["href": "/console/regulator/reports", "label": words["reports"]!],
            ]
        case .operator:
            [["href": "/console/operator", "label": words["operator"]!], ["href": "/console/operator/refunds", "label": words["refundQueue"]!]]
        default: []
        }
    }

    /// A page: `template` inside the layout, with the words of the request's language.
    func page(
        _ template: String, title: String, request: Request, peer: AuthenticatedPeer?, status: HTTPResponse.Status = .ok,
        flash: (text: String, kind: String)? = nil, _ values: [String: Any] = [:]
    ) -> Response {
        var context = values
        context["principal"] = peer.map { "\($0.principal)" } ?? "—"
        context["nav"] = Self.navigation(peer?.principal, ConsoleText.words(Self.language(request).0))
        return PageResponse.page(
            templates, template, request: request, words: ConsoleText.words, title: title,
            formToken: peer.map { PageForm.token(for: Self.subject($0), key: formKey) }, status: status, flash: flash, context)
    }

    static func redirect(_ location: String) -> Response { PageResponse.redirect(location) }

    /// The form of a POST, its token and origin checked.
    func form(_ request: Request, _ peer: AuthenticatedPeer, limit: Int = BodyLimit.small) async throws -> PageForm {
        let buffer = try await request.body.collect(upTo: limit)
        return try PageForm.checked(
            String(buffer: buffer), fetchSite: request.headers[HTTPField.Name("Sec-Fetch-Site")!], subject: Self.subject(peer), key: formKey)
    }

    func money(_ minor: Int64) -> String { MoneyText.format(minor, currency: hub.configuration.currency) }

    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        return ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
    }

    // MARK: Routes

    func register(on router: Router<HubRequestContext>, book: RouteBook) {
        let anyone = HubRouteGroup(router, .consoleUsers, hub: hub, book: book)
        let clearing = HubRouteGroup(router, .clearing, hub: hub, book: book)
        let regulators = HubRouteGroup(router, .regulators, hub: hub, book: book)
        let operators = HubRouteGroup(router, .operators, hub: hub, book: book)

        anyone.get("/console") { _, _, peer -> Response in
            switch peer.principal.role {
            case .regulator: Self.redirect("/console/regulator")
            case .operator: Self.redirect("/console/operator")
            default: Self.redirect("/console/settlement")
            }
        }
        registerSettlement(clearing)
        registerClearing(clearing)
        registerVisitor(on: router, book: book)
        registerShopAccount(on: router, book: book)
        registerShop(on: router, book: book)
        registerCardPage(on: router, book: book)
        registerOperator(operators)
        registerRegulator(regulators)
        registerCapacity(regulators)
    }
}

/// Console paths answer errors as pages (a 403 page for a role that may not see one), everything else as problem
/// details.
struct ConsoleErrorPages: RouterMiddleware {
    typealias Context = HubRequestContext
    let pages: ConsolePages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard ErrorPage.isConsole(request.uri.path) else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch {
            let shown = ErrorPage(error, request: request, logger: context.logger, words: ConsoleText.words(ConsolePages.language(request).0))
            return pages.page("error", title: shown.heading, request: request, peer: context.peer, status: shown.status, shown.values)
        }
    }
}
