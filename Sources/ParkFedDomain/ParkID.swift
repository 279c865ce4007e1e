/// The identifier of a park in the federation, such as `P001`.
///
/// Park ids appear in certificates (`urn:parkfed:park:P001`), in assertions and in file names, so they are
/// restricted to 2–32 characters of `A–Z`, `0–9`, `-` and `_`, starting with a letter.
public struct ParkID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// Validates `rawValue`; throws ``DomainError`` with code `invalid_park_id` when it is not a park id.
    public init(_ rawValue: String) throws(DomainError) {
        guard Self.isValid(rawValue) else {
            throw DomainError(.invalidParkID, "park id must be 2-32 characters of A-Z, 0-9, '-' or '_', starting with a letter: \(rawValue.debugDescription)")
        }
        self.rawValue = rawValue
    }

    public static func isValid(_ value: String) -> Bool {
        let scalars = Array(value.unicodeScalars)
        guard (2...32).contains(scalars.count), let first = scalars.first, ("A"..."Z").contains(first) else { return false }
        return scalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }

    public var description: String { rawValue }

    public static func < (lhs: ParkID, rhs: ParkID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(String.self)
        do { try self.init(value) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
