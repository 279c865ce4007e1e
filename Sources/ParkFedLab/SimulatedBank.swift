import Foundation
import ParkFedDomain
import ParkFedProtocol

/// The federation's bank, as the demo and the tests need it: it executes a batch's payment run (pays out the
/// credit transfers, collects the direct debits, receives the payers' own transfers quoting their reference) and
/// writes the day's ISO 20022 `camt.053.001.08` statement of the settlement account. A booking can be made short,
/// and entries the federation never expected can be added, to see reconciliation's exceptions.
public struct SimulatedBank: Sendable {
    public struct Booking: Sendable, Hashable {
        public var ref: String
        public var direction: Reconciliation.Direction
        public var amountMinor: Int64
        public var endToEndID: String?
        public var remittance: String?
        public var counterparty: String
        public init(
            ref: String, direction: Reconciliation.Direction, amountMinor: Int64, endToEndID: String? = nil, remittance: String? = nil,
            counterparty: String
        ) {
            self.ref = ref
            self.direction = direction
            self.amountMinor = amountMinor
            self.endToEndID = endToEndID
            self.remittance = remittance
            self.counterparty = counterparty
        }
    }

    public init() {}

    /// The bookings a payment run leads to: each pay-out a debit, each collection and each payer's own transfer a
    /// credit, all for the full amount unless `short` names a party and how much less it paid.
    public static func bookings(for run: PaymentRun, short: [String: Int64] = [:]) -> [Booking] {
        var bookings: [Booking] = []
        var number = 0
        func ref() -> String {
            number += 1
            return "BK\(run.day.description.replacingOccurrences(of: "-", with: ""))\(String(format: "%05d", number))"
        }
        for line in run.payouts {
            bookings.append(
                Booking(ref: ref(), direction: .debit, amountMinor: line.amountMinor, endToEndID: line.reference, counterparty: line.account.holder))
        }
        for line in run.collections {
            bookings.append(
                Booking(
                    ref: ref(), direction: .credit, amountMinor: line.amountMinor - (short[line.party] ?? 0), endToEndID: line.reference,
                    counterparty: line.account.holder))
        }
        for line in run.notices {
            bookings.append(
                Booking(
                    ref: ref(), direction: .credit, amountMinor: line.amountMinor - (short[line.party] ?? 0),
                    remittance: "\(line.reference) settlement \(run.batchID)", counterparty: line.account.holder))
        }
        return bookings
    }

    /// The statement of `account` for `day`: opening and closing balances and one booked entry per booking.
    public static func camt053(
        id: String, account: BankAccount, currency: String, day: CivilDay, openingMinor: Int64 = 0, bookings: [Booking], createdAt: Date
    ) -> String {
        func amount(_ minor: Int64) -> String { PaymentRun.amount(minor, currency: currency) }
        let closing = bookings.reduce(openingMinor) { $0 + ($1.direction == .credit ? $1.amountMinor : -$1.amountMinor) }
        let formatter = ISO8601DateFormatter()
        var writer = XMLWriter()
        writer.element("Document", [("xmlns", "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08")]) { w in
            w.element("BkToCstmrStmt") { w in
                w.element("GrpHdr") { w in
                    w.leaf("MsgId", "MSG-\(id)")
                    w.leaf("CreDtTm", formatter.string(from: createdAt))
                }
                w.element("Stmt") { w in
                    w.leaf("Id", id)
                    w.leaf("CreDtTm", formatter.string(from: createdAt))
                    w.element("Acct") { w in
                        w.element("Id") { w in
                            if let iban = account.iban { w.leaf("IBAN", iban) } else { w.element("Othr") { w in w.leaf("Id", account.account ?? "") } }
                        }
                        w.leaf("Ccy", currency)
                    }
                    for (code, value) in [("OPBD", openingMinor), ("CLBD", closing)] {
                        w.element("Bal") { w in
                            w.element("Tp") { w in w.element("CdOrPrtry") { w in w.leaf("Cd", code) } }
                            w.leaf("Amt", amount(abs(value)), [("Ccy", currency)])
                            w.leaf("CdtDbtInd", value >= 0 ? "CRDT" : "DBIT")
                            w.element("Dt") { w in w.leaf("Dt", day.description) }
                        }
                    }
                    for booking in bookings {
                        w.element("Ntry") { w in
                            w.leaf("NtryRef", booking.ref)
                            w.leaf("Amt", amount(booking.amountMinor), [("Ccy", currency)])
                            w.leaf("CdtDbtInd", booking.direction == .credit ? "CRDT" : "DBIT")
                            w.element("Sts") { w in w.leaf("Cd", "BOOK") }
                            w.element("BookgDt") { w in w.leaf("Dt", day.description) }
                            w.element("ValDt") { w in w.leaf("Dt", day.description) }
                            w.leaf("AcctSvcrRef", booking.ref)
                            w.element("BkTxCd") { w in
                                w.element("Domn") { w in
                                    w.leaf("Cd", "PMNT")
                                    w.element("Fmly") { w in
                                        w.leaf("Cd", booking.direction == .credit ? "RCDT" : "ICDT")
                                        w.leaf("SubFmlyCd", booking.endToEndID != nil && booking.direction == .credit ? "AUTT" : "DMCT")
                                    }
                                }
                            }
                            w.element("NtryDtls") { w in
                                w.element("TxDtls") { w in
                                    if let endToEnd = booking.endToEndID { w.element("Refs") { w in w.leaf("EndToEndId", endToEnd) } }
                                    w.element("RltdPties") { w in
                                        w.element(booking.direction == .credit ? "Dbtr" : "Cdtr") { w in
                                            w.element("Pty") { w in w.leaf("Nm", String(booking.counterparty.prefix(140))) }
                                        }
                                    }
                                    if let remittance = booking.remittance { w.element("RmtInf") { w in w.leaf("Ustrd", String(remittance.prefix(140))) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        return writer.document
    }
}
