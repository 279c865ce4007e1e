import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParkFedProtocol

/// The HTML answer of a console page, and the language a request asks for.
public enum PageResponse {
    /// The language of this request (`?lang=`, then the `lang` cookie, then `Accept-Language`), and whether the
    /// request chose it (then it is kept in a cookie).
    public static func language(_ request: Request) -> (MessageCatalog.Language, chosen: Bool) {
        if let asked = request.uri.queryParameters["lang"].flatMap({ MessageCatalog.Language(rawValue: String($0)) }) { return (asked, true) }
        if let kept = cookie("lang", request).flatMap(MessageCatalog.Language.init(rawValue:)) { return (kept, false) }
        return (MessageCatalog.Language(acceptLanguage: request.headers[.acceptLanguage]), false)
    }

    /// A cookie's value.
    public static func cookie(_ name: String, _ request: Request) -> String? {
        for cookie in (request.headers[.cookie] ?? "").split(separator: ";") {
            let parts = cookie.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0] == name { return parts[1] }
        }
        return nil
    }

    /// An HTML page: no caching, no framing, no outside resources, the language kept when chosen.
    public static func html(_ body: String, status: HTTPResponse.Status = .ok, language: MessageCatalog.Language, keepLanguage: Bool, cookies: [String] = [])
        -> Response
    {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .contentLanguage: language.rawValue,
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
            .xContentTypeOptions: "nosniff", HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        var setCookies = cookies
        if keepLanguage { setCookies.append("lang=\(language.rawValue); Path=/console; Secure; HttpOnly; SameSite=Strict; Max-Age=31536000") }
        for cookie in setCookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A console page: `template` drawn with `values` and what every page has (the words of the request's language as
    /// `t`, `lang`, `title`, the form token as `csrf`, an optional notice as `flash`), or a 503 when the templates are
    /// missing.
    public static func page(
        _ templates: Result<PageTemplates, PageError>, _ template: String, request: Request, words: (MessageCatalog.Language) -> [String: String],
        title: String, formToken: String?, status: HTTPResponse.Status, flash: (text: String, kind: String)?, _ values: [String: Any]
    ) -> Response {
        let loaded: PageTemplates
        switch templates {
        case .success(let found): loaded = found
        case .failure(let error): return unavailable(error)
        }
        let (language, chosen) = self.language(request)
        let text = words(language)
        var context = values
        context["t"] = text
        context["lang"] = language.rawValue
        context["title"] = text[title] ?? title
        if let formToken { context["csrf"] = formToken }
        if let flash { context["flash"] = ["text": flash.text, "kind": flash.kind] }
        return html(loaded.render(template, context), status: status, language: language, keepLanguage: chosen)
    }

    /// A page that cannot be drawn (templates missing): plain text that says so.
    public static func unavailable(_ error: PageError) -> Response {
        Response(
            status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "The console is not available: \(error.message)\n")))
    }

    public static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// `words[key]` with `{name}` placeholders filled.
    public static func format(_ words: [String: String], _ key: String, _ values: [String: String] = [:]) -> String {
        var text = words[key] ?? key
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }
}

/// What a console's error page shows for a thrown error: the problem it stands for (``ProblemDetails/init(_:)``,
/// or `mapped` when the console maps its own errors first), in the request's language, a 403 or 404 headed by the
/// console's own words (`forbidden`, `notFound`).
public struct ErrorPage {
    public let status: HTTPResponse.Status
    public let heading: String
    /// The `error` template's values.
    public let values: [String: Any]

    public init(_ error: any Error, request: Request, logger: Logger, words: [String: String], mapped: ProblemDetails? = nil) {
        let problem = mapped ?? ProblemDetails(error) ?? .unhandled(error, path: request.uri.path, logger: logger)
        let localized = problem.localized(PageResponse.language(request).0)
        status = HTTPResponse.Status(code: problem.status)
        heading = problem.status == 403 ? words["forbidden"] ?? localized.title : problem.status == 404 ? words["notFound"] ?? localized.title : localized.title
        values = ["status": problem.status, "heading": heading, "detail": localized.detail ?? localized.title, "code": problem.code]
    }

    /// Whether `path` is a console page (errors there are pages, elsewhere problem details).
    public static func isConsole(_ path: String) -> Bool { path == "/console" || path.hasPrefix("/console/") }
}
