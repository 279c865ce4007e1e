/// An ISO 4217 currency code such as `CNY`.
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible {
    public let code: String

    public static let cny = Currency(unchecked: "CNY")

    private init(unchecked code: String) { self.code = code }

    /// Validates a three-letter upper-case code.
    public init(_ code: String) throws(DomainError) {
        guard code.unicodeScalars.count == 3, code.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw DomainError(.invalidCurrency, "currency must be a three-letter ISO 4217 code: \(code.debugDescription)")
        }
        self.code = code
    }

    public var description: String { code }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let code = try container.decode(String.self)
        do { try self.init(code) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}

/// An amount of money in integer minor units (fen for CNY). Never floating point.
///
/// Arithmetic traps on overflow rather than wrapping; amounts of different currencies never mix.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency = .cny) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: Currency = .cny) -> Money { Money(minorUnits: 0, currency: currency) }

    public func adding(_ other: Money) throws(DomainError) -> Money {
        guard other.currency == currency else {
            throw DomainError(.currencyMismatch, "cannot add \(other.currency) to \(currency)")
        }
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw DomainError(.overflow, "amount overflows") }
        return Money(minorUnits: sum, currency: currency)
    }

    public func subtracting(_ other: Money) throws(DomainError) -> Money {
        guard other.currency == currency else {
            throw DomainError(.currencyMismatch, "cannot subtract \(other.currency) from \(currency)")
        }
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        guard !overflow else { throw DomainError(.overflow, "amount overflows") }
        return Money(minorUnits: difference, currency: currency)
    }

    /// Splits this amount in proportion to `weights` by the largest-remainder method.
    ///
    /// Each part first gets `floor(amount × weight / total)`; the units left over go one each to the parts with
    /// the largest remainders, ties to the earlier part. The parts always add up to exactly this amount.
    /// Negative amounts are split by their magnitude and negated.
    public func split(weights: [Int64]) throws(DomainError) -> [Money] {
        guard !weights.isEmpty else { throw DomainError(.invalidSplit, "a split needs at least one weight") }
        guard weights.allSatisfy({ $0 >= 0 }) else { throw DomainError(.invalidSplit, "split weights must not be negative") }
        let total = weights.reduce(Int64(0)) { partial, weight in
            let (sum, overflow) = partial.addingReportingOverflow(weight)
            return overflow ? Int64.max : sum
        }
        guard total > 0, total < Int64.max else { throw DomainError(.invalidSplit, "split weights must add up to a positive total") }
        guard minorUnits != Int64.min else { throw DomainError(.overflow, "amount overflows") }
        let magnitude = minorUnits.magnitude
        var parts: [UInt64] = []
        var remainders: [(index: Int, remainder: UInt64)] = []
        for (index, weight) in weights.enumerated() {
            // 128-bit product so that large amounts and weights cannot overflow.
            let product = magnitude.multipliedFullWidth(by: UInt64(weight))
            let (quotient, remainder) = UInt64(total).dividingFullWidth(product)
            parts.append(quotient)
            remainders.append((index, remainder))
        }
        var leftover = magnitude - parts.reduce(0, +)
        precondition(leftover < UInt64(weights.count), "largest remainder: leftover must be below the part count")
        for entry in remainders.sorted(by: { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }) {
            guard leftover > 0 else { break }
            parts[entry.index] += 1
            leftover -= 1
        }
        let sign: Int64 = minorUnits < 0 ? -1 : 1
        let result = parts.map { Money(minorUnits: sign * Int64($0), currency: currency) }
        assert(result.reduce(Int64(0)) { $0 + $1.minorUnits } == minorUnits, "split parts must add up to the whole")
        return result
    }

    /// `12.34 CNY` for 1234 fen: two decimal places, the usual minor unit of CNY.
    public var description: String {
        let sign = minorUnits < 0 ? "-" : ""
        let magnitude = minorUnits.magnitude
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents) \(currency.code)"
    }
}
