import Foundation
import ParkFedDomain
import ParkFedProtocol
import Testing

/// Bank identifiers, amounts and the bank statement reader, without a hub.
@Suite struct ISO20022Tests {
    @Test func bankAccountsAreCNAPSAndAccountOrBICAndAValidIBAN() throws {
        try BankAccount(holder: "West Lake", cnaps: "102331000011", account: "1202020209000012345").validate("t")
        try BankAccount(holder: "Pavillon", bic: "AGRIFRPP", iban: "FR7630006000011234567890189").validate("t")
        #expect(BankAccount.isIBAN("GB82WEST12345698765432") && !BankAccount.isIBAN("GB82WEST12345698765433"))
        #expect(BankAccount.isBIC("DEUTDEFF500") && !BankAccount.isBIC("DEUT1EFF") && !BankAccount.isBIC("deutdeff"))
        for bad in [
            BankAccount(holder: "x", cnaps: "10233100001", account: "1202020209"),  // 11 digits
            BankAccount(holder: "x", cnaps: "102331000011", account: "12AB5678"),
            BankAccount(holder: "x", bic: "AGRIFRPP", iban: "FR7630006000011234567890188"),  // check digits fail
            BankAccount(holder: "x", cnaps: "102331000011", account: "1202020209", bic: "AGRIFRPP"),  // both kinds
            BankAccount(holder: " ", cnaps: "102331000011", account: "1202020209"),
            BankAccount(holder: "x", cnaps: "102331000011", account: "1202020209", mandate: .init(id: "has space", signedOn: "2026-01-01")),
        ] {
            #expect(throws: WireError.self) { try bad.validate("bad") }
        }
    }

    @Test func amountsAreExactMinorUnitsBothWays() throws {
        let parsed = try ["1350.00", "1350.5", "7", "0.01"].map { try BankStatement.minorUnits($0) }
        #expect(parsed == [135_000, 135_050, 700, 1])
        for bad in ["1,350.00", "-1.00", "1.005", "1.", ".5", "", "1e3", "99999999999999999999"] {
            #expect(throws: WireError.self, "\(bad)") { try BankStatement.minorUnits(bad) }
        }
        #expect(PaymentRun.amount(135_050, currency: "CNY") == "1350.50" && PaymentRun.amount(7, currency: "CNY") == "0.07")
        #expect(PaymentRun.amount(1_200, currency: "JPY") == "1200")
        #expect(PaymentRun.reference(day: try CivilDay("2026-12-01"), party: "P002") == "PF20261201-P002")
        #expect(PaymentRun.reference(day: try CivilDay("2026-12-01"), party: String(repeating: "P", count: 32)).count == 35)
    }

    @Test func aCamt053EntryWithSeveralTransactionsBecomesOneLineEach() throws {
        let xml = """
            <?xml version="1.0"?>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>
            <Stmt><Id>ST-1</Id><Acct><Id><Othr><Id>33010120000012345678</Id></Othr></Id></Acct>
            <Bal><Amt Ccy="CNY">5.00</Amt></Bal>
            <Ntry><NtryRef>N1</NtryRef><Amt Ccy="CNY">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><AcctSvcrRef>B1</AcctSvcrRef>
              <NtryDtls><TxDtls><Refs><EndToEndId>PF20261201-P001</EndToEndId></Refs><Amt Ccy="CNY">10.00</Amt></TxDtls>
              <TxDtls><Refs><EndToEndId>PF20261201-P003</EndToEndId></Refs><Amt Ccy="CNY">20.00</Amt></TxDtls></NtryDtls></Ntry>
            <Ntry><Amt Ccy="CNY">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts></Ntry>
            <Ntry><Amt Ccy="CNY">2.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><NtryDtls><TxDtls><RmtInf><Ustrd>fee &amp; charges</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
            </Stmt></BkToCstmrStmt></Document>
            """
        let statement = try BankStatement.camt053(Data(xml.utf8), currency: "CNY")
        #expect(statement.id == "ST-1" && statement.account == "33010120000012345678")
        #expect(
            statement.entries.map { "\($0.entryRef) \($0.direction.rawValue) \($0.amountMinor) \($0.texts.joined(separator: "|"))" } == [
                "B1/1 credit 1000 PF20261201-P001|N1", "B1/2 credit 2000 PF20261201-P003|N1", "ST-1#3 debit 200 fee & charges",
            ])
        #expect(throws: WireError.self) {
            try BankStatement.camt053(Data(xml.replacingOccurrences(of: "Ccy=\"CNY\">30", with: "Ccy=\"EUR\">30").utf8), currency: "CNY")
        }
        #expect(throws: WireError.self) { try BankStatement.camt053(Data("<Document/>".utf8), currency: "CNY") }
        #expect(throws: WireError.self) { try BankStatement.camt053(Data("not xml".utf8), currency: "CNY") }
        // Found by fuzzing: a byte that is not UTF-8 in a namespace made FoundationXML trap; it is refused first.
        var broken = Data(#"<?xml version="1.0"?><Document xmlns="u"#.utf8)
        broken.append(0xF8)
        broken.append(contentsOf: Data(#"rn:x"><BkToCstmrStmt/></Document>"#.utf8))
        #expect(throws: WireError.self) { try BankStatement.camt053(broken, currency: "CNY") }
        // Found by fuzzing too: a processing instruction without data made FoundationXML crash (it reads a NULL);
        // control characters and document types are refused with them.
        for hostile in [
            "<?xml version=\"1.0\"?><?x?><Document><BkToCstmrStmt/></Document>", "<?<?xmlCFRunLoopRef?>\n<Document/>", "<?xml0veEndd?>\n<Document/>",
            "<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:\u{0}20022\"><BkToCstmrStmt/></Document>",
            "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY e \"x\">]><Document>&e;</Document>",
        ] {
            #expect(throws: WireError.self) { try BankStatement.camt053(Data(hostile.utf8), currency: "CNY") }
        }
        #expect(throws: WireError.self) {
            try BankStatement.camt053(
                Data(xml.replacingOccurrences(of: "<?xml version=\"1.0\"?>", with: "<?xml version=\"1.0\" encoding=\"UTF-16\"?>").utf8), currency: "CNY")
        }
    }

    @Test func theCSVFormIsReadStrictly() throws {
        let csv = "entry_ref,booking_date,direction,amount,currency,reference\nE1,2026-12-03,CRDT,91.50,CNY,\"PF20261201-P001, thanks\"\n"
        let statement = try BankStatement.csv(csv, id: "C", account: "A", currency: "CNY")
        #expect(statement.entries == [.init(entryRef: "E1", direction: .credit, amountMinor: 9_150, texts: ["PF20261201-P001, thanks", "E1"])])
        for bad in [
            "ref,date\nE1,2026-12-03", csv.replacingOccurrences(of: "CRDT", with: "IN"), csv.replacingOccurrences(of: ",CNY,", with: ",USD,"),
            csv.replacingOccurrences(of: "91.50", with: "0"), csv.replacingOccurrences(of: "2026-12-03", with: "3/12/2026"),
        ] {
            #expect(throws: WireError.self) { try BankStatement.csv(bad, id: "C", account: "A", currency: "CNY") }
        }
    }
}
