import Foundation

/// `POST /v1/stock/batches` (node; operator devices): N pre-printed codes of a product (and category) for paper
/// tickets, signed by the park, unique, inactive until sold. `date`: the first day of their validity (default today).
public struct StockOrder: Codable, Sendable {
    public var product: String
    public var category: String?
    public var count: Int
    public var date: String?

    public init(product: String, category: String? = nil, count: Int, date: String? = nil) {
        self.product = product
        self.category = category
        self.count = count
        self.date = date
    }
}

/// A printed batch: its id, its serial numbers, and where the printer's CSV is.
public struct StockBatch: Codable, Sendable, Hashable {
    public var batch: String
    public var product: String
    public var category: String?
    public var count: Int
    public var firstSerial: String
    public var lastSerial: String
    public var validFrom: String
    public var validUntil: String
    /// The printer's file: `serial,pass_id,product,category,valid_from,valid_until,code`, one line a code.
    public var csv: String

    public init(
        batch: String, product: String, category: String?, count: Int, firstSerial: String, lastSerial: String, validFrom: String,
        validUntil: String, csv: String
    ) {
        self.batch = batch
        self.product = product
        self.category = category
        self.count = count
        self.firstSerial = firstSerial
        self.lastSerial = lastSerial
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.csv = csv
    }

    enum CodingKeys: String, CodingKey {
        case batch, product, category, count, csv
        case firstSerial = "first_serial"
        case lastSerial = "last_serial"
        case validFrom = "valid_from"
        case validUntil = "valid_until"
    }
}

/// `POST /v1/stock/{serial}/sale` (node; window devices): a printed ticket sold to a real-name holder, which
/// activates its code.
public struct StockSaleRequest: Codable, Sendable {
    public var channel: String
    public var holder: HolderInput

    public init(channel: String, holder: HolderInput) {
        self.channel = channel
        self.holder = holder
    }
}

/// `POST /v1/stock/{serial}/void` (node; operator devices): an unsold printed ticket taken out of use.
public struct StockVoidRequest: Codable, Sendable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}
