import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain

/// A console form: its fields (`application/x-www-form-urlencoded`), checked for the signed-in user's form token
/// before anything is done.
///
/// A console's credential (the hub's client certificate, the node's session cookie) goes with every request the
/// browser makes to the server, whoever's page asked for it; so every form that changes something carries a token
/// only the server's own pages know (an HMAC of who is signed in under a server key), and the request must not come
/// from another site (`Sec-Fetch-Site`).
public struct PageForm: Sendable {
    public let fields: [String: String]
    /// Every value of each field, in order (a field sent more than once: checkboxes of one name).
    public let all: [String: [String]]

    public subscript(_ name: String) -> String? { fields[name] }

    /// Every value sent for `name` (none: empty).
    public func values(_ name: String) -> [String] { all[name] ?? [] }

    /// Parses a form body: `+` is a space, `%XX` a byte of UTF-8. A field sent more than once keeps its last value.
    public static func parse(_ body: String) -> [String: String] { parseAll(body).compactMapValues(\.last) }

    /// Parses a form body keeping every value of each field, in order.
    static func parseAll(_ body: String) -> [String: [String]] {
        var fields: [String: [String]] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            fields[name, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return fields
    }

    /// The form token of `subject` (who is signed in, as the server names them).
    public static func token(for subject: String, key: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(subject.utf8), using: key)
        return Base64URL.encode(Data(mac))
    }

    /// Checks the token and the request's origin; throws a refusal that changes nothing.
    public static func checked(_ body: String, fetchSite: String?, subject: String, key: SymmetricKey) throws -> PageForm {
        if let fetchSite, !["same-origin", "none"].contains(fetchSite) {
            throw Refusal(
                .forbidden, code: "cross_site_form", title: "A form from another site", detail: "console forms are accepted from the console's own pages only")
        }
        let all = parseAll(body)
        let fields = all.compactMapValues(\.last)
        let expected = Array(token(for: subject, key: key).utf8)
        guard let given = fields["csrf"], given.utf8.count == expected.count,
            zip(given.utf8, expected).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
        else {
            throw Refusal(.forbidden, code: "invalid_form_token", title: "The form has expired", detail: "reload the page and send the form again")
        }
        return PageForm(fields: fields, all: all)
    }
}

/// Money for people: `1,234.56 CNY` from integer minor units (two decimals).
public enum MoneyText {
    public static func format(_ minor: Int64, currency: String) -> String {
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
