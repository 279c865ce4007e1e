import Foundation

/// `GET /v1/revenue` (hub: a park's own; node: operator devices): a park's money at this moment — its sales today,
/// what it owes and is owed in the days not yet settled (entries of its passes at other parks, entries of other parks'
/// passes at its gates, card spends, refunds…), and the position it would have if the next settlement ran now.
public struct ParkRevenue: Codable, Sendable, Hashable {
    public struct Sales: Codable, Sendable, Hashable {
        public var passes: Int
        public var amountMinor: Int64
        public init(passes: Int, amountMinor: Int64) {
            self.passes = passes
            self.amountMinor = amountMinor
        }
        enum CodingKeys: String, CodingKey {
            case passes
            case amountMinor = "amount_minor"
        }
    }

    /// Open obligations of one reason in one direction.
    public struct Line: Codable, Sendable, Hashable {
        public var reason: String
        public var count: Int
        public var amountMinor: Int64
        /// Hub fees on these (paid by the receiver).
        public var feeMinor: Int64
        public init(reason: String, count: Int, amountMinor: Int64, feeMinor: Int64) {
            self.reason = reason
            self.count = count
            self.amountMinor = amountMinor
            self.feeMinor = feeMinor
        }
        enum CodingKeys: String, CodingKey {
            case reason, count
            case amountMinor = "amount_minor"
            case feeMinor = "fee_minor"
        }
    }

    public var park: String
    public var day: String
    public var currency: String
    public var salesToday: Sales
    public var owedByUs: [Line]
    public var owedToUs: [Line]
    /// The last business day already settled (open days start after it).
    public var settledThrough: String?
    /// Received minus paid minus fees over the open days: what the next settlement would give (positive) or take.
    public var nextPositionMinor: Int64

    public init(
        park: String, day: String, currency: String, salesToday: Sales, owedByUs: [Line], owedToUs: [Line], settledThrough: String?,
        nextPositionMinor: Int64
    ) {
        self.park = park
        self.day = day
        self.currency = currency
        self.salesToday = salesToday
        self.owedByUs = owedByUs
        self.owedToUs = owedToUs
        self.settledThrough = settledThrough
        self.nextPositionMinor = nextPositionMinor
    }

    enum CodingKeys: String, CodingKey {
        case park, day, currency
        case salesToday = "sales_today"
        case owedByUs = "owed_by_us"
        case owedToUs = "owed_to_us"
        case settledThrough = "settled_through"
        case nextPositionMinor = "next_position_minor"
    }
}
