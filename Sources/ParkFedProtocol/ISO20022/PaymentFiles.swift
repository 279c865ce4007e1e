import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain

/// What an approved batch asks the bank to do, in the form the payment files are written from: pay-outs to the net
/// receivers (a credit transfer from the federation's settlement account), collections from the net payers that
/// signed a direct-debit mandate, and payment-due notices for the other payers (they transfer themselves, quoting
/// the reference). Every amount is a position exactly; every id is derived from the batch, so a re-export is
/// byte-identical.
public struct PaymentRun: Sendable, Hashable {
    public struct Line: Sendable, Hashable {
        public var party: String
        public var account: BankAccount
        public var amountMinor: Int64
        public var reference: String
        public init(party: String, account: BankAccount, amountMinor: Int64, reference: String) {
            self.party = party
            self.account = account
            self.amountMinor = amountMinor
            self.reference = reference
        }
    }

    public var batchID: String
    public var day: CivilDay
    public var paymentDay: CivilDay
    public var currency: String
    /// When the batch was approved: the files' creation time, so that they never depend on when they are exported.
    public var createdAt: Date
    public var federation: String
    public var settlementAccount: BankAccount
    public var creditorID: String?
    public var payouts: [Line]
    public var collections: [Line]
    public var notices: [Line]

    public init(
        batchID: String, day: CivilDay, paymentDay: CivilDay, currency: String, createdAt: Date, federation: String, settlementAccount: BankAccount,
        creditorID: String?, payouts: [Line], collections: [Line], notices: [Line]
    ) {
        self.batchID = batchID
        self.day = day
        self.paymentDay = paymentDay
        self.currency = currency
        self.createdAt = createdAt
        self.federation = federation
        self.settlementAccount = settlementAccount
        self.creditorID = creditorID
        self.payouts = payouts
        self.collections = collections
        self.notices = notices
    }

    /// The reference a payment of `party` for the batch of `day` carries (end-to-end id and remittance text):
    /// `PF20261201-P002`, at most 35 characters (a long party id is replaced by a digest of it).
    public static func reference(day: CivilDay, party: String) -> String {
        let stamp = "PF" + day.description.replacingOccurrences(of: "-", with: "") + "-"
        let text = stamp + party
        if text.count <= 35 { return text }
        return stamp + Hex.encode(SHA256.hash(data: Data(party.utf8))).prefix(35 - stamp.count)
    }

    /// Minor units as the files write them: `1350.00` (ISO 4217 exponent of the currency).
    public static func amount(_ minor: Int64, currency: String) -> String {
        let digits = ["JPY": 0, "KRW": 0, "VND": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3][currency] ?? 2
        guard digits > 0 else { return String(minor) }
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let whole = minor / scale, fraction = minor % scale
        let padded = String(fraction)
        return "\(whole)." + String(repeating: "0", count: digits - padded.count) + padded
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func agent(_ writer: inout XMLWriter, _ name: String, _ account: BankAccount) {
        writer.element(name) { w in
            w.element("FinInstnId") { w in
                if let bic = account.bic {
                    w.leaf("BICFI", bic)
                } else if let cnaps = account.cnaps {
                    w.element("ClrSysMmbId") { w in
                        w.element("ClrSysId") { w in w.leaf("Cd", "CNAPS") }
                        w.leaf("MmbId", cnaps)
                    }
                }
                if let bank = account.bankName { w.leaf("Nm", String(bank.prefix(140))) }
            }
        }
    }

    static func cashAccount(_ writer: inout XMLWriter, _ name: String, _ account: BankAccount, currency: String) {
        writer.element(name) { w in
            w.element("Id") { w in
                if let iban = account.iban {
                    w.leaf("IBAN", iban)
                } else {
                    w.element("Othr") { w in w.leaf("Id", account.account ?? "") }
                }
            }
            w.leaf("Ccy", currency)
        }
    }

    static func party(_ writer: inout XMLWriter, _ name: String, _ holder: String) {
        writer.element(name) { w in w.leaf("Nm", String(holder.prefix(140))) }
    }

    func total(_ lines: [Line]) -> String { Self.amount(lines.reduce(0) { $0 + $1.amountMinor }, currency: currency) }

    func remittance(_ line: Line) -> String { "\(line.reference) \(federation) settlement \(batchID)".prefix(140).description }

    /// The ISO 20022 `pain.001.001.09` customer credit transfer initiation for the pay-outs (nil when nobody
    /// receives anything).
    public func pain001() -> String? {
        guard !payouts.isEmpty else { return nil }
        var writer = XMLWriter()
        writer.element("Document", [("xmlns", "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09")]) { w in
            w.element("CstmrCdtTrfInitn") { w in
                w.element("GrpHdr") { w in
                    w.leaf("MsgId", "PF-\(batchID)-CT")
                    w.leaf("CreDtTm", Self.timestamp(createdAt))
                    w.leaf("NbOfTxs", String(payouts.count))
                    w.leaf("CtrlSum", total(payouts))
                    Self.party(&w, "InitgPty", settlementAccount.holder)
                }
                w.element("PmtInf") { w in
                    w.leaf("PmtInfId", "PF-\(batchID)-CT-1")
                    w.leaf("PmtMtd", "TRF")
                    w.leaf("BtchBookg", "false")
                    w.leaf("NbOfTxs", String(payouts.count))
                    w.leaf("CtrlSum", total(payouts))
                    w.element("ReqdExctnDt") { w in w.leaf("Dt", paymentDay.description) }
                    Self.party(&w, "Dbtr", settlementAccount.holder)
                    Self.cashAccount(&w, "DbtrAcct", settlementAccount, currency: currency)
                    Self.agent(&w, "DbtrAgt", settlementAccount)
                    w.leaf("ChrgBr", "SLEV")
                    for line in payouts {
                        w.element("CdtTrfTxInf") { w in
                            w.element("PmtId") { w in
                                w.leaf("InstrId", line.reference)
                                w.leaf("EndToEndId", line.reference)
                            }
                            w.element("Amt") { w in w.leaf("InstdAmt", Self.amount(line.amountMinor, currency: currency), [("Ccy", currency)]) }
                            Self.agent(&w, "CdtrAgt", line.account)
                            Self.party(&w, "Cdtr", line.account.holder)
                            Self.cashAccount(&w, "CdtrAcct", line.account, currency: currency)
                            w.element("RmtInf") { w in w.leaf("Ustrd", remittance(line)) }
                        }
                    }
                }
            }
        }
        return writer.document
    }

    /// The ISO 20022 `pain.008.001.08` direct debit initiation for the payers with a mandate (nil when none).
    public func pain008() -> String? {
        guard !collections.isEmpty else { return nil }
        var writer = XMLWriter()
        writer.element("Document", [("xmlns", "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08")]) { w in
            w.element("CstmrDrctDbtInitn") { w in
                w.element("GrpHdr") { w in
                    w.leaf("MsgId", "PF-\(batchID)-DD")
                    w.leaf("CreDtTm", Self.timestamp(createdAt))
                    w.leaf("NbOfTxs", String(collections.count))
                    w.leaf("CtrlSum", total(collections))
                    Self.party(&w, "InitgPty", settlementAccount.holder)
                }
                w.element("PmtInf") { w in
                    w.leaf("PmtInfId", "PF-\(batchID)-DD-1")
                    w.leaf("PmtMtd", "DD")
                    w.leaf("BtchBookg", "false")
                    w.leaf("NbOfTxs", String(collections.count))
                    w.leaf("CtrlSum", total(collections))
                    w.element("PmtTpInf") { w in w.leaf("SeqTp", "RCUR") }
                    w.leaf("ReqdColltnDt", paymentDay.description)
                    Self.party(&w, "Cdtr", settlementAccount.holder)
                    Self.cashAccount(&w, "CdtrAcct", settlementAccount, currency: currency)
                    Self.agent(&w, "CdtrAgt", settlementAccount)
                    w.leaf("ChrgBr", "SLEV")
                    if let creditorID {
                        w.element("CdtrSchmeId") { w in
                            w.element("Id") { w in
                                w.element("PrvtId") { w in
                                    w.element("Othr") { w in
                                        w.leaf("Id", creditorID)
                                        w.element("SchmeNm") { w in w.leaf("Prtry", "SEPA") }
                                    }
                                }
                            }
                        }
                    }
                    for line in collections {
                        w.element("DrctDbtTxInf") { w in
                            w.element("PmtId") { w in
                                w.leaf("InstrId", line.reference)
                                w.leaf("EndToEndId", line.reference)
                            }
                            w.leaf("InstdAmt", Self.amount(line.amountMinor, currency: currency), [("Ccy", currency)])
                            if let mandate = line.account.mandate {
                                w.element("DrctDbtTx") { w in
                                    w.element("MndtRltdInf") { w in
                                        w.leaf("MndtId", mandate.id)
                                        w.leaf("DtOfSgntr", mandate.signedOn)
                                    }
                                }
                            }
                            Self.agent(&w, "DbtrAgt", line.account)
                            Self.party(&w, "Dbtr", line.account.holder)
                            Self.cashAccount(&w, "DbtrAcct", line.account, currency: currency)
                            w.element("RmtInf") { w in w.leaf("Ustrd", remittance(line)) }
                        }
                    }
                }
            }
        }
        return writer.document
    }

    /// Payment-due notices for the payers without a mandate, as CSV: what to pay, by when, to which account, and the
    /// reference to quote (so the statement can be matched).
    public func noticesCSV() -> String {
        var rows = ["batch,park,amount_minor,currency,due_on,pay_to_holder,pay_to_bank,pay_to_account,reference"]
        let account = settlementAccount
        for line in notices {
            rows.append(
                CSVField.line([
                    batchID, line.party, String(line.amountMinor), currency, paymentDay.description, account.holder,
                    account.bic ?? account.cnaps ?? "", account.iban ?? account.account ?? "", line.reference,
                ]))
        }
        return rows.joined(separator: "\n") + "\n"
    }
}
