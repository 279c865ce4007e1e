import Foundation
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// Revenue in real time: what a park has sold today, owes and is owed in the open days, and what the next settlement
/// would make of it. A park sees only its own.
extension Hub {
    public func revenue(peer: AuthenticatedPeer, now: Date = Date()) async throws -> ParkRevenue {
        let park = try Self.park(of: peer)
        let today = passes.calendar.day(of: now)
        let figures = try await store.revenue(park: park.rawValue, salesFrom: endOfDay(today.adding(days: -1)), salesUntil: endOfDay(today))
        var byUs: [ParkRevenue.Line] = [], toUs: [ParkRevenue.Line] = []
        var position: Int64 = 0
        for line in figures.lines {
            let entry = ParkRevenue.Line(reason: line.reason, count: line.count, amountMinor: line.amountMinor, feeMinor: line.feeMinor)
            if line.outgoing {
                byUs.append(entry)
                position -= line.amountMinor
            } else {
                toUs.append(entry)
                position += line.amountMinor - line.feeMinor
            }
        }
        return ParkRevenue(
            park: park.rawValue, day: today.description, currency: configuration.currency,
            salesToday: .init(passes: figures.salesCount, amountMinor: figures.salesMinor), owedByUs: byUs, owedToUs: toUs,
            settledThrough: figures.settledThrough?.description, nextPositionMinor: position)
    }
}
