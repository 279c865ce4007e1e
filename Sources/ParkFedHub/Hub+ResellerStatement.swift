import Foundation
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// A reseller's statement: each unit of each booking made in a period (confirmed, redeemed, cancelled) with its
/// retail price, net rate and commission, and what the reseller owes the parks for it so far (the net allocations
/// of the entries made; an unused pass owes nothing, a cancelled one nothing). The money itself clears in the
/// nightly netting, where the reseller has its own position like a park.
extension Hub {
    public struct ResellerStatement: Encodable, Sendable {
        public struct Line: Encodable, Sendable {
            public var booking: String
            public var uuid: String
            public var day: String
            public var product: String
            public var unit: String
            public var passID: String
            public var status: String
            public var retailMinor: Int64
            public var netMinor: Int64
            public var commissionMinor: Int64
            public var owedMinor: Int64
        }
        public var reseller: String
        public var from: String
        public var to: String
        public var currency: String
        public var lines: [Line]
        public var retailMinor: Int64 { lines.filter { $0.status != "CANCELLED" }.reduce(0) { $0 + $1.retailMinor } }
        public var commissionMinor: Int64 { lines.filter { $0.status != "CANCELLED" }.reduce(0) { $0 + $1.commissionMinor } }
        public var owedMinor: Int64 { lines.reduce(0) { $0 + $1.owedMinor } }

        enum CodingKeys: String, CodingKey { case reseller, from, to, currency, lines, retailMinor, commissionMinor, owedMinor }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(reseller, forKey: .reseller)
            try container.encode(from, forKey: .from)
            try container.encode(to, forKey: .to)
            try container.encode(currency, forKey: .currency)
            try container.encode(lines, forKey: .lines)
            try container.encode(retailMinor, forKey: .retailMinor)
            try container.encode(commissionMinor, forKey: .commissionMinor)
            try container.encode(owedMinor, forKey: .owedMinor)
        }
    }

    /// The statement of bookings confirmed (or cancelled after confirmation) whose day of visit is in `from...to`.
    public func resellerStatement(_ reseller: ParkID, from: CivilDay, to: CivilDay, now: Date = Date()) async throws -> ResellerStatement {
        guard from <= to, to.dayNumber - from.dayNumber <= 366 else {
            throw Refusal(.invalid, code: "invalid_period", title: "A statement covers 1 to 366 days, from before to")
        }
        var lines: [ResellerStatement.Line] = []
        for booking in try await store.bookings(reseller: reseller, days: from...to, limit: 5000).reversed() where booking.confirmedAt != nil {
            let entered = try await store.firstEntries(booking.units.map(\.passID))
            var counted = Set<String>()
            for unit in booking.units {
                var owed: Int64 = 0
                // A group's pass owes once, on its first unit item's line.
                if counted.insert(unit.passID).inserted, let record = try await store.pass(unit.passID), let product = passes.product(for: record),
                    record.refundedMinor == nil
                {
                    owed = record.entries.reduce(Int64(0)) { sum, entry in sum + Int64(entry.value) * (product.member(entry.key)?.allocationPerEntry ?? 0) }
                }
                let status = booking.status == "cancelled" ? "CANCELLED" : (entered[unit.passID] != nil ? "REDEEMED" : "CONFIRMED")
                lines.append(
                    .init(
                        booking: booking.reference, uuid: booking.uuid, day: booking.day.description, product: booking.product, unit: unit.category,
                        passID: unit.passID, status: status, retailMinor: unit.retailMinor, netMinor: unit.netMinor,
                        commissionMinor: unit.retailMinor - unit.netMinor, owedMinor: owed))
            }
        }
        return ResellerStatement(
            reseller: reseller.rawValue, from: from.description, to: to.description, currency: configuration.currency, lines: lines)
    }
}
