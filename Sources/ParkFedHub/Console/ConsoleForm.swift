import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain

/// A console form: its fields (`application/x-www-form-urlencoded`), checked for the signed-in principal's form
/// token before anything is done.
///
/// The console's credential is the browser's client certificate, which the browser presents on every request to the
/// hub, whoever's page asked for it; so every form that changes something carries a token only the hub's own pages
/// know (an HMAC of the principal and its certificate serial under a hub key), and the request must not come from
/// another site (`Sec-Fetch-Site`).
struct ConsoleForm: Sendable {
    let fields: [String: String]

    subscript(_ name: String) -> String? { fields[name] }

    /// Parses a form body: `+` is a space, `%XX` a byte of UTF-8.
    static func parse(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    /// The form token of `peer`.
    static func token(for peer: AuthenticatedPeer, key: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(peer.principal)|\(peer.serial)".utf8), using: key)
        return Base64URL.encode(Data(mac))
    }

    /// Checks the token and the request's origin; throws a refusal that changes nothing.
    static func checked(_ body: String, fetchSite: String?, peer: AuthenticatedPeer, key: SymmetricKey) throws -> ConsoleForm {
        if let fetchSite, !["same-origin", "none"].contains(fetchSite) {
            throw Refusal(
                .forbidden, code: "cross_site_form", title: "A form from another site", detail: "console forms are accepted from the console's own pages only")
        }
        let fields = parse(body)
        let expected = Array(token(for: peer, key: key).utf8)
        guard let given = fields["csrf"], given.utf8.count == expected.count,
            zip(given.utf8, expected).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
        else {
            throw Refusal(.forbidden, code: "invalid_form_token", title: "The form has expired", detail: "reload the page and send the form again")
        }
        return ConsoleForm(fields: fields)
    }
}
