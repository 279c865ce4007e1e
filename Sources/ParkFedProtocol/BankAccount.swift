import Foundation
import ParkFedDomain

/// A bank account as payment files name it: a mainland Chinese account by its bank's CNAPS code (the 12-digit
/// bank code of the China National Advanced Payment System) and account number, or a foreign one by BIC and IBAN.
public struct BankAccount: Codable, Sendable, Hashable {
    /// A direct-debit mandate the park signed: the federation may collect what the park owes (pain.008).
    public struct Mandate: Codable, Sendable, Hashable {
        public var id: String
        public var signedOn: String
        public init(id: String, signedOn: String) {
            self.id = id
            self.signedOn = signedOn
        }
        enum CodingKeys: String, CodingKey {
            case id
            case signedOn = "signed_on"
        }
    }

    /// The account holder's name, as the bank has it.
    public var holder: String
    public var bankName: String?
    public var cnaps: String?
    public var account: String?
    public var bic: String?
    public var iban: String?
    public var mandate: Mandate?

    public init(
        holder: String, bankName: String? = nil, cnaps: String? = nil, account: String? = nil, bic: String? = nil, iban: String? = nil,
        mandate: Mandate? = nil
    ) {
        self.holder = holder
        self.bankName = bankName
        self.cnaps = cnaps
        self.account = account
        self.bic = bic
        self.iban = iban
        self.mandate = mandate
    }

    enum CodingKeys: String, CodingKey {
        case holder, cnaps, account, bic, iban, mandate
        case bankName = "bank_name"
    }

    /// Checks the account's form: holder 1-140 characters; CNAPS 12 digits with an account of 6-34 digits, or a
    /// BIC (8 or 11) with an IBAN whose ISO 13616 check digits hold; a mandate id of 1-35 characters.
    public func validate(_ label: String) throws {
        guard !holder.trimmingCharacters(in: .whitespaces).isEmpty, holder.count <= 140 else { throw WireError("\(label): holder is 1-140 characters") }
        switch (cnaps, account, bic, iban) {
        case (let cnaps?, let account?, nil, nil):
            guard cnaps.count == 12, cnaps.allSatisfy(\.isASCIIDigit) else { throw WireError("\(label): a CNAPS bank code is 12 digits") }
            guard (6...34).contains(account.count), account.allSatisfy(\.isASCIIDigit) else {
                throw WireError("\(label): the account number is 6-34 digits")
            }
        case (nil, nil, let bic?, let iban?):
            guard Self.isBIC(bic) else { throw WireError("\(label): \(bic) is not a BIC (8 or 11 characters)") }
            guard Self.isIBAN(iban) else { throw WireError("\(label): \(iban) is not a valid IBAN (its check digits fail)") }
        default:
            throw WireError("\(label): give cnaps and account (a Chinese bank), or bic and iban (a foreign one)")
        }
        if let mandate {
            guard (1...35).contains(mandate.id.count), mandate.id.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw WireError("\(label): a mandate id is 1-35 characters without spaces")
            }
            guard Self.isDay(mandate.signedOn) else { throw WireError("\(label): the mandate's signed_on is YYYY-MM-DD") }
        }
    }

    /// A calendar day as the files write it (`YYYY-MM-DD`, a real date): ``CivilDay``'s own parse.
    static func isDay(_ text: String) -> Bool { (try? CivilDay(text)) != nil }

    public static func isBIC(_ text: String) -> Bool {
        let characters = Array(text)
        guard characters.count == 8 || characters.count == 11 else { return false }
        return characters[0..<6].allSatisfy { $0.isASCII && $0.isUppercase }
            && characters[6...].allSatisfy { ($0.isASCII && $0.isUppercase) || $0.isASCIIDigit }
    }

    /// ISO 13616: move the first four characters to the end, letters to 10…35, and the number mod 97 is 1.
    public static func isIBAN(_ text: String) -> Bool {
        let characters = Array(text)
        guard (15...34).contains(characters.count), characters.allSatisfy({ ($0.isASCII && $0.isUppercase) || $0.isASCIIDigit }),
            characters[0].isLetter, characters[1].isLetter, characters[2].isASCIIDigit, characters[3].isASCIIDigit
        else { return false }
        var remainder = 0
        for character in characters[4...] + characters[0..<4] {
            let value = character.isASCIIDigit ? Int(String(character))! : Int(character.asciiValue! - 55)
            for digit in String(value) { remainder = (remainder * 10 + Int(String(digit))!) % 97 }
        }
        return remainder == 1
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// `partners/federation.json` `settlement`: the federation's settlement account (every pay-in arrives there and
/// every pay-out leaves it), the settlement calendar, and the dispute window.
public struct SettlementProfile: Codable, Sendable, Hashable {
    public var account: BankAccount
    /// The ISO 20022 creditor scheme id the federation collects direct debits under (for pain.008).
    public var creditorID: String?
    public var bankHolidays: [String]
    public var workingWeekendDays: [String]?
    public var paymentLagBankDays: Int?
    public var disputeWindowDays: Int?

    public init(
        account: BankAccount, creditorID: String? = nil, bankHolidays: [String] = [], workingWeekendDays: [String]? = nil,
        paymentLagBankDays: Int? = nil, disputeWindowDays: Int? = nil
    ) {
        self.account = account
        self.creditorID = creditorID
        self.bankHolidays = bankHolidays
        self.workingWeekendDays = workingWeekendDays
        self.paymentLagBankDays = paymentLagBankDays
        self.disputeWindowDays = disputeWindowDays
    }

    enum CodingKeys: String, CodingKey {
        case account
        case creditorID = "creditor_id"
        case bankHolidays = "bank_holidays"
        case workingWeekendDays = "working_weekend_days"
        case paymentLagBankDays = "payment_lag_bank_days"
        case disputeWindowDays = "dispute_window_days"
    }

    /// Days a park has to dispute a line of a closed day, by default.
    public static let defaultDisputeWindowDays = 7

    public func validate() throws {
        try account.validate("settlement.account")
        for day in bankHolidays + (workingWeekendDays ?? []) where !BankAccount.isDay(day) {
            throw WireError("settlement: \(day) is not a day YYYY-MM-DD")
        }
        if let days = disputeWindowDays, !(0...90).contains(days) { throw WireError("settlement: dispute_window_days is 0-90") }
        if let lag = paymentLagBankDays, !(0...10).contains(lag) { throw WireError("settlement: payment_lag_bank_days is 0-10") }
        if let creditorID, !(1...35).contains(creditorID.count) { throw WireError("settlement: creditor_id is 1-35 characters") }
    }
}
