import Foundation
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// The regulator's read-only view of real-name records. Every query is recorded (who, what, how many records)
/// before it is answered; the document number asked about is recorded masked.
extension Hub {
    public func regulatorHolderReport(kind: String, number: String, from: String, to: String, peer: AuthenticatedPeer,
                                      now: Date = Date()) throws -> RegulatorHolderReport {
        guard peer.principal.role == .regulator else {
            throw ProblemDetails(status: 403, code: "forbidden_for_principal", title: "Only regulators query real-name records")
        }
        guard let documentKind = IdentityDocument.Kind(rawValue: kind) else {
            throw ProblemDetails(status: 400, code: "invalid_query", title: "Invalid id_type",
                                 detail: "id_type is one of \(IdentityDocument.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let document: IdentityDocument
        do { document = try IdentityDocument(kind: documentKind, number: number) } catch {
            throw ProblemDetails(status: 400, code: "invalid_document", title: "Invalid document number", detail: error.message)
        }
        let first: CivilDay, last: CivilDay
        do { (first, last) = (try CivilDay(from), try CivilDay(to)) } catch {
            throw ProblemDetails(status: 400, code: "invalid_query", title: "Invalid date range", detail: "from and to are YYYY-MM-DD")
        }
        guard first <= last, last.dayNumber - first.dayNumber <= 366 else {
            throw ProblemDetails(status: 400, code: "invalid_query", title: "Invalid date range", detail: "from ≤ to, at most 366 days")
        }
        let start = endOfDay(first.adding(days: -1)), end = endOfDay(last)
        let held = try passes(heldBy: documentKind, number: document.number)
        let purchases = held.filter { $0.recordedAt >= start && $0.recordedAt < end }.map {
            RegulatorHolderReport.Purchase(passID: $0.passID, park: $0.issuer, generation: $0.generation, recordedAt: $0.recordedAt,
                                           holderNameMasked: $0.holder.nameMasked)
        }
        let entries = try store.entries(ofPasses: Array(Set(held.map(\.passID))).sorted(), from: start, until: end).map {
            RegulatorHolderReport.Entry(passID: $0.passID, park: $0.park, enteredAt: $0.at, counted: $0.counted)
        }
        try store.recordRegulatorQuery(principal: peer.principal.description,
                                       query: "holder \(documentKind.rawValue) \(document.maskedNumber) \(first)..\(last)",
                                       records: purchases.count + entries.count, at: now)
        logger.notice("regulator query", metadata: ["principal": "\(peer.principal)", "records": "\(purchases.count + entries.count)"])
        return RegulatorHolderReport(idType: documentKind.rawValue, idNumberMasked: document.maskedNumber, from: first.description, to: last.description,
                                     purchases: purchases, entries: entries)
    }
}
