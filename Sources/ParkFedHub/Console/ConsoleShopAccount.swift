import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol
import ParkFedStore

/// The visitors' own pages at the hub's public side (`/shop/account…`): sign-up with an e-mail address or a phone
/// number and the code sent to it, the terms and the privacy policy accepted, sign-in with a code or a password, the
/// account's holders, sign-out and deletion. No client certificate: the session cookie (`pf_visitor`, HttpOnly,
/// Secure, SameSite=Lax, path `/shop`) is the credential, kept at the hub only as its hash; every form carries a
/// token and must come from the shop's own pages. A refused form is the same page again with the reason, in the
/// visitor's language; nothing is changed by it. Works on a phone with no script.
extension ConsolePages {
    static let visitorCookie = "pf_visitor"

    func registerShopAccount(on router: Router<HubRequestContext>, book: RouteBook) {
        let shop = router.group("shop").add(middleware: VisitorLimitMiddleware(limiter: hub.visitorLimiter, metrics: hub.metrics))
        for (method, path) in [
            (HTTPRequest.Method.get, "/shop/account"), (.get, "/shop/account/sign-up"), (.get, "/shop/account/sign-in"), (.post, "/shop/account/code"),
            (.post, "/shop/account/sign-up"), (.post, "/shop/account/sign-in"), (.post, "/shop/account/holders"), (.post, "/shop/account/sign-out"),
            (.post, "/shop/account/delete"), (.get, "/shop/terms"), (.get, "/shop/privacy"),
        ] {
            book.add(method, path, .visitorSession)
        }

        shop.get("account") { request, _ -> Response in
            guard let (account, token) = try await signedIn(request) else { return PageResponse.redirect("/shop/account/sign-in" + Self.langQuery(request)) }
            return try await accountPage(request, account: account, token: token, flash: nil)
        }
        shop.get("account/sign-up") { request, _ -> Response in shopPage("shop-signup", title: "shopSignUp", request: request, subject: Self.anonymous) }
        shop.get("account/sign-in") { request, _ -> Response in shopPage("shop-signin", title: "shopSignIn", request: request, subject: Self.anonymous) }
        shop.get("terms") { request, _ -> Response in
            shopPage("shop-policy", title: "shopTerms", request: request, subject: Self.anonymous, ["version": Hub.termsVersion, "terms": [true]])
        }
        shop.get("privacy") { request, _ -> Response in
            shopPage("shop-policy", title: "shopPrivacy", request: request, subject: Self.anonymous, ["version": Hub.privacyVersion, "privacy": [true]])
        }
        // A code to the contact, then the page that takes it.
        shop.post("account/code") { request, _ -> Response in
            let form = try await shopForm(request, subject: Self.anonymous)
            let purpose = form["purpose"] == "signin" ? "signin" : "signup"
            let contact = form["contact"] ?? ""
            let back = purpose == "signin" ? "shop-signin" : "shop-signup"
            do {
                try await hub.sendVisitorCode(to: contact, purpose: purpose, language: Self.language(request).0)
            } catch let refusal as Refusal {
                return shopPage(
                    back, title: purpose == "signin" ? "shopSignIn" : "shopSignUp", request: request, subject: Self.anonymous, refusal: refusal,
                    ["contact": contact])
            }
            return shopPage(
                "shop-verify", title: purpose == "signin" ? "shopSignIn" : "shopSignUp", request: request, subject: Self.anonymous,
                ["contact": contact, purpose == "signin" ? "signin" : "signup": [true]])
        }
        shop.post("account/sign-up") { request, _ -> Response in
            let form = try await shopForm(request, subject: Self.anonymous)
            let contact = form["contact"] ?? ""
            let password = form["password"].flatMap { $0.isEmpty ? nil : $0 }
            do {
                let (_, token) = try await hub.signUpVisitor(
                    contact: contact, code: form["code"] ?? "", acceptTerms: form["terms"] == "yes", acceptPrivacy: form["privacy"] == "yes",
                    password: password)
                return PageResponse.redirect("/shop/account" + Self.langQuery(request), cookies: [Self.sessionCookie(token)])
            } catch let refusal as Refusal {
                return shopPage(
                    "shop-verify", title: "shopSignUp", request: request, subject: Self.anonymous, refusal: refusal, ["contact": contact, "signup": [true]])
            }
        }
        shop.post("account/sign-in") { request, _ -> Response in
            let form = try await shopForm(request, subject: Self.anonymous)
            let contact = form["contact"] ?? ""
            let code = form["code"].flatMap { $0.isEmpty ? nil : $0 }
            do {
                let (_, token) = try await hub.signInVisitor(contact: contact, code: code, password: code == nil ? form["password"] : nil)
                return PageResponse.redirect("/shop/account" + Self.langQuery(request), cookies: [Self.sessionCookie(token)])
            } catch let refusal as Refusal {
                return shopPage(
                    code == nil ? "shop-signin" : "shop-verify", title: "shopSignIn", request: request, subject: Self.anonymous, refusal: refusal,
                    ["contact": contact, "signin": [true]])
            }
        }
        shop.post("account/holders") { request, _ -> Response in
            guard let (account, token) = try await signedIn(request) else { return PageResponse.redirect("/shop/account/sign-in") }
            let form = try await shopForm(request, subject: Self.visitorSubject(token))
            do {
                _ = try await hub.addVisitorHolder(
                    account: account.id, HolderInput(name: form["name"] ?? "", idType: form["id_type"] ?? "", idNumber: form["id_number"] ?? ""))
            } catch let refusal as Refusal {
                return try await accountPage(
                    request, account: account, token: token, flash: (Self.reason(refusal, request), "bad"),
                    status: HTTPResponse.Status(code: ProblemDetails(refusal).status))
            }
            return PageResponse.redirect("/shop/account" + Self.langQuery(request))
        }
        shop.post("account/sign-out") { request, _ -> Response in
            if let (_, token) = try await signedIn(request) {
                _ = try await shopForm(request, subject: Self.visitorSubject(token))
                try await hub.signOutVisitor(session: token)
            }
            return PageResponse.redirect("/shop/account/sign-in" + Self.langQuery(request), cookies: [Self.sessionCookie(nil)])
        }
        shop.post("account/delete") { request, _ -> Response in
            guard let (account, token) = try await signedIn(request) else { return PageResponse.redirect("/shop/account/sign-in") }
            let form = try await shopForm(request, subject: Self.visitorSubject(token))
            guard form["confirm"] == "yes" else {
                let words = ConsoleText.words(Self.language(request).0)
                return try await accountPage(request, account: account, token: token, flash: (words["shopConfirmDelete"]!, "bad"), status: .badRequest)
            }
            try await hub.deleteVisitorAccount(account.id)
            return PageResponse.redirect(
                "/shop/account/sign-up" + Self.langQuery(request) + (Self.langQuery(request).isEmpty ? "?" : "&") + "deleted=1",
                cookies: [Self.sessionCookie(nil)])
        }
    }

    static let anonymous = "shop:anonymous"
    static func visitorSubject(_ token: String) -> String { "shop:" + Hub.sessionHash(token) }

    static func sessionCookie(_ token: String?) -> String {
        guard let token else { return "\(visitorCookie)=; Path=/shop; Secure; HttpOnly; SameSite=Lax; Max-Age=0" }
        return "\(visitorCookie)=\(token); Path=/shop; Secure; HttpOnly; SameSite=Lax; Max-Age=\(Int(Hub.sessionLifetime))"
    }

    static func langQuery(_ request: Request) -> String {
        let (language, chosen) = language(request)
        return chosen ? "?lang=\(language.rawValue)" : ""
    }

    static func reason(_ refusal: Refusal, _ request: Request) -> String {
        let localized = ProblemDetails(refusal).localized(language(request).0)
        return [localized.title, localized.detail].compactMap { $0 }.joined(separator: ": ")
    }

    /// The signed-in visitor's account and session token, if the request carries a live session.
    func signedIn(_ request: Request) async throws -> (VisitorAccountRecord, String)? {
        guard let token = PageResponse.cookie(Self.visitorCookie, request), let account = try await hub.visitorAccount(session: token) else { return nil }
        return (account, token)
    }

    func accountPage(
        _ request: Request, account: VisitorAccountRecord, token: String, flash: (String, String)?, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let holders = try await hub.store.visitorHolders(account.id).map { ["name": $0.nameMasked, "document": $0.idMasked, "type": $0.idType] }
        let words = ConsoleText.words(Self.language(request).0)
        let orders = try await hub.store.shopOrders(account: account.id).map {
            [
                "id": $0.id, "product": hub.passes.product($0.product)?.name ?? $0.product,
                "amount": MoneyText.format($0.amountMinor, currency: $0.currency), "status": words["shopOrder_\($0.status)"] ?? $0.status,
                "at": Self.time($0.createdAt),
            ]
        }
        return shopPage(
            "shop-account", title: "shopAccount", request: request, subject: Self.visitorSubject(token), flash: flash, status: status,
            [
                "orders": orders, "contact": account.contactMasked, "consented": Self.time(account.consentedAt), "termsVersion": account.termsVersion,
                "privacyVersion": account.privacyVersion, "holders": holders,
                "password": words[account.passwordHash != nil ? "shopPasswordSet" : "shopPasswordNone"]!,
                "documentTypes": [
                    ["value": "resident_id", "label": words["residentID"]!], ["value": "passport", "label": words["passport"]!],
                    ["value": "hk_macau_permit", "label": words["shopHKMacau"]!], ["value": "taiwan_permit", "label": words["shopTaiwan"]!],
                ],
            ])
    }

    /// A form of the shop, checked (token, same site), or a 403 page.
    func shopForm(_ request: Request, subject: String) async throws -> PageForm {
        let body = try await request.body.collect(upTo: 16 * 1024)
        return try PageForm.checked(
            String(buffer: body), fetchSite: request.headers[HTTPField.Name("Sec-Fetch-Site")!], subject: subject, key: formKey)
    }

    /// A shop page (never cached, no referrer, not indexed), with a refusal's reason shown on it.
    func shopPage(
        _ template: String, title: String, request: Request, subject: String, refusal: Refusal? = nil, flash: (String, String)? = nil,
        status: HTTPResponse.Status = .ok, _ values: [String: Any] = [:]
    ) -> Response {
        var context = values
        context["langQuery"] = Self.langQuery(request)
        context["nav"] = [[String: String]]()
        context["principal"] = ""
        context["shop"] = [true]
        if request.uri.queryParameters["deleted"] != nil { context["deleted"] = [true] }
        let notice = refusal.map { (Self.reason($0, request), "bad") } ?? flash
        var response = PageResponse.page(
            templates, template, request: request, words: ConsoleText.words, title: title, formToken: PageForm.token(for: subject, key: formKey),
            status: refusal.map { HTTPResponse.Status(code: ProblemDetails($0).status) } ?? status, flash: notice, context)
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Robots-Tag")!] = "noindex"
        return response
    }
}
