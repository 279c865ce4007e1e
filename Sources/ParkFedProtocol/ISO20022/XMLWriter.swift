/// A minimal writer of indented XML for the payment files: elements, text and attributes escaped, in the order the
/// caller gives (ISO 20022 schemas fix the order of every element, so the builders spell it out).
public struct XMLWriter {
    private(set) var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    private var depth = 0

    public init() {}

    public static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    static func attributes(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    /// An element holding other elements, written by `body`.
    public mutating func element(_ name: String, _ attributes: [(String, String)] = [], _ body: (inout XMLWriter) -> Void) {
        text += String(repeating: "  ", count: depth) + "<\(name)\(Self.attributes(attributes))>\n"
        depth += 1
        body(&self)
        depth -= 1
        text += String(repeating: "  ", count: depth) + "</\(name)>\n"
    }

    /// An element holding text.
    public mutating func leaf(_ name: String, _ value: String, _ attributes: [(String, String)] = []) {
        text += String(repeating: "  ", count: depth) + "<\(name)\(Self.attributes(attributes))>\(Self.escape(value))</\(name)>\n"
    }

    public var document: String { text }
}
