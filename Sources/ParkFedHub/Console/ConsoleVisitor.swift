import Foundation
import HTTPTypes
import Hummingbird
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol
import ParkFedQR

/// The visitor's page of a pass (`/p/<token>`): no client certificate, limited per source address, never cached,
/// never sending its address on as a referrer. An unknown token gets the same small page whatever it is, so a
/// guessed token learns nothing.
extension ConsolePages {
    func registerVisitor(on router: Router<HubRequestContext>, book: RouteBook) {
        book.add(.get, "/p/:token", .visitorToken)
        router.group().add(middleware: VisitorLimitMiddleware(limiter: hub.visitorLimiter, metrics: hub.metrics))
            .get("/p/:token") { request, context -> Response in
                let token = context.parameters.get("token") ?? ""
                let words = ConsoleText.words(Self.language(request).0)
                var values: [String: Any] = [:]
                var status = HTTPResponse.Status.ok
                if let pass = try await hub.visitorPass(token: token) {
                    values = visitorValues(pass, words)
                    values["found"] = [true]
                } else {
                    status = .notFound
                }
                return visitorPage("pass", request: request, title: values["found"] == nil ? "passNotFound" : "passTitle", status: status, values)
            }
    }

    /// A card holder's balance page: the link carries the card's own cryptogram and opens once.
    func registerCardPage(on router: Router<HubRequestContext>, book: RouteBook) {
        book.add(.get, "/c/:card/:counter/:proof", .cardProof)
        router.group().add(middleware: VisitorLimitMiddleware(limiter: hub.visitorLimiter, metrics: hub.metrics))
            .get("/c/:card/:counter/:proof") { request, context -> Response in
                let words = ConsoleText.words(Self.language(request).0)
                var values: [String: Any] = [:]
                var status = HTTPResponse.Status.ok
                if let page = try await hub.cardPage(
                    cardID: context.parameters.get("card") ?? "", counter: context.parameters.get("counter") ?? "",
                    cryptogram: context.parameters.get("proof") ?? "")
                {
                    values["found"] = [true]
                    values["cardID"] = page.cardID
                    if page.state == .shown {
                        values["shown"] = [true]
                        let money = { (minor: Int64) in MoneyText.format(minor, currency: page.currency) }
                        values["available"] = money(page.availableMinor)
                        values["principal"] = money(page.principalMinor)
                        values["bonus"] = money(page.bonusMinor)
                        values["held"] = money(page.heldMinor)
                        values["cardState"] = words["card_" + page.status] ?? page.status
                    }
                } else {
                    status = .notFound
                }
                return visitorPage("card", request: request, title: values["found"] == nil ? "cardNotFound" : "cardTitle", status: status, values)
            }
    }

    /// A visitor's own page: never cached, never sent on as a referrer, not indexed.
    func visitorPage(_ template: String, request: Request, title: String, status: HTTPResponse.Status, _ values: [String: Any]) -> Response {
        var response = PageResponse.page(
            templates, template, request: request, words: ConsoleText.words, title: title, formToken: nil, status: status, flash: nil, values)
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Robots-Tag")!] = "noindex"
        return response
    }

    func visitorValues(_ pass: Hub.VisitorPass, _ words: [String: String]) -> [String: Any] {
        var values: [String: Any] = [
            "productName": pass.productName, "state": pass.state.rawValue, "stateLabel": words["pass_" + pass.state.rawValue] ?? pass.state.rawValue,
            "holder": pass.holderMasked,
            "parks": pass.parks.map { ["park": $0.park, "name": $0.name, "left": $0.entriesLeft, "allowed": $0.entriesAllowed] },
        ]
        if let category = pass.category { values["category"] = [category] }
        if pass.heads > 1 { values["heads"] = [pass.heads] }
        if let slot = pass.slot { values["slot"] = ["\(slot.id) \(TimeSlot.clock(slot.startMinute))–\(TimeSlot.clock(slot.endMinute))"] }
        if let activated = pass.activatedOn {
            values["validity"] = PageResponse.format(words, "activatedUntil", ["from": activated.description, "until": pass.usableUntil.description])
        } else if let days = pass.daysFromFirstUse {
            values["validity"] = PageResponse.format(words, "startsOnFirstEntry", ["days": String(days), "until": pass.validUntil.description])
        } else {
            values["validity"] = PageResponse.format(words, "validFromTo", ["from": pass.validFrom.description, "until": pass.validUntil.description])
        }
        if let code = pass.code, let qr = try? QRCode(text: code) {
            values["code"] = [true]
            values["svg"] = QRImage.svg(qr, moduleSize: 6).replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", with: "")
        } else {
            values["noCodeText"] = words["noCode_" + pass.state.rawValue] ?? ""
        }
        return values
    }
}

/// Visitor pages are limited per source address before anything is looked up, as enrollment is.
struct VisitorLimitMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let limiter: RateLimiter
    let metrics: HubMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let wait = limiter.take("visitor:" + context.sourceAddress) {
            return RateLimiter.refusal(wait: wait, title: "Too many requests", detail: "retry after the time in Retry-After")
        }
        return try await next(request, context)
    }
}
