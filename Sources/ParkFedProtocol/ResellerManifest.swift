import Foundation
import ParkFedDomain

/// `partners/resellers.json`: the resellers the operator admitted (online travel agencies, mini-program
/// platforms), the products each may sell, and its retail and net rates per product and category, per head.
///
/// A reseller is a settlement participant beside the parks, with an id of the same form (`TRIPGO`) that no park
/// may also have; it speaks as `reseller:<id>` with an API key (or a federation certificate).
public struct ResellerManifest: Codable, Sendable, Hashable {
    public struct Rate: Codable, Sendable, Hashable {
        public var product: String
        /// `full` (the default) or one of the product's categories.
        public var category: String?
        public var retailMinor: Int64
        public var netMinor: Int64

        enum CodingKeys: String, CodingKey {
            case product, category
            case retailMinor = "retail_minor"
            case netMinor = "net_minor"
        }
    }

    public struct Reseller: Codable, Sendable, Hashable {
        public var id: ParkID
        public var name: String
        /// Where `booking_update` webhooks go: `https://…`, or `http://127.0.0.1…` for a reseller's test bench.
        public var webhookURL: String?
        public var bank: BankAccount?
        public var rates: [Rate]

        enum CodingKeys: String, CodingKey {
            case id, name, bank, rates
            case webhookURL = "webhook_url"
        }
    }

    public var resellers: [Reseller]

    /// Decodes and checks the file against the catalogue's products and the federation's park ids: ids unique and
    /// not a park's, names 1-200 characters, webhook addresses HTTPS (plain HTTP only to loopback), each rate's
    /// product and category known, net at most retail (per head), and the net allocable to the parks exactly
    /// (``ComboProduct/atNet(_:)``; a group's at its smallest size).
    public static func load(_ data: Data, products: [String: ComboProduct], parks: Set<ParkID>) throws -> [ResellerManifest.Reseller] {
        let manifest: ResellerManifest
        do { manifest = try StrictJSON.decode(ResellerManifest.self, from: data) } catch { throw WireError("resellers.json: \(error)") }
        guard Set(manifest.resellers.map(\.id)).count == manifest.resellers.count else { throw WireError("resellers.json: a reseller id is listed twice") }
        for reseller in manifest.resellers {
            let at = "resellers.json \(reseller.id)"
            guard !parks.contains(reseller.id) else { throw WireError("\(at): the id is a park's; a reseller's id is its own") }
            let name = reseller.name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...200).contains(name.count) else { throw WireError("\(at): a name is 1-200 characters") }
            if let url = reseller.webhookURL { try Self.checkWebhook(url, at) }
            try reseller.bank?.validate("\(at) bank")
            var seen = Set<String>()
            for rate in reseller.rates {
                let category = rate.category ?? TicketCategory.fullID
                guard seen.insert("\(rate.product)/\(category)").inserted else { throw WireError("\(at): \(rate.product)/\(category) is rated twice") }
                guard let product = products[rate.product] else { throw WireError("\(at): no product \(rate.product) in the catalogue") }
                do {
                    _ = try ResellerRate(product: rate.product, category: category, retailMinor: rate.retailMinor, netMinor: rate.netMinor)
                    // A group's rate is per head: checked at the group's smallest size.
                    let heads = product.categories.first { $0.id == category }?.minimumHeads ?? 1
                    let variant = try product.variant(category: category, heads: heads)
                    _ = try variant.atNet(rate.netMinor * Int64(heads))
                } catch {
                    throw WireError("\(at) \(rate.product)/\(category): \(error.message)")
                }
            }
        }
        return manifest.resellers
    }

    /// A webhook address: HTTPS anywhere, plain HTTP only to this machine (a reseller's own test bench).
    public static func checkWebhook(_ text: String, _ at: String) throws(WireError) {
        guard let url = URL(string: text), let scheme = url.scheme, let host = url.host, !host.isEmpty, text.count <= 500 else {
            throw WireError("\(at): webhook_url is not an absolute URL")
        }
        guard scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host)) else {
            throw WireError("\(at): webhook_url is https (plain http only to 127.0.0.1)")
        }
    }
}

extension ResellerManifest.Reseller {
    /// The rates as the domain holds them, by product and category.
    public func domainRates() throws(DomainError) -> [String: ResellerRate] {
        var rates: [String: ResellerRate] = [:]
        for rate in self.rates {
            let category = rate.category ?? TicketCategory.fullID
            rates["\(rate.product)/\(category)"] = try ResellerRate(
                product: rate.product, category: category, retailMinor: rate.retailMinor, netMinor: rate.netMinor)
        }
        return rates
    }
}
