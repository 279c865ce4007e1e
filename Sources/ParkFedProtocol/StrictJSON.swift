import Foundation

public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum StrictJSON {
    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Decodes `T` from `data`, refusing anything but a JSON object whose members, at every level, are all known.
    ///
    /// Swift's `JSONDecoder` ignores unknown members; the federation's JSON Schemas say `additionalProperties:
    /// false`, so a member we do not know is an error (a misspelt field must not be silently dropped). The known
    /// members are derived from `T` itself: the value is re-encoded and the member names compared. That verdict
    /// depends only on the input's shape (member names, where a null is, and `variant`, e.g. an assertion's type),
    /// so each shape is checked once and remembered. The shape is read from the bytes (``JSONShape``), so a shape
    /// seen before costs one scan and the decoder's parse, not a Foundation object tree as well.
    public static func decode<T: Codable>(
        _ type: T.Type, from data: Data, decoder: JSONDecoder = decoder, encoder: JSONEncoder = encoder,
        variant: (T) -> String = { _ in "" }
    ) throws(WireError) -> T {
        func object() throws(WireError) -> [String: Any] {
            guard let object = try? JSONSerialization.jsonObject(with: data, options: []) as? [String: Any] else {
                throw WireError("the body must be a JSON object")
            }
            return object
        }
        // The shape from the bytes (no object tree) when they are a well-formed object; otherwise, or when the shape
        // is new, Foundation's parse decides, as before.
        let scanned = JSONShape.scan(data)
        let parsed = scanned == nil ? try object() : nil
        do {
            let value = try decoder.decode(T.self, from: data)
            let shape = "\(T.self)|\(variant(value))|" + (scanned ?? Self.shape(of: parsed!))
            if !ShapeCache.shared.isKnownGood(shape) {
                let object = try parsed ?? object()
                let canonical = try JSONSerialization.jsonObject(with: try encoder.encode(value))
                if let unknown = firstUnknownMember(object, canonical, path: "") {
                    throw WireError("unknown or null member: \(unknown)")
                }
                ShapeCache.shared.remember(shape)
            }
            return value
        } catch let error as WireError {
            throw error
        } catch let error as DecodingError {
            throw WireError(describe(error))
        } catch {
            throw WireError("the body does not decode: \(error)")
        }
    }

    /// The structure of a JSON value without its scalar values: member names (sorted), nesting, and where a null is.
    static func shape(of value: Any) -> String {
        var out = ""
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                out += "{"
                for key in object.keys.sorted() {
                    out += "\(key.utf8.count)#"
                    out += key
                    out += ":"
                    walk(object[key]!)
                    out += ","
                }
                out += "}"
            } else if let array = value as? [Any] {
                out += "["
                for element in array { walk(element); out += "," }
                out += "]"
            } else if value is NSNull {
                out += "null"
            } else {
                out += "v"
            }
        }
        walk(value)
        return out
    }

    /// The first member name present in `original` but not in `canonical` (its re-encoding), as a path.
    static func firstUnknownMember(_ original: Any, _ canonical: Any, path: String) -> String? {
        if let object = original as? [String: Any] {
            let known = canonical as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let child = path.isEmpty ? key : path + "." + key
                guard let counterpart = known[key] else { return child }
                if let found = firstUnknownMember(object[key]!, counterpart, path: child) { return found }
            }
        } else if let array = original as? [Any] {
            let known = canonical as? [Any] ?? []
            for (index, element) in array.enumerated() where index < known.count {
                if let found = firstUnknownMember(element, known[index], path: "\(path)[\(index)]") { return found }
            }
        }
        return nil
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "body" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let prefix = path(context)
            return "missing member \(prefix == "body" ? key.stringValue : prefix + "." + key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)) has the wrong type"
        case .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "the body does not decode"
        }
    }
}

/// JSON shapes that passed the strict member check.
final class ShapeCache: @unchecked Sendable {
    static let shared = ShapeCache()
    private let lock = NSLock()
    private var good: Set<String> = []

    func isKnownGood(_ shape: String) -> Bool { lock.withLock { good.contains(shape) } }

    func remember(_ shape: String) {
        lock.withLock {
            if good.count > 4096 { good.removeAll() }
            good.insert(shape)
        }
    }
}
