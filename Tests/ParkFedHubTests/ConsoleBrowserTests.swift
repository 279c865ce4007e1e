import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Each person's job in the hub console, in Debian's headless Chromium driven by selenium
/// (`Tests/verifiers/console_browser.py`), signed in with their own federation certificate: imported into the
/// browser's NSS database with `pk12util` and chosen by Chromium's `AutoSelectCertificateForUrls` policy. Every page
/// the browser saw is kept as a screenshot in `$PARKFED_SCREENSHOTS` (default `.build/console-screenshots`).
/// Whether this machine can run the browser tests (CI installs what they need: `scripts/install-deps --with-browser`).
enum BrowserSupport {
    static let policyDirectory = "/etc/chromium/policies/managed"

    static var ready: Bool {
        let files = FileManager.default
        guard ["/usr/bin/chromium", "/usr/bin/chromedriver", "/usr/bin/pk12util", "/usr/bin/certutil"].allSatisfy(files.isExecutableFile(atPath:)) else {
            return false
        }
        try? files.createDirectory(atPath: policyDirectory, withIntermediateDirectories: true)
        guard files.isWritableFile(atPath: policyDirectory) else { return false }
        return (try? ExternalTool.runBlocking("python3", ["-c", "import selenium"]).succeeded) == true
    }
}

@Suite(.enabled(if: BrowserSupport.ready, "headless chromium, chromedriver, NSS tools, selenium and a writable policy directory"))
struct ConsoleBrowserTests {

    static var screenshots: String {
        ProcessInfo.processInfo.environment["PARKFED_SCREENSHOTS"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Verifiers.repositoryRoot + "/.build/console-screenshots"
    }

    /// A browser home for `principal`: an NSS database that trusts the federation root and holds the principal's
    /// certificate and key (PKCS#12 made by openssl, imported by pk12util).
    static func profile(_ federation: TestFederation, _ principal: Principal, name: String) async throws -> String {
        let credentials = try await federation.issueCertificate(for: principal, name: name)
        let home = federation.directory.file("browser-\(name)")
        let nss = home + "/.pki/nssdb"
        try FileManager.default.createDirectory(atPath: nss, withIntermediateDirectories: true)
        let p12 = federation.directory.file("\(name).p12")
        for (tool, arguments) in [
            (
                "openssl",
                ["pkcs12", "-export", "-in", credentials.certificate, "-inkey", credentials.key, "-out", p12, "-passout", "pass:", "-name", name]
            ),
            ("certutil", ["-N", "-d", "sql:" + nss, "--empty-password"]),
            ("certutil", ["-A", "-d", "sql:" + nss, "-n", "parkfed-root", "-t", "C,,", "-i", federation.caFile]),
            ("pk12util", ["-i", p12, "-d", "sql:" + nss, "-W", ""]),
        ] {
            let result = try await ExternalTool.run(tool, arguments)
            guard result.succeeded else { throw TestSupportError("\(tool) \(arguments.first ?? ""): \(result.stderr)") }
        }
        return home
    }

    /// Runs one journey of the browser script against `base` (the hub's or a node's URL); its JSON answer.
    static func journey(
        _ name: String, base: String, home: String, lang: String = "en", shots label: String? = nil, _ arguments: [String: String] = [:]
    ) async throws -> [String: Any] {
        let result = try await ExternalTool.run(
            "python3",
            [Verifiers.path("console_browser.py"), name, "--hub", base, "--home", home, "--shots", screenshots, "--lang", lang, "--name", label ?? name]
                + arguments.map { "\($0.key)=\($0.value)" })
        let answer = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        guard result.succeeded, answer["ok"] as? Bool == true else {
            // A failed expectation leaves its JSON on stderr (SystemExit): what failed and where first.
            let failure = (try? JSONSerialization.jsonObject(with: Data(result.stderr.utf8))) as? [String: Any]
            if let failure, let error = failure["error"] as? String {
                throw TestSupportError(
                    "browser journey \(name) failed: \(error) at \(failure["url"] ?? "?"); page: \(String(describing: failure["body"]).prefix(1500))")
            }
            throw TestSupportError("browser journey \(name) failed: \(result.stdout.prefix(3000)) \(result.stderr.suffix(2000))")
        }
        return answer
    }

    @Test func clearingStaffRegulatorsAndTheOperatorDoTheirJobsInTheBrowser() async throws {
        try await TestFederation.run { federation in
            let (agents, batch, day) = try await ConsoleTests.closedDay(federation)
            // Something for clearing staff to settle: a transfer nobody expected on the bank statement, and P002
            // disputing its line of the batch.
            let profile = try #require(try await federation.hub.clearingAccounts().profile)
            let stray = SimulatedBank.camt053(
                id: "STMT-STRAY", account: profile.account, currency: "CNY", day: day,
                bookings: [.init(ref: "BK-STRAY", direction: .credit, amountMinor: 1_234, remittance: "misdirected", counterparty: "Someone")],
                createdAt: Date())
            _ = try await federation.hub.importStatement(Data(stray.utf8), format: "camt053", by: .clearing("C02"))
            let line = try #require(try await federation.hub.settlementExport(try await federation.hub.settlementBatch(batch)).obligations.first)
            let dispute = try await agents[1].fileDispute(batch: batch, seq: line.seq, reason: "the visitor never entered")
            try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
            // The policy that lets the browser present its one certificate to this hub without asking.
            let policy = BrowserSupport.policyDirectory + "/parkfed-test-\(federation.hubPort).json"
            let pattern = #"{\"pattern\":\"https://127.0.0.1:\#(federation.hubPort)\",\"filter\":{}}"#
            try #"{"AutoSelectCertificateForUrls": ["\#(pattern)"]}"#.write(toFile: policy, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: policy) }

            // Clearing staff, in Chinese: approve the batch, record each party's payment reference, follow an
            // obligation to its proven log entry. The command line agrees.
            let clearing = try await Self.profile(federation, .clearing("C01"), name: "clearing")
            let cleared = try await Self.journey(
                "clearing", base: federation.hubURL, home: clearing, lang: "zh", ["batch": batch, "principal": "clearing:C01"])
            #expect(cleared["lang"] as? String == "zh")
            let record = try await federation.hub.settlementBatch(batch)
            #expect(record.state == "paid" && record.approvedBy == "clearing:C01")
            // The exception was resolved and the dispute accepted in the browser, each with its reason.
            #expect(try await federation.hub.clearingExceptions(open: true).isEmpty)
            let decided = try await federation.hub.disputeView(dispute.id, for: .hub)
            #expect(decided.state == "accepted" && decided.decidedBy == "clearing:C01" && decided.decisionReason == cleared["decision_reason"] as? String)
            let references = try #require(cleared["references"] as? [String: String])
            #expect(record.payments == references && !references.isEmpty)
            let show = try await ExternalTool.run(
                try BackgroundProcess.parkfedExecutable(), ["settle", "show", "--data", federation.hub.directory.path, "--day", day.description])
            #expect(show.succeeded && show.stdout.contains("paid"), "\(show.stdout)\(show.stderr)")
            // On a tablet and a phone: no page scrolls sideways, every button is big enough to touch.
            _ = try await Self.journey(
                "tablet", base: federation.hubURL, home: clearing, shots: "tablet-clearing",
                [
                    "paths":
                        "/console/settlement,/console/settlement/\(batch),/console/settlement/\(batch)/parks/P001,/console/settlement/exceptions,/console/settlement/disputes"
                ])

            // A regulator looks a document up; the query is in the signed log, and among their past queries.
            let regulator = try await Self.profile(federation, .regulator("R01"), name: "regulator")
            let looked = try await Self.journey(
                "regulator", base: federation.hubURL, home: regulator, ["id_number": "11010519491231002X", "day": day.description])
            let index = try #require(looked["log_index"] as? Int)
            let entry = try #require(try await federation.hub.store.logEntry(index: UInt64(index)))
            #expect(entry.park == RegulatorQueryStatement.logParty && entry.jws.split(separator: ".").count == 3)
            #expect((looked["purchases"] as? Int) == 1 && (looked["entries"] as? Int) == 1)
            #expect((looked["report_rows"] as? Int ?? 0) > 0 && (looked["occupancy_parks"] as? Int ?? 0) > 0, "\(looked)")
            // Another role's page is a 403 page in the browser too.
            _ = try await Self.journey(
                "tablet", base: federation.hubURL, home: regulator, shots: "tablet-regulator",
                [
                    "paths":
                        "/console/regulator,/console/regulator/traffic,/console/regulator/sales,/console/regulator/occupancy,/console/regulator/warnings,/console/regulator/reports"
                ])
            let refused = try await Self.journey("forbidden", base: federation.hubURL, home: regulator, ["path": "/console/settlement"])
            #expect(refused["code"] as? String == "forbidden_for_principal")

            // The operator makes a token; the park enrolls with it; the operator revokes the park, whose next call
            // is refused.
            let operatorHome = try await Self.profile(federation, .operator("O01"), name: "operator")
            let made = try await Self.journey("operator-token", base: federation.hubURL, home: operatorHome, ["park": "P009", "name": "Park Nine"])
            _ = try await Self.journey("tablet", base: federation.hubURL, home: operatorHome, shots: "tablet-operator", ["paths": "/console/operator"])
            let token = try #require(made["token"] as? String)
            let directory = NodeDirectory(federation.directory.file("P009"))
            _ = try await NodeEnrollment.enroll(
                directory: directory, hubURL: federation.hubURL, park: try ParkID("P009"), token: token, caFile: federation.caFile)
            let before = try await federation.curl("/v1/whoami", certificate: (directory.tlsCertificate, directory.tlsKey))
            #expect(before.httpStatus == 200, "\(before.body)")
            _ = try await Self.journey("operator-revoke", base: federation.hubURL, home: operatorHome, ["park": "P009"])
            let after = try await federation.curl("/v1/whoami", certificate: (directory.tlsCertificate, directory.tlsKey))
            #expect(after.httpStatus == 401 || after.httpStatus == 403, "\(after.body)")
        }
    }
}

/// The node console in the browser: the duty manager evacuates the park and brings it back (the gates' answers
/// change), and a window sells a pass whose printed QR, decoded with zxing-cpp from a screenshot, a gate admits.
@Suite(.enabled(if: BrowserSupport.ready, "headless chromium, chromedriver, NSS tools and selenium"))
struct NodeConsoleBrowserTests {
    /// A browser home that trusts the park's LAN CA (the node console's certificate), with no client certificate.
    static func profile(_ federation: TestFederation, _ agent: NodeAgent, name: String) async throws -> String {
        let home = federation.directory.file("browser-\(name)")
        let nss = home + "/.pki/nssdb"
        try FileManager.default.createDirectory(atPath: nss, withIntermediateDirectories: true)
        for arguments in [
            ["-N", "-d", "sql:" + nss, "--empty-password"], ["-A", "-d", "sql:" + nss, "-n", "park-lan", "-t", "C,,", "-i", agent.directory.lanCA],
        ] {
            let result = try await ExternalTool.run("certutil", arguments)
            guard result.succeeded else { throw TestSupportError("certutil: \(result.stderr)") }
        }
        return home
    }

    @Test func aVisitorSignsUpInTheBrowserWithTheCodeFromTheirMailboxAndKeepsAHolder() async throws {
        try await TestFederation.run { federation in
            let mailbox = try await ShopAccountTests.mailbox(federation)
            try FileManager.default.createDirectory(atPath: ConsoleBrowserTests.screenshots, withIntermediateDirectories: true)
            let home = try await VisitorPageBrowserTests.phone(federation)
            let signedUp = try await ConsoleBrowserTests.journey(
                "shop-signup", base: federation.hubURL, home: home, lang: "zh",
                ["email": "xiao.zhang@example.com", "mailbox": mailbox, "holder_name": "张小三", "holder_number": "11010519491231002X"])
            #expect(signedUp["contact"] as? String == "x***@example.com" && signedUp["lang"] as? String == "zh", "\(signedUp)")
            #expect((signedUp["holders"] as? [String])?.contains { $0.contains("张*三") && $0.contains("1101**********002X") } == true, "\(signedUp)")
            // The shop's pages on a tablet and a phone: no sideways scroll, buttons big enough to touch.
            _ = try await ConsoleBrowserTests.journey(
                "tablet", base: federation.hubURL, home: home, shots: "tablet-shop",
                ["paths": "/shop/account/sign-up,/shop/account/sign-in,/shop/terms,/shop/privacy"])
        }
    }

    /// The example federation with its timed museum ticket's two windows covering the whole day (so that the slot
    /// open now can be booked and admitted whenever the test runs).
    static func partnersWithAllDaySlots() throws -> String {
        let copy = NSTemporaryDirectory() + "parkfed-partners-" + UUID().uuidString
        try FileManager.default.copyItem(atPath: TestFederation.partnersDirectory, toPath: copy)
        let file = copy + "/products.json"
        var catalog = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        var products = try #require(catalog["products"] as? [[String: Any]])
        for index in products.indices where products[index]["id"] as? String == "MUSEUM-TIMED" {
            products[index]["time_slots"] = [
                ["id": "AM", "start": "00:00", "end": "12:00", "capacity": 400], ["id": "PM", "start": "12:00", "end": "24:00", "capacity": 600],
            ]
        }
        catalog["products"] = products
        try JSONSerialization.data(withJSONObject: catalog, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: file))
        return copy
    }

    @Test func aVisitorBooksATimedTicketPaysOpensTheETicketIsAdmittedAndHasARefundDecided() async throws {
        let partners = try Self.partnersWithAllDaySlots()
        defer { try? FileManager.default.removeItem(atPath: partners) }
        try await TestFederation.run(partners: partners) { federation in
            let hub = federation.hub
            _ = try await hub.importResellers(file: partners + "/resellers.json")
            let museum = try await federation.enrollParks(["P003"])[0]
            let mailbox = try await ShopAccountTests.mailbox(federation)
            try FileManager.default.createDirectory(atPath: ConsoleBrowserTests.screenshots, withIntermediateDirectories: true)
            let home = try await VisitorPageBrowserTests.phone(federation)
            _ = try await ConsoleBrowserTests.journey(
                "shop-signup", base: federation.hubURL, home: home, lang: "zh", shots: "shop-book-signup",
                ["email": "xiao.zhang@example.com", "mailbox": mailbox, "holder_name": "张小三", "holder_number": "11010519491231002X"])
            // Book the slot open now for both holders, pay with the test provider, open the first e-ticket.
            let booked = try await ConsoleBrowserTests.journey(
                "shop-book", base: federation.hubURL, home: home, lang: "zh",
                ["product": "MUSEUM-TIMED", "holder_name": "李四", "holder_number": "110105198806150040"])
            let passes = try #require(booked["passes"] as? [String])
            let order = try #require(booked["order"] as? String)
            #expect(passes.count == 2 && (booked["tickets"] as? [Any])?.count == 2, "\(booked)")
            // The e-tickets went to the visitor's mailbox too.
            let mail = try String(contentsOfFile: mailbox, encoding: .utf8)
            #expect(mail.contains("电子票") || mail.contains("\\u7535\\u5b50\\u7968"), "\(mail.suffix(300))")
            // The gate reads the QR from the e-ticket's page and admits it.
            let decoded = try await ExternalTool.run("python3", [Verifiers.path("decode_qr.py"), try #require(booked["qr"] as? String)])
            #expect(decoded.succeeded, "\(decoded.stderr)")
            let admitted = try await museum.scan(GateScanRequest(code: decoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines), gate: "G1"))
            #expect(admitted.decision == .allow, "\(admitted)")
            // The other ticket's refund: its slot has begun, so the seller's staff decide; the visitor sees it waiting.
            let other = try #require(passes.first { $0 != admitted.passID })
            let asked = try await ConsoleBrowserTests.journey("shop-refund", base: federation.hubURL, home: home, lang: "zh", ["order": order, "pass": other])
            #expect((asked["refund"] as? String)?.contains("等待售票方审核") == true, "\(asked)")
            let operatorStaff = try await federation.issueCertificate(for: .operator("O01"), name: "operator")
            let queue = try await federation.curl("/console/operator/refunds", certificate: operatorStaff)
            let waiting = try #require(try await hub.store.shopRefunds(statuses: [.review]).first)
            #expect(queue.httpStatus == 200 && queue.body.contains("data-refund=\"\(waiting.id)\""), "\(queue.body.prefix(300))")
            _ = try await hub.decideShopRefund(waiting.id, approve: true, by: "operator:O01", note: "不可抗力")
            let decided = try await ConsoleBrowserTests.journey(
                "shop-refund", base: federation.hubURL, home: home, lang: "zh", shots: "shop-refunded", ["order": order, "pass": other, "view": "yes"])
            #expect((decided["refund"] as? String).map { $0.contains("已退款") && $0.contains("60.00") } == true, "\(decided)")
            #expect(try await hub.store.pass(other)?.refundedMinor == 6_000)
        }
    }

    @Test func theDutyManagerEvacuatesAndAWindowSellsATicketAGateAdmits() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let server = try await federation.serve(p1)
            try FileManager.default.createDirectory(atPath: ConsoleBrowserTests.screenshots, withIntermediateDirectories: true)
            let home = try await Self.profile(federation, p1, name: "node-p001")
            let manager = try await p1.addDevice(name: "duty-manager", role: .operator).token
            let window = try await p1.addDevice(name: "window-1", role: .window).token
            let gate = try await p1.addDevice(name: "gate-1", role: .gate).token
            func gateAnswer(_ code: String) async throws -> [String: Any] {
                let reply = try await TestFederation.nodeCurl(server, "/v1/gate/scans", token: gate, method: "POST", body: #"{"code":"\#(code)","gate":"G1"}"#)
                return reply.json
            }
            // Normal: a code that is no ticket is refused.
            #expect(try await gateAnswer("NOT-A-TICKET")["decision"] as? String == "deny")
            let evacuated = try await ConsoleBrowserTests.journey(
                "node-manager", base: server.baseURL, home: home, lang: "zh",
                ["credential": manager, "mode": "evacuation", "reason": "消防演练", "keyboard": "yes"])
            #expect(evacuated["mode"] as? String == "疏散")
            let open = try await gateAnswer("NOT-A-TICKET")
            #expect(open["decision"] as? String == "allow" && open["mode"] as? String == "evacuation", "\(open)")
            _ = try await ConsoleBrowserTests.journey(
                "node-manager", base: server.baseURL, home: home, ["credential": manager, "mode": "normal", "reason": "drill over"])
            #expect(try await gateAnswer("NOT-A-TICKET")["decision"] as? String == "deny")
            #expect(await p1.status().modeChanges.first?.by == "device:duty-manager")
            _ = try await ConsoleBrowserTests.journey(
                "tablet", base: server.baseURL, home: home, shots: "tablet-node",
                ["credential": manager, "paths": "/console/manager,/console/devices,/console/window"])

            // The window sells; the printed QR, read back from the page, is admitted at another park's gate.
            let sold = try await ConsoleBrowserTests.journey(
                "node-window", base: server.baseURL, home: home, ["credential": window, "holder": "李四", "id_number": "11010519491231002X"])
            let qr = try #require(sold["qr"] as? String)
            let decoded = try await ExternalTool.run("python3", [Verifiers.path("decode_qr.py"), qr])
            #expect(decoded.succeeded, "\(decoded.stderr)")
            let code = decoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let admitted = try await p2.scan(GateScanRequest(code: code, gate: "G2"))
            #expect(admitted.decision == .allow && admitted.passID == sold["pass"] as? String, "\(admitted)")
            #expect((sold["holder"] as? String)?.contains("李*") == true)
        }
    }
}
