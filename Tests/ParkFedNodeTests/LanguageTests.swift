import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Gate answers, error titles and reports in Chinese and English, from the catalogue files.
@Suite struct LanguageTests {
    @Test func bothCataloguesSayEverythingAndEveryRefusalHasAText() {
        #expect(MessageCatalog.keys(.en) == MessageCatalog.keys(.zh) && !MessageCatalog.keys(.en).isEmpty)
        for refusal in PassRefusal.allCases { #expect(MessageCatalog.has("gate.deny.\(refusal.rawValue)"), "\(refusal)") }
        #expect(MessageCatalog.Language(acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8") == .zh)
        #expect(MessageCatalog.Language(acceptLanguage: "en-US,zh;q=0.5") == .en)
        #expect(MessageCatalog.Language(acceptLanguage: "fr-FR") == .en && MessageCatalog.Language(acceptLanguage: nil) == .en)
    }

    @Test func placeholdersAreFilledOnceAndAnythingElseInBracesIsKept() {
        #expect(MessageCatalog.text("gate.allow", .en, ["name": "张*三", "left": "2"]) == "Welcome, 张*三. 2 entries left here.")
        #expect(MessageCatalog.text("gate.allow", .zh, ["name": "张*三", "left": "2"]) == "欢迎，张*三。本园还可入园 2 次。")
        // A value that looks like a placeholder is written as it is, not filled again; a placeholder without a value
        // stays; no values leave the text alone.
        #expect(MessageCatalog.text("gate.allow", .en, ["name": "{left}", "left": "1"]) == "Welcome, {left}. 1 entries left here.")
        #expect(MessageCatalog.text("gate.allow", .en, ["name": "Li"]) == "Welcome, Li. {left} entries left here.")
        #expect(MessageCatalog.text("gate.allow", .en) == "Welcome, {name}. {left} entries left here.")
        #expect(MessageCatalog.text("no.such.key {x}", .en, ["x": "y"]) == "no.such.key y")
    }

    @Test func theSameGateRefusalAndErrorInChineseAndEnglishAndTheReportInBoth() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Languages", settlementTime: nil)) { federation in
            let agents = try await federation.enrollParks(["P001", "P003"])
            let server = try await federation.serve(agents[1])
            federation.adopt(server)
            let gate = try await agents[1].addDevice(name: "gate-1", role: .gate).token
            let pass = try await agents[0].sellPass(
                PassSaleRequest(
                    product: "JIANGNAN-3P", channel: "window",
                    holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")))
            func scan(_ language: String, token: String = gate) async throws -> String {
                try await ExternalTool.run(
                    "curl",
                    server.curlTrust + [
                        "-sS", "-i", server.baseURL + "/v1/gate/scans", "-H", "authorization: Bearer \(token)",
                        "-H", "accept-language: \(language)", "-H", "content-type: application/json",
                        "-d", #"{"code":"\#(pass.code)","gate":"G1"}"#,
                    ]
                ).stdout
            }
            let welcome = try await scan("zh-CN")
            #expect(welcome.contains("欢迎，张*三。本园还可入园 0 次。") && welcome.lowercased().contains("content-language: zh"), "\(welcome)")
            // The same refusal, in both languages; the machine reason is the same.
            let chinese = try await scan("zh-CN,zh;q=0.9")
            let english = try await scan("en-GB")
            #expect(chinese.contains(#""reason":"already_used""#) && chinese.contains("此票在本园的入园次数已用完。"), "\(chinese)")
            #expect(english.contains(#""reason":"already_used""#) && english.contains("This pass has no entries left here."), "\(english)")
            // Errors: the title follows the language, the code does not change.
            let refused = try await scan("zh", token: "pfd_nonsense")
            #expect(refused.contains("设备凭证无效或已吊销") && refused.contains(#""code":"unknown_device""#), "\(refused)")
            // The settlement report.
            try await agents[0].deliverOutbox()
            let today = federation.hub.passes.calendar.day(of: Date())
            _ = try await federation.hub.runSettlement(day: today, now: federation.hub.endOfDay(today).addingTimeInterval(1))
            let parkfed = try BackgroundProcess.parkfedExecutable()
            let zh = try await ExternalTool.run(
                parkfed, ["settle", "show", "--data", federation.hub.directory.path, "--day", today.description, "--lang", "zh"])
            #expect(zh.succeeded && zh.stdout.contains("净头寸") && zh.stdout.contains("应付") && zh.stdout.contains("结算批次 S-\(today)"), "\(zh.stdout)\(zh.stderr)")
            let en = try await ExternalTool.run(parkfed, ["settle", "show", "--data", federation.hub.directory.path, "--day", today.description])
            #expect(en.stdout.contains("net position") && en.stdout.contains("pays"))
        }
    }
}
