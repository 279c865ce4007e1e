import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// The visitor's own page of a pass, fetched by `curl` without any certificate as a visitor's phone would: the code
/// the gate admits, entries left per park, the state after an entry, a transfer and a refund; what a stranger with a
/// guessed token, or another park, gets.
@Suite struct VisitorPageTests {
    static let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")

    /// The QR the page draws, decoded by zxing-cpp from the page's own SVG.
    static func decodedCode(_ federation: TestFederation, _ page: String) async throws -> String {
        let file = federation.directory.file("page-\(UUID().uuidString).html")
        try page.write(toFile: file, atomically: true, encoding: .utf8)
        let decoded = try await ExternalTool.run("python3", [Verifiers.path("decode_qr.py"), file])
        #expect(decoded.succeeded, "\(decoded.stderr)")
        return decoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aVisitorsLinkShowsTheCodeTheGateAdmitsAndAnOldLinkShowsNone() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let (p1, p2) = (agents[0], agents[1])
            let sale = try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: Self.holder))
            let (link, url) = try await p1.visitorLink(sale.passID)
            #expect(url == federation.hubURL + link.path && link.token.count == 43 && !link.path.contains(sale.passID))
            // No certificate: the visitor's phone.
            let page = try await federation.curl(link.path, extra: ["-H", "accept-language: zh-CN", "-D", "-"])
            #expect(page.httpStatus == 200, "\(page.body.prefix(400))")
            #expect(page.body.lowercased().contains("cache-control: no-store") && page.body.lowercased().contains("referrer-policy: no-referrer"))
            #expect(page.body.contains("id=\"qr\"") && page.body.contains("张*三") && page.body.contains("Jiangnan three-park pass"))
            #expect(!page.body.contains("11010519491231002X") && !page.body.contains("1101**"), "no document number, not even masked")
            #expect(page.body.contains("data-park=\"P002\"") && page.body.contains(">2 / 2<") && page.body.contains("有效"))
            // The code the page draws is the sold code, and another park's gate admits it.
            #expect(try await Self.decodedCode(federation, page.body) == sale.code)
            #expect(try await p2.scan(GateScanRequest(code: sale.code, gate: "G1")).decision == .allow)
            let after = try await federation.curl(link.path + "?lang=en")
            #expect(after.body.contains("data-park=\"P002\"><td>") && after.body.contains(">1 / 2<") && after.body.contains("valid"))
            // Another park cannot link a pass it did not sell, nor can anyone link a code that is not the pass's.
            await #expect(throws: (any Error).self) { _ = try await p2.visitorLink(sale.passID) }
            let other = try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: Self.holder))
            try await p1.deliverOutbox()
            let p1Cert = (p1.directory.tlsCertificate, p1.directory.tlsKey), p2Cert = (p2.directory.tlsCertificate, p2.directory.tlsKey)
            let mismatch = try await federation.curl(
                "/v1/passes/\(sale.passID)/visitor-links", certificate: p1Cert, method: "POST", body: #"{"code":"\#(other.code)"}"#)
            #expect(mismatch.httpStatus == 422 && mismatch.body.contains("code_mismatch"), "\(mismatch.body)")
            let foreign = try await federation.curl(
                "/v1/passes/\(sale.passID)/visitor-links", certificate: p2Cert, method: "POST", body: #"{"code":"\#(sale.code)"}"#)
            #expect(foreign.httpStatus == 403 && foreign.body.contains("not_issuer"), "\(foreign.body)")
            // A stranger's guess: the same small page for any wrong token, nothing about any pass.
            let guesses = try await [String(repeating: "A", count: 43), String(link.token.dropLast()) + "B", "short", "not-a-token_1"].asyncMap {
                try await federation.curl("/p/\($0)")
            }
            #expect(guesses.allSatisfy { $0.httpStatus == 404 && $0.body.contains("id=\"not-found\"") && !$0.body.contains("id=\"qr\"") })
            #expect(Set(guesses.map(\.body)).count == 1)
            // Transferred: the old link says so and shows no code; the new holder's link shows the new code.
            let transferred = try await p1.transferPass(
                sale.passID,
                PassTransferOrder(newHolder: HolderInput(name: "李四", idType: "resident_id", idNumber: "430102199003071234"), resalePriceMinor: 20_000))
            let old = try await federation.curl(link.path + "?lang=en")
            #expect(old.httpStatus == 200 && old.body.contains("id=\"no-code\"") && !old.body.contains("id=\"qr\"") && old.body.contains("replaced"))
            let (_, newURL) = try await p1.visitorLink(sale.passID)
            let fresh = try await federation.curl(String(newURL.dropFirst(federation.hubURL.count)))
            #expect(try await Self.decodedCode(federation, fresh.body) == transferred.code && fresh.body.contains("李*"))
            // Refunded: no code either.
            let (_, otherURL) = try await p1.visitorLink(other.passID)
            _ = try await p1.refundPass(other.passID, reason: "changed plans")
            let refunded = try await federation.curl(String(otherURL.dropFirst(federation.hubURL.count)) + "?lang=en")
            #expect(refunded.body.contains("refunded") && !refunded.body.contains("id=\"qr\""))
        }
    }

    /// The card holder's balance page opens only with the card's own cryptogram, once per link; another card's
    /// cryptogram, a forged one or a used link shows no balance.
    @Test func aCardsOwnProofOpensItsBalancePageOnce() async throws {
        try await TestFederation.run { federation in
            let p1 = try await federation.enroll("P001")
            federation.adopt(p1)
            let card = try SimulatedCard(try await p1.registerCard("IC-PAGE", kind: .ic))
            _ = try await p1.loadCard("IC-PAGE", loadID: "L1", promotion: "LOAD1000GET200")
            func link(_ card: SimulatedCard, as id: String? = nil) -> String {
                let proof = card.proof(.balance, park: Hub.cardPagePark, requestID: Hub.cardPageRequest)
                return Hub.cardPagePath(cardID: id ?? card.id, counter: proof.counter, cryptogram: proof.cryptogram)
            }
            let path = link(card)
            let page = try await federation.curl(path + "?lang=en", extra: ["-D", "-"])
            #expect(page.httpStatus == 200 && page.body.lowercased().contains("cache-control: no-store"), "\(page.body.prefix(300))")
            #expect(page.body.contains("id=\"available\"") && page.body.contains("1,200.00") && page.body.contains("200.00"), "\(page.body)")
            // The same link again: used, no balance.
            let again = try await federation.curl(path + "?lang=zh")
            #expect(again.httpStatus == 200 && again.body.contains("id=\"link-used\"") && !again.body.contains("id=\"available\""))
            // Another card's proof for this card, a forged cryptogram, an unknown card: the same small page.
            let other = try SimulatedCard(try await p1.registerCard("IC-OTHER", kind: .ic))
            let strangers = try await [
                link(other, as: "IC-PAGE"), Hub.cardPagePath(cardID: "IC-PAGE", counter: 99, cryptogram: String(repeating: "A", count: 22)),
                Hub.cardPagePath(cardID: "IC-NONE", counter: 1, cryptogram: String(repeating: "A", count: 22)),
            ].asyncMap { try await federation.curl($0) }
            #expect(strangers.allSatisfy { $0.httpStatus == 404 && $0.body.contains("id=\"not-found\"") && !$0.body.contains("available") })
            #expect(Set(strangers.map(\.body)).count == 1)
            // A fresh link from the card opens again.
            #expect(try await federation.curl(link(card)).body.contains("id=\"available\""))
        }
    }

    @Test func guessingTokensMeetsTheLimitPerAddress() async throws {
        try await TestFederation.run { federation in
            // 60 guesses at once from one address (curl in parallel, as a script would): the burst of 30 answers, then 429.
            let url = federation.hubURL + "/p/" + String(repeating: "Z", count: 43)
            let out = try await ExternalTool.run(
                "curl",
                ["-sS", "-Z", "--parallel-max", "30", "--cacert", federation.caFile, "-o", "/dev/null", "-w", "%{http_code}\n"]
                    + Array(repeating: url, count: 60))
            var statuses = out.stdout.split(separator: "\n").compactMap { Int($0) }
            #expect(statuses.count >= 30, "\(out.stderr)")  // the connection limit per address may refuse some outright
            // When the connection limit let exactly the burst through, the next guesses (one connection, one after
            // another, within the refill of 2 a second) meet the limit.
            let more = try await ExternalTool.run(
                "curl", ["-sS", "--cacert", federation.caFile, "-o", "/dev/null", "-w", "%{http_code}\n"] + Array(repeating: url, count: 12))
            statuses += more.stdout.split(separator: "\n").compactMap { Int($0) }
            #expect(statuses.filter { $0 == 404 }.count >= 20 && statuses.contains(429) && Set(statuses).isSubset(of: [404, 429]), "\(statuses)")
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

@Suite(.enabled(if: BrowserSupport.ready, "headless chromium, chromedriver, NSS tools and selenium"))
struct VisitorPageBrowserTests {
    /// A phone's browser: it trusts the federation root (as a public certificate authority would be trusted) and
    /// holds no client certificate.
    static func phone(_ federation: TestFederation) async throws -> String {
        let home = federation.directory.file("browser-visitor")
        let nss = home + "/.pki/nssdb"
        try FileManager.default.createDirectory(atPath: nss, withIntermediateDirectories: true)
        for arguments in [
            ["-N", "-d", "sql:" + nss, "--empty-password"], ["-A", "-d", "sql:" + nss, "-n", "parkfed-root", "-t", "C,,", "-i", federation.caFile],
        ] {
            let result = try await ExternalTool.run("certutil", arguments)
            guard result.succeeded else { throw TestSupportError("certutil: \(result.stderr)") }
        }
        return home
    }

    @Test func aVisitorsPhoneShowsTheCodeAnotherParksGateAdmitsAndTheOldLinkShowsNone() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let sale = try await agents[0].sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: VisitorPageTests.holder))
            let (old, _) = try await agents[0].visitorLink(sale.passID)
            _ = try await agents[0].transferPass(
                sale.passID,
                PassTransferOrder(newHolder: HolderInput(name: "李四", idType: "resident_id", idNumber: "430102199003071234"), resalePriceMinor: 20_000))
            let (link, _) = try await agents[0].visitorLink(sale.passID)
            let seen = try await ConsoleBrowserTests.journey(
                "visitor", base: federation.hubURL, home: try await Self.phone(federation), lang: "zh", shots: "visitor",
                ["path": link.path, "old": old.path])
            #expect(seen["state"] as? String == "有效" && seen["parks"] as? Int == 3 && seen["old_state"] as? String == "已更换", "\(seen)")
            // The code on the phone's screen, read by zxing-cpp, is admitted by another park's gate.
            let decoded = try await ExternalTool.run("python3", [Verifiers.path("decode_qr.py"), try #require(seen["qr"] as? String)])
            let code = decoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(decoded.succeeded && code.hasPrefix("eyJ"), "\(decoded.stderr)")
            #expect(try await agents[1].scan(GateScanRequest(code: code, gate: "G1")).decision == .allow)
        }
    }
}
