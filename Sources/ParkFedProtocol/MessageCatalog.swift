import Foundation

/// The texts people read (gate answers, error titles, reports) in Chinese and English. They live in one table per
/// language (`MessageCatalogTexts.swift`), compiled in, so the command needs no resource files beside it; a key
/// missing from a language falls back to English, and a key missing from both to the key itself.
public enum MessageCatalog {
    public enum Language: String, Sendable, CaseIterable {
        case en, zh

        /// The best of our languages for an HTTP `Accept-Language` header (q-values honoured; English when none
        /// matches).
        public init(acceptLanguage header: String?) {
            var best: (Language, Double)?
            for item in (header ?? "").split(separator: ",") {
                let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let tag = parts.first?.lowercased() else { continue }
                let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
                let language: Language? = tag.hasPrefix("zh") ? .zh : tag.hasPrefix("en") ? .en : nil
                if let language, q > 0, q > (best?.1 ?? 0) { best = (language, q) }
            }
            self = best?.0 ?? .en
        }
    }

    static let catalogues: [Language: [String: String]] = [.en: english, .zh: chinese]

    /// The text for `key` in `language`, with `{name}` placeholders filled from `values`.
    public static func text(_ key: String, _ language: Language, _ values: [String: String] = [:]) -> String {
        let template = catalogues[language]?[key] ?? catalogues[.en]?[key] ?? key
        guard !values.isEmpty else { return template }
        // One pass over the template: each `{name}` with a value is replaced, anything else is kept as written (a
        // gate's answer says this on every scan, so no Foundation search per placeholder).
        var text = ""
        text.reserveCapacity(template.utf8.count + 16)
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            text += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}"), let value = values[String(rest[rest.index(after: open)..<close])] else {
                text.append("{")
                rest = rest[rest.index(after: open)...]
                continue
            }
            text += value
            rest = rest[rest.index(after: close)...]
        }
        text += rest
        return text
    }

    /// Whether `key` has a text (in English at least).
    public static func has(_ key: String) -> Bool { catalogues[.en]?[key] != nil }

    /// The keys of a language's catalogue (for the test that both languages say everything).
    public static func keys(_ language: Language) -> Set<String> { Set(catalogues[language]?.keys.map { $0 } ?? []) }
}
