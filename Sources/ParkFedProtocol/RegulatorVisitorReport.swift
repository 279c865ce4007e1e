import Foundation

/// The daily or holiday-period report a regulator receives without asking (written on schedule at the hub, read
/// over mutual TLS at `GET /v1/regulator/reports`, or with `parkfed regulator report`): per park and day, and for the
/// federation (`ALL`), visitors against the capacities, the day's peak of people inside, the share of real-name
/// entries, refunds, entries on another park's pass, and the flow per hour; `totals` over the whole period.
public struct RegulatorVisitorReport: Codable, Sendable, Hashable {
    public struct Row: Codable, Sendable, Hashable {
        public var park: String
        /// The day, or nil in `totals` (the whole period).
        public var day: String?
        public var visitors: Int
        public var exits: Int
        public var peakInside: Int
        public var capacityDaily: Int?
        public var capacityInstantaneous: Int?
        /// Visitors as a share of the daily capacity (basis points); over a period, of the capacity × days.
        public var dailyShareBasisPoints: Int?
        public var realNameEntries: Int
        public var realNameShareBasisPoints: Int?
        public var crossParkEntries: Int
        public var refunds: Int
        public var refundedMinor: Int64
        public var hourly: [Int]

        public init(
            park: String, day: String?, visitors: Int, exits: Int, peakInside: Int, capacityDaily: Int?, capacityInstantaneous: Int?,
            dailyShareBasisPoints: Int?, realNameEntries: Int, realNameShareBasisPoints: Int?, crossParkEntries: Int, refunds: Int,
            refundedMinor: Int64, hourly: [Int]
        ) {
            self.park = park
            self.day = day
            self.visitors = visitors
            self.exits = exits
            self.peakInside = peakInside
            self.capacityDaily = capacityDaily
            self.capacityInstantaneous = capacityInstantaneous
            self.dailyShareBasisPoints = dailyShareBasisPoints
            self.realNameEntries = realNameEntries
            self.realNameShareBasisPoints = realNameShareBasisPoints
            self.crossParkEntries = crossParkEntries
            self.refunds = refunds
            self.refundedMinor = refundedMinor
            self.hourly = hourly
        }

        enum CodingKeys: String, CodingKey {
            case park, day, visitors, exits, refunds, hourly
            case peakInside = "peak_inside"
            case capacityDaily = "capacity_daily"
            case capacityInstantaneous = "capacity_instantaneous"
            case dailyShareBasisPoints = "daily_share_bp"
            case realNameEntries = "real_name_entries"
            case realNameShareBasisPoints = "real_name_share_bp"
            case crossParkEntries = "cross_park_entries"
            case refundedMinor = "refunded_minor"
        }
    }

    /// `daily` (one day) or `holiday` (a named period).
    public var kind: String
    public var name: String?
    public var from: String
    public var to: String
    public var timeZone: String
    public var currency: String
    public var generatedAt: Date
    public var rows: [Row]
    public var totals: [Row]

    public init(
        kind: String, name: String?, from: String, to: String, timeZone: String, currency: String, generatedAt: Date, rows: [Row], totals: [Row]
    ) {
        self.kind = kind
        self.name = name
        self.from = from
        self.to = to
        self.timeZone = timeZone
        self.currency = currency
        self.generatedAt = generatedAt
        self.rows = rows
        self.totals = totals
    }

    enum CodingKeys: String, CodingKey {
        case kind, name, from, to, currency, rows, totals
        case timeZone = "time_zone"
        case generatedAt = "generated_at"
    }

    /// The report as CSV (RFC 4180): one line per park and day, then the period's totals (`day` empty); hours as
    /// columns h00-h23; shares in percent with two decimals.
    public var csv: String {
        let header: [String] = [
            "park", "day", "visitors", "exits", "peak_inside", "capacity_daily", "capacity_instantaneous", "daily_share_pct", "real_name_entries",
            "real_name_share_pct", "cross_park_entries", "refunds", "refunded_minor",
        ]
        var lines = [(header + (0..<24).map { String(format: "h%02d", $0) }).joined(separator: ",")]
        func percent(_ bp: Int?) -> String { bp.map { String(format: "%d.%02d", $0 / 100, $0 % 100) } ?? "" }
        for row in rows + totals {
            var fields: [String] = [Self.field(row.park), row.day ?? "", String(row.visitors), String(row.exits), String(row.peakInside)]
            fields.append(row.capacityDaily.map(String.init) ?? "")
            fields.append(row.capacityInstantaneous.map(String.init) ?? "")
            fields.append(percent(row.dailyShareBasisPoints))
            fields.append(String(row.realNameEntries))
            fields.append(percent(row.realNameShareBasisPoints))
            fields += [String(row.crossParkEntries), String(row.refunds), String(row.refundedMinor)]
            fields += row.hourly.map(String.init)
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func field(_ text: String) -> String {
        guard text.contains(where: { ",\"\r\n".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
