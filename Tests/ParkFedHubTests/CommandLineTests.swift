import Foundation
import ParkFedProtocol
import ParkFedTesting
import Testing

/// The `parkfed` command as an operator and a park use it: separate processes sharing only files and HTTPS.
@Suite struct CommandLineTests {
    static func parkfed(_ arguments: [String]) async throws -> ExternalTool.Result {
        try await ExternalTool.run(try BackgroundProcess.parkfedExecutable(), arguments)
    }

    @Test func operatorAndParkRunTheWholeFabricFromTheCommandLine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let hubDir = directory.file("hub"), nodeDir = directory.file("node")
        let initialised = try await Self.parkfed(["hub", "init", "--data", hubDir, "--federation", "CLI Federation"])
        #expect(initialised.succeeded, "\(initialised.stderr)")
        for key in ["ca-key.pem", "hub-key.pem", "hub-signing-key.pem", "hub.sqlite"] {
            let mode = try FileManager.default.attributesOfItem(atPath: hubDir + "/" + key)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(key) must be 0600")
        }
        #expect(try await Self.parkfed(["hub", "init", "--data", hubDir]).succeeded == false, "init must not overwrite a hub")

        let tokenRun = try await Self.parkfed(["hub", "enroll-token", "--data", hubDir, "--park", "P001", "--name", "West Lake"])
        #expect(tokenRun.succeeded)
        let token = tokenRun.stdout.trimmingCharacters(in: .newlines)
        #expect(!token.contains("\n") && token.hasPrefix("pfe_"), "the token alone on stdout: \(tokenRun.stdout)")
        #expect(!tokenRun.stderr.contains(token))
        #expect(try await Self.parkfed(["hub", "enroll-token", "--data", hubDir, "--park", "bad id", "--name", "x"]).succeeded == false)

        let port = try BackgroundProcess.freePort()
        let hub = try BackgroundProcess(
            try BackgroundProcess.parkfedExecutable(),
            ["hub", "serve", "--data", hubDir, "--listen", "127.0.0.1:\(port)", "--log-level", "info"],
            logPath: directory.file("hub.log"))
        try await TestScope.run { scope in
            scope.onExit { await hub.stop() }
            let hubURL = "https://127.0.0.1:\(port)"
            try await waitUntil("the hub") {
                try await ExternalTool.run("curl", ["-s", "-o", "/dev/null", "--cacert", hubDir + "/ca.pem", hubURL + "/v1/whoami"]).succeeded
            }

            let enrolled = try await Self.parkfed([
                "node", "enroll", "--data", nodeDir, "--hub", hubURL, "--park", "P001", "--token", token, "--ca", hubDir + "/ca.pem",
            ])
            #expect(enrolled.succeeded, "\(enrolled.stderr)")
            let reused = try await Self.parkfed([
                "node", "enroll", "--data", directory.file("node2"), "--hub", hubURL, "--park", "P001", "--token", token, "--ca", hubDir + "/ca.pem",
            ])
            #expect(!reused.succeeded)
            #expect(reused.stderr.contains("token_used"))

            let whoami = [
                "-sS", "--http2", "--cert", nodeDir + "/node-cert.pem", "--key", nodeDir + "/node-key.pem",
                "--cacert", hubDir + "/ca.pem", "-w", "\n%{http_code}", hubURL + "/v1/whoami",
            ]
            let before = try await ExternalTool.run("curl", whoami)
            #expect(before.stdout.hasPrefix(#"{"principal":"park:P001"}"#))

            let nodePort = try BackgroundProcess.freePort()
            let node = try BackgroundProcess(
                try BackgroundProcess.parkfedExecutable(),
                ["node", "serve", "--data", nodeDir, "--listen", "127.0.0.1:\(nodePort)"],
                logPath: directory.file("node.log"))
            scope.onExit { await node.stop() }
            // The local API speaks HTTPS with a certificate from the park's own LAN CA, which devices are given.
            let lanCA = nodeDir + "/lan-ca.pem"
            try await waitUntil("the node agent to be ready") {
                try await ExternalTool.run("curl", ["-sf", "-o", "/dev/null", "--cacert", lanCA, "https://127.0.0.1:\(nodePort)/readyz"]).succeeded
            }
            let operatorToken =
                try await Self.parkfed(["node", "device", "add", "--data", nodeDir, "--name", "console", "--role", "operator"]).stdout
                .split(separator: "\n").last.map(String.init) ?? ""
            let viaNode = try await ExternalTool.run(
                "curl",
                [
                    "-sS", "--cacert", lanCA, "-H", "authorization: Bearer \(operatorToken)",
                    "https://127.0.0.1:\(nodePort)/v1/hub/whoami",
                ])
            #expect(viaNode.stdout == #"{"principal":"park:P001"}"#)
            // Without a credential: 401; in plain HTTP: no HTTP answer at all (nothing travels in the clear).
            let anonymous = try await ExternalTool.run("curl", ["-sS", "--cacert", lanCA, "-w", "\n%{http_code}", "https://127.0.0.1:\(nodePort)/v1/status"])
            #expect(anonymous.stdout.hasSuffix("\n401") && anonymous.stdout.contains("device_credential_required"), "\(anonymous.stdout)")
            let plain = try await ExternalTool.run("curl", ["-sS", "--max-time", "5", "-w", "\n%{http_code}", "http://127.0.0.1:\(nodePort)/healthz"])
            #expect(!plain.stdout.contains(#""status":"ok""#), "\(plain.stdout)")

            // A regulator certificate from the CLI.
            let issued = try await Self.parkfed(["hub", "issue-cert", "--data", hubDir, "--role", "regulator", "--id", "R01", "--out", directory.file("reg")])
            #expect(issued.succeeded, "\(issued.stderr)")
            let regulator = try await ExternalTool.run(
                "curl",
                [
                    "-sS", "--cert", directory.file("reg/R01-cert.pem"), "--key", directory.file("reg/R01-key.pem"),
                    "--cacert", hubDir + "/ca.pem", hubURL + "/v1/whoami",
                ])
            #expect(regulator.stdout == #"{"principal":"regulator:R01"}"#)

            // Revocation from another process takes effect on the next request, without restarting the hub.
            let revoked = try await Self.parkfed(["hub", "revoke", "--data", hubDir, "--park", "P001"])
            #expect(revoked.succeeded, "\(revoked.stderr)")
            let after = try await ExternalTool.run("curl", whoami)
            #expect(after.stdout.hasSuffix("\n403"), "\(after.stdout)")
            #expect(after.stdout.contains("certificate_revoked"))
            #expect(hub.isRunning)
            // Private keys never reach the logs.
            let key = try String(contentsOfFile: nodeDir + "/node-key.pem", encoding: .utf8)
            let body = key.split(separator: "\n").dropFirst().first.map(String.init) ?? "x"
            #expect(!hub.log.contains(body) && !node.log.contains(body))
            #expect(!hub.log.contains(token))
        }
    }
}

extension CommandLineTests {
    /// The shipped command, copied alone into an empty directory (nothing of the checkout or the build beside it,
    /// no test code in it), runs the demo there, finding the example federation through
    /// `PARKFED_PARTNERS`, and a quick benchmark; without the example federation it says where it looked.
    @Test func theDemoRunsEndToEnd() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let installed = directory.file("bin")
        try FileManager.default.createDirectory(atPath: installed, withIntermediateDirectories: true)
        let built = try BackgroundProcess.parkfedExecutable()
        // Copied by `cp`, not in this process: a file this multi-threaded process held open for writing could leak
        // into a child another test spawns at that moment, and executing the copy would then fail (ETXTBSY). The
        // binary alone: it needs no resource bundle beside it (the message catalogues are compiled in).
        let copy = try await ExternalTool.run("cp", [built, installed + "/parkfed"])
        #expect(copy.succeeded, "\(copy.stderr)")
        func copied(_ arguments: [String], partners: String? = TestFederation.partnersDirectory) async throws -> ExternalTool.Result {
            let environment = partners.map { ["PARKFED_PARTNERS=\($0)"] } ?? ["-u", "PARKFED_PARTNERS"]
            return try await ExternalTool.run("/usr/bin/env", environment + [installed + "/parkfed"] + arguments, directory: installed)
        }
        let bench = try await copied(["bench", "card", "--quick"])
        #expect(bench.succeeded && (bench.stdout + bench.stderr).contains("authorisation requests per second"), "\(bench.stdout)\(bench.stderr)")
        let lost = try await copied(["demo", "--data", directory.file("no-partners")], partners: nil)
        #expect(!lost.succeeded && lost.stderr.contains("partners"), "\(lost.stdout)\(lost.stderr)")
        let result = try await copied(["demo", "--data", directory.file("demo")])
        #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("verify-log OK"))
        // The day ends in one settlement of six parks trading in several directions, netted to the fen. P001 sold
        // most passes and loaded the first card (1,350.00 owed to P002 and P003 as before) and is owed by P002, P003,
        // P004 and P006 for entries and a card spend at its gates; Wuzhen and Suzhou sold each other's entries. The
        // reseller TRIPGO owes the net (90 %) of the entries its passes made: the full pass at P001, P002, P003
        // (89.10 + 54.00 + 72.00) and the child's at P001 (44.10), 259.20 in all; its cancelled booking owes nothing.
        // The shop's seller of record (PFSHOP) owes P002 its allocation (60.00) of the pass a visitor bought at the
        // shop and entered there.
        #expect(
            result.stdout.contains("P001    pays      -1327.80 CNY") && result.stdout.contains("P002    receives  1045.00 CNY")
                && result.stdout.contains("P003    receives  393.00 CNY") && result.stdout.contains("P004    receives  242.00 CNY")
                && result.stdout.contains("P005    receives  120.00 CNY") && result.stdout.contains("P006    pays      -153.00 CNY")
                && result.stdout.contains("TRIPGO  pays      -259.20 CNY") && result.stdout.contains("PFSHOP  pays      -60.00 CNY"), "\(result.stdout)")
        #expect(result.stdout.contains("gross 3585.20 CNY   net 1800.00 CNY   reduction 49.79 %"))
        #expect(
            result.stdout.contains("TRIPGO sold 3 passes by OCTO") && result.stdout.contains("admitted at P002 gate G-SHOP: allow")
                && result.stdout.contains("REDEEMED") && result.stdout.contains("CANCELLED"))
        // Clearing: four eyes, the payment files and the bank's statement, each valid ISO 20022, all matched; a
        // dispute accepted into the next day; the day final.
        #expect(result.stdout.contains("tries to release it → four_eyes") && result.stdout.contains("clearing C02 released it: approved"))
        #expect(result.stdout.contains("4 pay-out(s) in pain.001, 3 direct debit(s) in pain.008, 1 payment-due notice(s)"))
        #expect(result.stdout.contains("8 entries, 8 matched; batch paid") && result.stdout.contains("accepted by clearing:C02"))
        #expect(result.stdout.contains("final (cut-off"))
        let clearing = directory.file("demo/clearing")
        let files = try FileManager.default.contentsOfDirectory(atPath: clearing).sorted()
        let xsd = files.compactMap { name -> String? in
            if name.hasSuffix("pain.001.xml") { return "pain.001.001.09=\(clearing)/\(name)" }
            if name.hasSuffix("pain.008.xml") { return "pain.008.001.08=\(clearing)/\(name)" }
            if name.hasSuffix("camt053.xml") { return "camt.053.001.08=\(clearing)/\(name)" }
            return nil
        }
        #expect(xsd.count == 3, "\(files)")
        let valid = try await ExternalTool.run("python3", [Verifiers.path("validate_iso20022.py")] + xsd)
        #expect(valid.succeeded, "\(valid.stdout)\(valid.stderr)")
        // Park operations: the proof the gate must check, the group's heads, a printed batch sold, voided and unsold.
        #expect(result.stdout.contains("Check the visitor's child's ID document") && result.stdout.contains("12 heads"))
        #expect(result.stdout.contains("voided") && result.stdout.contains("not_activated"))
        // Members, the regulator, and the park that went offline and synced back, with the one conflict it caused.
        #expect(result.stdout.contains("the same code again (a screenshot) → code_used"))
        #expect(result.stdout.contains("reads card IC-MEMBER-0001 → M-"))
        #expect(result.stdout.contains("regulator:R01 asks for 1101**********002X: 1 purchase(s), 4 entries"))
        #expect(result.stdout.contains("hub-signed statements in the log"))
        #expect(result.stdout.contains("outbox delivered (0 pending); the hub reports 1 conflict(s)") && result.stdout.contains("already_used"))
        #expect(result.stdout.contains("sum               0.00 CNY"))
        #expect(!result.stdout.contains("✗"))
        let day = String(result.stdout.split(separator: "settlement S-")[1].prefix(10))
        let export = try StrictJSON.decode(
            SettlementExport.self, from: try Data(contentsOf: URL(fileURLWithPath: directory.file("demo/settlement-\(day).json"))))
        #expect(export.batch.positions.reduce(0) { $0 + $1.netMinor } == 0 && export.obligations.count == export.batch.obligationCount)
        #expect(result.stdout.contains("token_used"))
        #expect(FileManager.default.fileExists(atPath: directory.file("demo/hub/hub.sqlite")))
        // The main command refuses to overwrite an earlier demo.
        #expect(!(try await Self.parkfed(["demo", "--data", directory.file("demo"), "--partners", TestFederation.partnersDirectory])).succeeded)
    }

    @Test func serversTakeSettingsFromTheEnvironmentExplainStartupFailuresAndStopCleanlyOnSIGTERM() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let parkfed = try BackgroundProcess.parkfedExecutable()
        let hubDir = directory.file("hub")
        #expect(try await Self.parkfed(["hub", "init", "--data", hubDir]).succeeded)
        // No data directory anywhere: a clear refusal, nothing started.
        let missing = try await Self.parkfed(["hub", "serve"])
        #expect(!missing.succeeded && missing.stderr.contains("--data or PARKFED_HUB_DATA"))
        let notInitialised = try await Self.parkfed(["hub", "serve", "--data", directory.file("nothing-here")])
        #expect(!notInitialised.succeeded && notInitialised.stderr.contains("run `parkfed hub init` first"))
        // Configured from the environment alone; a clean exit on SIGTERM.
        let (port, opsPort) = (try BackgroundProcess.freePort(), try BackgroundProcess.freePort())
        let hub = try BackgroundProcess(
            "/usr/bin/env",
            [
                "PARKFED_HUB_DATA=\(hubDir)", "PARKFED_HUB_LISTEN=127.0.0.1:\(port)", "PARKFED_HUB_OPS_LISTEN=127.0.0.1:\(opsPort)",
                "PARKFED_LOG_LEVEL=info", parkfed, "hub", "serve",
            ], logPath: directory.file("hub.log"))
        try await waitUntil("the hub's ops listener") {
            (try await ExternalTool.run("curl", ["-sf", "http://127.0.0.1:\(opsPort)/healthz"])).succeeded
        }
        // A second hub on the same port says so in one line.
        let clash = try await Self.parkfed(["hub", "serve", "--data", hubDir, "--listen", "127.0.0.1:\(port)"])
        #expect(!clash.succeeded && clash.stderr.contains("cannot listen on 127.0.0.1:\(port): the address is already in use"), "\(clash.stderr)")
        // Requests are logged with their request id.
        let whoami = try await ExternalTool.run(
            "curl", ["-s", "-D", "-", "-o", "/dev/null", "--cacert", hubDir + "/ca.pem", "https://127.0.0.1:\(port)/v1/whoami"])
        let id = try #require(whoami.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id:") }).split(separator: " ").last.map(
            String.init)
        await hub.stop()
        #expect(hub.exitStatus == 0, "\(hub.log)")
        #expect(hub.log.contains("hb.request.id=\(id ?? "?")") && hub.log.contains("route=/v1/whoami"), "\(hub.log)")
        // A certificate file that is not one: the file is named.
        try "not a certificate".write(toFile: hubDir + "/hub-cert.pem", atomically: true, encoding: .utf8)
        let broken = try await Self.parkfed(["hub", "serve", "--data", hubDir, "--listen", "127.0.0.1:\(port)"])
        #expect(!broken.succeeded && broken.stderr.contains("cannot load the hub TLS certificate \(hubDir)/hub-cert.pem"), "\(broken.stderr)")
        // The node agent likewise.
        let node = try await ExternalTool.run("/usr/bin/env", ["PARKFED_NODE_DATA=\(directory.file("no-node"))", parkfed, "node", "serve"])
        #expect(!node.succeeded && node.stderr.contains("run `parkfed node enroll` first"))
    }
}
