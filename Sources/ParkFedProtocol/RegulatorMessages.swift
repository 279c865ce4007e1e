import Foundation

/// `GET /v1/regulator/holders?id_type=&id_number=&from=&to=` (regulators only): every purchase and entry of one
/// identity document in a date range, with park and time. The document number is answered masked.
public struct RegulatorHolderReport: Codable, Sendable, Hashable {
    public struct Purchase: Codable, Sendable, Hashable {
        public var passID: String
        public var park: String
        public var generation: Int
        public var recordedAt: Date
        public var holderNameMasked: String
        public init(passID: String, park: String, generation: Int, recordedAt: Date, holderNameMasked: String) {
            self.passID = passID
            self.park = park
            self.generation = generation
            self.recordedAt = recordedAt
            self.holderNameMasked = holderNameMasked
        }
        enum CodingKeys: String, CodingKey {
            case park, generation
            case passID = "pass_id"
            case recordedAt = "recorded_at"
            case holderNameMasked = "holder_name_masked"
        }
    }
    public struct Entry: Codable, Sendable, Hashable {
        public var passID: String
        public var park: String
        public var enteredAt: Date
        /// False for an offline entry the hub reported as a conflict.
        public var counted: Bool
        public init(passID: String, park: String, enteredAt: Date, counted: Bool) {
            self.passID = passID
            self.park = park
            self.enteredAt = enteredAt
            self.counted = counted
        }
        enum CodingKeys: String, CodingKey {
            case park, counted
            case passID = "pass_id"
            case enteredAt = "entered_at"
        }
    }
    public var idType: String
    public var idNumberMasked: String
    public var from: String
    public var to: String
    public var purchases: [Purchase]
    public var entries: [Entry]
    /// Products sold without real name: their passes carry no holder, so no lookup by document can find them (the
    /// answer says so rather than implying the holder made no such visit).
    public var anonymousProducts: [String]
    public var note: String?

    public init(
        idType: String, idNumberMasked: String, from: String, to: String, purchases: [Purchase], entries: [Entry], anonymousProducts: [String] = []
    ) {
        self.anonymousProducts = anonymousProducts
        self.note =
            anonymousProducts.isEmpty
            ? nil : "passes of \(anonymousProducts.joined(separator: ", ")) are sold without real name and carry no holder: they are not in this answer"
        self.idType = idType
        self.idNumberMasked = idNumberMasked
        self.from = from
        self.to = to
        self.purchases = purchases
        self.entries = entries
    }

    enum CodingKeys: String, CodingKey {
        case from, to, purchases, entries, note
        case idType = "id_type"
        case idNumberMasked = "id_number_masked"
        case anonymousProducts = "anonymous_products"
    }
}

/// `GET /v1/regulator/traffic?from=&to=` (regulators): counted entries per park per local day and hour, against the
/// park's capacity.
public struct RegulatorTrafficReport: Codable, Sendable, Hashable {
    public struct Day: Codable, Sendable, Hashable {
        public var park: String
        public var day: String
        public var entries: Int
        public var capacityDaily: Int?
        /// Entries per local hour (24 numbers, hour 0 first).
        public var hourly: [Int]
        public var capacityHourly: Int?
        public init(park: String, day: String, entries: Int, capacityDaily: Int?, hourly: [Int], capacityHourly: Int?) {
            self.park = park
            self.day = day
            self.entries = entries
            self.capacityDaily = capacityDaily
            self.hourly = hourly
            self.capacityHourly = capacityHourly
        }
        enum CodingKeys: String, CodingKey {
            case park, day, entries, hourly
            case capacityDaily = "capacity_daily"
            case capacityHourly = "capacity_hourly"
        }
    }
    public var from: String
    public var to: String
    public var days: [Day]
    public init(from: String, to: String, days: [Day]) {
        self.from = from
        self.to = to
        self.days = days
    }
}

/// `GET /v1/regulator/sales?from=&to=` (regulators): passes sold per park per local day, count and amount.
public struct RegulatorSalesReport: Codable, Sendable, Hashable {
    public struct Day: Codable, Sendable, Hashable {
        public var park: String
        public var day: String
        public var passes: Int
        public var amountMinor: Int64
        public init(park: String, day: String, passes: Int, amountMinor: Int64) {
            self.park = park
            self.day = day
            self.passes = passes
            self.amountMinor = amountMinor
        }
        enum CodingKeys: String, CodingKey {
            case park, day, passes
            case amountMinor = "amount_minor"
        }
    }
    public var from: String
    public var to: String
    public var currency: String
    public var days: [Day]
    public init(from: String, to: String, currency: String, days: [Day]) {
        self.from = from
        self.to = to
        self.currency = currency
        self.days = days
    }
}

/// `GET /v1/regulator/occupancy?day=`: people inside each park (entries counted less exits counted that day), the
/// day's peak, against the instantaneous and daily capacities.
public struct RegulatorOccupancyReport: Codable, Sendable, Hashable {
    public struct Park: Codable, Sendable, Hashable {
        public var park: String
        public var inside: Int
        public var peak: Int
        public var entries: Int
        public var exits: Int
        public var capacityNow: Int?
        public var capacityDaily: Int?
        public init(park: String, inside: Int, peak: Int, entries: Int, exits: Int, capacityNow: Int?, capacityDaily: Int?) {
            self.park = park
            self.inside = inside
            self.peak = peak
            self.entries = entries
            self.exits = exits
            self.capacityNow = capacityNow
            self.capacityDaily = capacityDaily
        }
        enum CodingKeys: String, CodingKey {
            case park, inside, peak, entries, exits
            case capacityNow = "capacity_now"
            case capacityDaily = "capacity_daily"
        }
    }
    public var day: String
    public var parks: [Park]
    public init(day: String, parks: [Park]) {
        self.day = day
        self.parks = parks
    }
}

/// `PUT /v1/regulator/endpoint`: where the hub pushes this regulator's capacity statements (nil: no pushes).
public struct RegulatorEndpointRequest: Codable, Sendable, Hashable {
    public var url: String?
    public init(url: String?) { self.url = url }
}
