import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// Pre-printed stock: a park orders N one-time codes for paper tickets (signed, unique, inactive), hands the CSV to
/// its printer, activates a code when a window sells it to a real-name holder, and voids the ones it will not sell.
///
/// The code on paper never changes: its payload is marked `k: 1`. At this park's gates the local stock state
/// decides (`printed` → `not_activated`, `void` → `voided`); at other parks' gates the hub decides online, and admits
/// only codes whose `pass.issued` (naming the stock serial) it has logged. Offline, another park cannot know that a
/// printed code was sold, so it refuses it (`not_activated`).
extension NodeAgent {
    /// The largest batch one order prints.
    public static let maximumStockBatch = 10_000

    /// Signs and stores a batch of inactive codes, all or nothing, and answers its serials and the printer's CSV.
    public func orderStock(_ order: StockOrder, now: Date = Date()) async throws -> StockBatch {
        guard let base = product(order.product) else {
            throw Self.problem(
                .notFound, "unknown_product", "Unknown product", "product \(order.product.debugDescription) is not in the federation's catalogue")
        }
        guard (1...Self.maximumStockBatch).contains(order.count) else {
            throw Self.problem(.invalid, "invalid_body", "Invalid count", "a batch is 1-\(Self.maximumStockBatch) codes")
        }
        guard base.slots.isEmpty else {
            throw Self.problem(.unprocessable, "timed_product", "Timed products are not printed", "a timed pass is sold online for its slot")
        }
        let product = try Self.variant(of: base, category: order.category, heads: nil, slot: nil)
        let date: CivilDay
        do { date = try order.date.map { try CivilDay($0) } ?? calendar.day(of: now) } catch {
            throw Self.problem(.invalid, "invalid_body", "Invalid date", "\(error)")
        }
        let window: (from: CivilDay, until: CivilDay)
        do { window = try product.saleWindow(date: date) } catch { throw Self.problem(.conflict, "not_on_sale", "Not on sale", error.message) }
        let batch = "B" + String(UUIDv7.make(now: now).replacingOccurrences(of: "-", with: "").prefix(12)).uppercased()
        var codes: [StockCodeRecord] = []
        codes.reserveCapacity(order.count)
        for n in 1...order.count {
            let passID = UUIDv7.make(now: now)
            let code = try PassCode.make(
                .init(
                    issuer: park, passID: passID, product: product.id, validFrom: window.from, validUntil: window.until,
                    generation: 0, name: "", category: product.category?.id, stock: true), key: signingKey)
            let serial = "\(park.rawValue)-\(batch)-" + String(repeating: "0", count: max(0, 6 - String(n).count)) + String(n)
            codes.append(
                StockCodeRecord(
                    serial: serial, batch: batch, passID: passID, product: product.id, category: product.category?.id,
                    code: code.text, validFrom: window.from, validUntil: window.until))
        }
        try await store.insertStock(codes, now: now)
        logger.notice("stock printed", metadata: ["batch": "\(batch)", "product": "\(product.id)", "count": "\(order.count)"])
        return StockBatch(
            batch: batch, product: product.id, category: product.category?.id, count: codes.count, firstSerial: codes[0].serial,
            lastSerial: codes[codes.count - 1].serial, validFrom: window.from.description, validUntil: window.until.description,
            csv: Self.stockCSV(codes))
    }

    /// The printer's file of a batch already ordered.
    public func stockCSV(batch: String) async throws -> String {
        let codes = try await store.stockBatch(batch)
        guard !codes.isEmpty else { throw Self.problem(.notFound, "unknown_batch", "Unknown batch", "no stock batch \(batch) at \(park)") }
        return Self.stockCSV(codes)
    }

    /// `serial,pass_id,product,category,valid_from,valid_until,code`: none of the fields can hold a comma or quote
    /// (identifiers, days, base64url and dots), so no field needs quoting.
    static func stockCSV(_ codes: [StockCodeRecord]) -> String {
        var text = "serial,pass_id,product,category,valid_from,valid_until,code\n"
        for code in codes {
            text +=
                CSVField.line([
                    code.serial, code.passID, code.product, code.category ?? TicketCategory.fullID, code.validFrom.description,
                    code.validUntil.description, code.code,
                ]) + "\n"
        }
        return text
    }

    /// Sells a printed code to a real-name holder: `pass.issued` names its serial, and the code is active from then
    /// on: here at once, elsewhere once the hub has the assertion. The sale is recorded first (so two windows cannot
    /// both sell one code), then, with the link up, delivered before the window is answered; without it, the outbox
    /// sends it when the link returns.
    public func sellStock(serial: String, _ request: StockSaleRequest, now: Date = Date()) async throws -> PassSaleResponse {
        guard let stock = try await store.stockCode(serial: serial) else {
            throw Self.problem(.notFound, "unknown_stock", "Unknown printed ticket", "no printed ticket \(serial) at \(park)")
        }
        guard let base = product(stock.product) else { throw Self.problem(.conflict, "unknown_product", "Unknown product") }
        let product = try Self.variant(of: base, category: stock.category, heads: nil, slot: nil)
        let channel = try Self.channel(request.channel)
        guard calendar.day(of: now) <= stock.validUntil else {
            throw Self.problem(.conflict, "not_on_sale", "Not on sale", "this printed ticket expired on \(stock.validUntil)")
        }
        let holder = try Self.holder(product.realName ? request.holder : nil, product: product)
        // A printed ticket is for no one day: it is refused while today's sales at one of its parks stopped.
        try refuseOfflineIfStopped(product, day: calendar.day(of: now))
        let code = try PassCode(parsing: stock.code)
        let (issued, sold) = try saleRecords(
            code, product: product, channel: channel, holder: holder, name: product.realName ? request.holder.name : "", stockSerial: serial)
        let (payload, jws) = try Assertions.sign(.passIssued(issued), park: park, key: signingKey, now: now)
        do { try await store.sellStock(serial: serial, sale: sold, assertion: (payload.id, payload.type.rawValue, jws.compact), now: now) } catch let error
            as StockStateError
        {
            throw Self.stockProblem(error)
        }
        metrics.sale()
        if hubLinkUp(now: now) { try? await deliverOutbox() }
        outboxWakeUp.signal()
        return try saleResponse(sold, code: code, idNumberMasked: holder?.maskedNumber ?? "", stockSerial: serial)
    }

    /// Voids unsold printed codes (all or none): their gates refuse them (`voided`) from the next scan on.
    public func voidStock(serials: [String], reason: String, now: Date = Date()) async throws {
        do { try Check.text(reason, "reason", max: 200) } catch { throw Self.problem(.invalid, "invalid_body", "Invalid reason", error.message) }
        do { try await store.voidStock(serials: serials, now: now) } catch let error as StockStateError { throw Self.stockProblem(error) }
        logger.notice("stock voided", metadata: ["serials": "\(serials.joined(separator: " "))", "reason": "\(reason)"])
    }

    static func stockProblem(_ error: StockStateError) -> Refusal {
        switch error.state {
        case nil: problem(.notFound, "unknown_stock", "Unknown printed ticket", "no printed ticket \(error.serial)")
        case .sold: problem(.conflict, "stock_sold", "Already sold", "printed ticket \(error.serial) is sold: refund it instead")
        case .void: problem(.conflict, "stock_void", "Voided", "printed ticket \(error.serial) has been voided")
        case .printed: problem(.conflict, "stock_printed", "Not sold", "printed ticket \(error.serial) is not sold")
        }
    }
}
