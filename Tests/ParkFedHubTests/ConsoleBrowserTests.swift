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

    /// Runs one journey of the browser script; its JSON answer.
    static func journey(
        _ federation: TestFederation, _ name: String, home: String, lang: String = "en", shots: String, _ arguments: [String: String] = [:]
    ) async throws -> [String: Any] {
        let result = try await ExternalTool.run(
            "python3",
            [Verifiers.path("console_browser.py"), name, "--hub", federation.hubURL, "--home", home, "--shots", shots, "--lang", lang, "--name", name]
                + arguments.map { "\($0.key)=\($0.value)" })
        let answer = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        guard result.succeeded, answer["ok"] as? Bool == true else {
            throw TestSupportError("browser journey \(name) failed: \(result.stdout.prefix(3000)) \(result.stderr.suffix(2000))")
        }
        return answer
    }

    @Test func clearingStaffRegulatorsAndTheOperatorDoTheirJobsInTheBrowser() async throws {
        try await TestFederation.run { federation in
            let (_, batch, day) = try await ConsoleTests.closedDay(federation)
            let shots = Self.screenshots
            try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
            // The policy that lets the browser present its one certificate to this hub without asking.
            let policy = BrowserSupport.policyDirectory + "/parkfed-test-\(federation.hubPort).json"
            let pattern = #"{\"pattern\":\"https://127.0.0.1:\#(federation.hubPort)\",\"filter\":{}}"#
            try #"{"AutoSelectCertificateForUrls": ["\#(pattern)"]}"#.write(toFile: policy, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: policy) }

            // Clearing staff, in Chinese: approve the batch, record each party's payment reference, follow an
            // obligation to its proven log entry. The command line agrees.
            let clearing = try await Self.profile(federation, .clearing("C01"), name: "clearing")
            let cleared = try await Self.journey(
                federation, "clearing", home: clearing, lang: "zh", shots: shots, ["batch": batch, "principal": "clearing:C01"])
            #expect(cleared["lang"] as? String == "zh")
            let record = try await federation.hub.settlementBatch(batch)
            #expect(record.state == "paid" && record.approvedBy == "clearing:C01")
            let references = try #require(cleared["references"] as? [String: String])
            #expect(record.payments == references && !references.isEmpty)
            let show = try await ExternalTool.run(
                try BackgroundProcess.parkfedExecutable(), ["settle", "show", "--data", federation.hub.directory.path, "--day", day.description])
            #expect(show.succeeded && show.stdout.contains("paid"), "\(show.stdout)\(show.stderr)")

            // A regulator looks a document up; the query is in the signed log, and among their past queries.
            let regulator = try await Self.profile(federation, .regulator("R01"), name: "regulator")
            let looked = try await Self.journey(federation, "regulator", home: regulator, shots: shots, ["id_number": "11010519491231002X"])
            let index = try #require(looked["log_index"] as? Int)
            let entry = try #require(try await federation.hub.store.logEntry(index: UInt64(index)))
            #expect(entry.park == RegulatorQueryStatement.logParty && entry.jws.split(separator: ".").count == 3)
            #expect((looked["purchases"] as? Int) == 1 && (looked["entries"] as? Int) == 1)
            // Another role's page is a 403 page in the browser too.
            let refused = try await Self.journey(federation, "forbidden", home: regulator, shots: shots, ["path": "/console/settlement"])
            #expect(refused["code"] as? String == "forbidden_for_principal")

            // The operator makes a token; the park enrolls with it; the operator revokes the park, whose next call
            // is refused.
            let operatorHome = try await Self.profile(federation, .operator("O01"), name: "operator")
            let made = try await Self.journey(federation, "operator-token", home: operatorHome, shots: shots, ["park": "P009", "name": "Park Nine"])
            let token = try #require(made["token"] as? String)
            let directory = NodeDirectory(federation.directory.file("P009"))
            _ = try await NodeEnrollment.enroll(
                directory: directory, hubURL: federation.hubURL, park: try ParkID("P009"), token: token, caFile: federation.caFile)
            let before = try await federation.curl("/v1/whoami", certificate: (directory.tlsCertificate, directory.tlsKey))
            #expect(before.httpStatus == 200, "\(before.body)")
            _ = try await Self.journey(federation, "operator-revoke", home: operatorHome, shots: shots, ["park": "P009"])
            let after = try await federation.curl("/v1/whoami", certificate: (directory.tlsCertificate, directory.tlsKey))
            #expect(after.httpStatus == 401 || after.httpStatus == 403, "\(after.body)")
        }
    }
}
