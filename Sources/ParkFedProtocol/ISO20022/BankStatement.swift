import Foundation
import ParkFedDomain

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A bank statement of the federation's settlement account, read from an ISO 20022 `camt.053` (any version: the
/// elements read are the same) or from the CSV some banks give instead. Only booked entries count.
public struct BankStatement: Sendable, Hashable {
    public var id: String
    /// The account as the statement names it (IBAN or other id).
    public var account: String
    public var entries: [Reconciliation.Entry]

    public init(id: String, account: String, entries: [Reconciliation.Entry]) {
        self.id = id
        self.account = account
        self.entries = entries
    }

    /// Parses a decimal amount (`1350.00`, `1350.5`, `1350`) into minor units of a currency with `digits`
    /// fraction digits; more fraction digits than the currency has, a sign or anything else is refused.
    public static func minorUnits(_ text: String, digits: Int = 2) throws -> Int64 {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0, parts[0].allSatisfy(\.isASCIIDigit) else {
            throw WireError("\(text.debugDescription) is not an amount")
        }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= digits, fraction.allSatisfy(\.isASCIIDigit), parts.count == 1 || !fraction.isEmpty else {
            throw WireError("\(text.debugDescription) has more than \(digits) decimals")
        }
        fraction += String(repeating: "0", count: digits - fraction.count)
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: scale)
        guard !overflow, scaled <= Int64.max - (Int64(fraction) ?? 0) else { throw WireError("\(text) is too large") }
        return scaled + (Int64(fraction) ?? 0)
    }

    /// Reads a `camt.053` document. Entries in another currency than `currency` are refused.
    public static func camt053(_ data: Data, currency: String) throws -> BankStatement {
        // FoundationXML traps on a name or namespace that is not UTF-8 (found by fuzzing: one byte 0xF8 in an xmlns
        // crashed the process), so the document must be UTF-8 throughout, and declared so if declared at all.
        guard let text = String(data: data, encoding: .utf8) else { throw WireError("the statement is not UTF-8 text") }
        // Nor may it hold a control character XML 1.0 forbids (tab, line feed and carriage return are XML's own
        // white space), a processing instruction beyond the declaration (found by fuzzing: FoundationXML reads a
        // NULL when a processing instruction has no data, `<?x?>`, and crashes), or a document type (no entities).
        guard !data.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) else {
            throw WireError("the statement holds a control character XML does not allow")
        }
        var body = Substring(text)
        // The declaration is `<?xml` and white space (`<?xmlfoo?>` is a processing instruction without data).
        if body.hasPrefix("<?xml"), body.dropFirst(5).first.map({ " \t\r\n".contains($0) }) == true, let end = body.firstRange(of: "?>") {
            body = body[end.upperBound...]
        }
        guard !body.contains("<?"), !body.contains("<!DOCTYPE"), !body.contains("<!ENTITY") else {
            throw WireError("the statement holds a processing instruction or a document type; a camt.053 has neither")
        }
        if let declaration = text.prefix(200).firstRange(of: "?>").map({ text[..<$0.upperBound] }), declaration.hasPrefix("<?xml"),
            let encoding = declaration.firstMatch(of: /encoding\s*=\s*["']([^"']*)["']/)?.1, encoding.lowercased() != "utf-8"
        {
            throw WireError("the statement declares \(encoding); only UTF-8 is read")
        }
        let reader = Camt053Reader(currency: currency)
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        guard parser.parse(), reader.error == nil else {
            throw reader.error ?? WireError("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "parse failed")")
        }
        guard reader.sawDocument else { throw WireError("not a camt.053 statement (no BkToCstmrStmt/Stmt)") }
        guard let id = reader.statementID, !id.isEmpty else { throw WireError("the statement has no Stmt/Id") }
        return BankStatement(id: id, account: reader.account ?? "", entries: reader.entries)
    }

    /// Reads the CSV form: a header `entry_ref,booking_date,direction,amount,currency,reference` and one line per
    /// booked entry (direction `CRDT`/`credit` or `DBIT`/`debit`; amount a decimal such as `1350.00`).
    public static func csv(_ text: String, id: String, account: String, currency: String) throws -> BankStatement {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard !lines.isEmpty else { throw WireError("the statement is empty") }
        let header = lines.removeFirst().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard header == ["entry_ref", "booking_date", "direction", "amount", "currency", "reference"] else {
            throw WireError("the CSV header must be entry_ref,booking_date,direction,amount,currency,reference")
        }
        var entries: [Reconciliation.Entry] = []
        for (number, line) in lines.enumerated() {
            let cells = try Self.cells(line)
            guard cells.count == 6 else { throw WireError("line \(number + 2): 6 cells expected, found \(cells.count)") }
            guard !cells[0].isEmpty, cells[0].count <= 35 else { throw WireError("line \(number + 2): entry_ref is 1-35 characters") }
            guard BankAccount.isDay(cells[1]) else { throw WireError("line \(number + 2): booking_date is YYYY-MM-DD") }
            let direction: Reconciliation.Direction
            switch cells[2].uppercased() {
            case "CRDT", "CREDIT": direction = .credit
            case "DBIT", "DEBIT": direction = .debit
            default: throw WireError("line \(number + 2): direction is CRDT or DBIT")
            }
            guard cells[4] == currency else { throw WireError("line \(number + 2): currency \(cells[4]), the account is in \(currency)") }
            let amount: Int64
            do { amount = try minorUnits(cells[3]) } catch let error as WireError { throw WireError("line \(number + 2): \(error.message)") }
            guard amount > 0 else { throw WireError("line \(number + 2): the amount must be positive") }
            entries.append(.init(entryRef: cells[0], direction: direction, amountMinor: amount, texts: [cells[5], cells[0]]))
        }
        return BankStatement(id: id, account: account, entries: entries)
    }

    /// RFC 4180 cells of one line (quoted cells may hold commas and doubled quotes).
    static func cells(_ line: String) throws -> [String] {
        var cells: [String] = [], cell = "", quoted = false, iterator = Array(line), index = 0
        while index < iterator.count {
            let character = iterator[index]
            if quoted {
                if character == "\"" {
                    if index + 1 < iterator.count, iterator[index + 1] == "\"" {
                        cell.append("\"")
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                cells.append(cell.trimmingCharacters(in: .whitespaces))
                cell = ""
            } else {
                cell.append(character)
            }
            index += 1
        }
        guard !quoted else { throw WireError("an unclosed quote") }
        cells.append(cell.trimmingCharacters(in: .whitespaces))
        iterator = []
        return cells
    }
}

/// The SAX reader of camt.053: keeps the path of element names and collects, per `Ntry`, the amount, direction,
/// status, the bank's references and every reference text of its transaction details.
final class Camt053Reader: NSObject, XMLParserDelegate, @unchecked Sendable {
    let currency: String
    var path: [String] = []
    var text = ""
    var sawDocument = false
    var statementID: String?
    var account: String?
    var entries: [Reconciliation.Entry] = []
    var error: WireError?

    struct Detail {
        var amount: String?
        var texts: [String] = []
    }
    struct Entry {
        var amount: String?
        var currency: String?
        var direction: String?
        var status: String?
        var ref: String?
        var texts: [String] = []
        var details: [Detail] = []
    }
    var entry: Entry?
    var detail: Detail?
    var pendingCurrency: String?
    var index = 0

    init(currency: String) { self.currency = currency }

    func fail(_ message: String, _ parser: XMLParser) {
        if error == nil { error = WireError(message) }
        parser.abortParsing()
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        let local = name.split(separator: ":").last.map(String.init) ?? name
        path.append(local)
        text = ""
        if path.count > 64 { fail("the document nests too deeply", parser) }
        switch local {
        case "Stmt" where path.dropLast().last == "BkToCstmrStmt": sawDocument = true
        case "Ntry": entry = Entry()
        case "TxDtls" where entry != nil: detail = Detail()
        case "Amt": pendingCurrency = attributes["Ccy"]
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let local = path.last ?? name
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parent = path.dropLast().last
        let inEntry = entry != nil
        switch local {
        case "Id" where parent == "Stmt" && !inEntry: statementID = value
        case "IBAN" where path.contains("Acct") && !inEntry && path.contains("Stmt"): account = value
        case "Id" where parent == "Othr" && path.contains("Acct") && !inEntry && path.contains("Stmt") && !path.contains("Bal"): account = value
        case "Amt" where inEntry && parent == "Ntry":
            entry?.amount = value
            entry?.currency = pendingCurrency
        case "Amt" where detail != nil && parent == "TxDtls":
            detail?.amount = value
            if pendingCurrency != nil, pendingCurrency != currency { fail("an entry in \(pendingCurrency!), the account is in \(currency)", parser) }
        case "CdtDbtInd" where parent == "Ntry": entry?.direction = value
        case "Cd" where parent == "Sts" && inEntry: entry?.status = value
        case "Sts" where parent == "Ntry" && entry?.status == nil && !value.isEmpty: entry?.status = value
        case "AcctSvcrRef" where parent == "Ntry" && !value.isEmpty: entry?.ref = value
        case "NtryRef" where parent == "Ntry" && !value.isEmpty:
            if entry?.ref == nil { entry?.ref = value }
            entry?.texts.append(value)
        case "EndToEndId", "InstrId", "Ustrd", "MndtId", "PmtInfId", "TxId":
            if detail != nil { detail?.texts.append(value) } else if inEntry { entry?.texts.append(value) }
        case "AddtlNtryInf" where inEntry: entry?.texts.append(value)
        case "TxDtls":
            if let detail { entry?.details.append(detail) }
            detail = nil
        case "Ntry":
            if let entry { finish(entry, parser) }
            entry = nil
        default: break
        }
        path.removeLast()
        text = ""
    }

    func finish(_ entry: Entry, _ parser: XMLParser) {
        index += 1
        guard entry.status == nil || entry.status == "BOOK" else { return }
        guard let amountText = entry.amount, let directionText = entry.direction else { return fail("entry \(index) has no Amt or CdtDbtInd", parser) }
        guard entry.currency == nil || entry.currency == currency else {
            return fail("entry \(index) is in \(entry.currency!), the account is in \(currency)", parser)
        }
        let direction: Reconciliation.Direction
        switch directionText {
        case "CRDT": direction = .credit
        case "DBIT": direction = .debit
        default: return fail("entry \(index): CdtDbtInd is CRDT or DBIT", parser)
        }
        let base = entry.ref ?? "\(statementID ?? "statement")#\(index)"
        do {
            let amount = try BankStatement.minorUnits(amountText)
            let split = entry.details.count > 1 && entry.details.allSatisfy { $0.amount != nil }
            if split {
                for (number, detail) in entry.details.enumerated() {
                    entries.append(
                        .init(
                            entryRef: "\(base)/\(number + 1)", direction: direction, amountMinor: try BankStatement.minorUnits(detail.amount!),
                            texts: detail.texts + entry.texts))
                }
            } else {
                entries.append(.init(entryRef: base, direction: direction, amountMinor: amount, texts: entry.details.flatMap(\.texts) + entry.texts))
            }
        } catch let wire as WireError {
            fail("entry \(index): \(wire.message)", parser)
        } catch {
            fail("entry \(index): \(error)", parser)
        }
    }
}
