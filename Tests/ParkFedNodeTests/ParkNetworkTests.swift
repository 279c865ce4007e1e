import Foundation
import ParkFedDomain
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// The park network (#17): the node agent's local API speaks only HTTPS with a certificate of the park's own LAN
/// CA, every route but the two probes needs a device credential of a stated role (checked before the body is read),
/// and no local caller can spend the park's hub budget.
@Suite struct ParkNetworkTests {
    /// Walks the node's router: each route has stated roles; only the probes and the console's sign-in are open; a caller without
    /// a credential gets 401 and a monitoring device 403 on everything else, whatever body it sends.
    @Test func everyLocalRouteNamesItsDeviceRolesAndRefusesOthersBeforeReadingTheBody() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            let (router, rules) = NodeServer.routes(agent: agent)
            let registered = Set(router.routes.map { "\($0.method) \($0.path)" })
            #expect(registered == Set(rules.map { "\($0.method) \($0.path)" }), "routes without stated roles")
            // Open: the probes, and the console's sign-in (where a device presents its credential).
            #expect(
                rules.filter { $0.roles == nil }.map { "\($0.method) \($0.path)" }.sorted() == [
                    "GET /console/sign-in", "GET /healthz", "GET /readyz", "POST /console/sign-in",
                ])
            let server = try await federation.serve(agent)
            federation.adopt(server)
            let monitor = try await agent.addDevice(name: "status-screen", role: .monitor).token
            // The upkeep loop fetches the trust list and products as the server starts: let it finish first.
            // The upkeep loop fetches the trust list and then the products as the server starts: wait for both to be
            // kept (and the database to be still), so that only the requests below could change it.
            var settled = ""
            try await waitUntil("the node's start-up refreshes") {
                let now = try await ExternalTool.sqlite(agent.directory.database, ".dump").stdout
                defer { settled = now }
                let present = await agent.trustList.status().present
                return now == settled && now.contains("INSERT INTO meta VALUES('products'") && present
            }
            let before = try await ExternalTool.sqlite(agent.directory.database, ".dump").stdout
            for rule in rules {
                guard let roles = rule.roles else { continue }
                let path = rule.path.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "X1", options: .regularExpression)
                let body = rule.method == "GET" ? nil : "{not json"
                let anonymous = try await TestFederation.nodeCurl(server, path, method: rule.method, body: body)
                #expect(
                    anonymous.httpStatus == 401 && anonymous.body.contains("device_credential_required"), "\(rule): \(anonymous.httpStatus) \(anonymous.body)")
                let forged = try await TestFederation.nodeCurl(server, path, token: "pfd_forged", method: rule.method, body: body)
                #expect(forged.httpStatus == 401, "\(rule) with a forged token: \(forged.httpStatus)")
                if !roles.contains(.monitor) {
                    let answer = try await TestFederation.nodeCurl(server, path, token: monitor, method: rule.method, body: body)
                    #expect(answer.httpStatus == 403 && answer.body.contains("forbidden_for_device"), "\(rule) as monitor: \(answer.httpStatus) \(answer.body)")
                }
            }
            let after = try await ExternalTool.sqlite(agent.directory.database, ".dump").stdout
            #expect(
                after == before,
                "a refused request changed the node's database: \(Set(after.split(separator: "\n")).subtracting(before.split(separator: "\n")).prefix(5))")
        }
    }

    /// The local API answers only TLS, with a certificate for the node's LAN names from the park's own CA: curl
    /// verifies it with `lan-ca.pem` (no `-k`), not with the federation root; plain HTTP gets no HTTP answer.
    @Test func theLocalAPISpeaksOnlyTLSWithTheParksLANCertificate() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            let server = try await federation.serve(agent)
            federation.adopt(server)
            #expect(try await TestFederation.nodeCurl(server, "/healthz").httpStatus == 200)
            let byName = try await ExternalTool.run(
                "curl",
                [
                    "-sS", "--cacert", agent.directory.lanCA, "--resolve", "localhost:\(server.port):127.0.0.1",
                    "https://localhost:\(server.port)/healthz",
                ])
            #expect(byName.stdout.contains(#""status":"ok""#), "\(byName.stderr)")
            let federationRoot = try await ExternalTool.run("curl", ["-sS", "--cacert", federation.caFile, "https://127.0.0.1:\(server.port)/healthz"])
            #expect(!federationRoot.succeeded, "the federation root must not vouch for a park's LAN names")
            let plain = try await ExternalTool.run("curl", ["-sS", "--max-time", "5", "http://127.0.0.1:\(server.port)/healthz"])
            #expect(!plain.stdout.contains(#""status":"ok""#))
            let verify = try await ExternalTool.run(
                "openssl",
                [
                    "s_client", "-connect", "127.0.0.1:\(server.port)", "-CAfile", agent.directory.lanCA,
                    "-verify_ip", "127.0.0.1", "-verify_return_error", "-brief",
                ], input: Data())
            #expect(verify.stderr.contains("Verification: OK") || verify.stdout.contains("Verification: OK"), "\(verify.stdout)\(verify.stderr)")
            let issuer = try await ExternalTool.run("openssl", ["x509", "-in", agent.directory.lanCertificate, "-noout", "-issuer", "-ext", "subjectAltName"])
            #expect(
                issuer.stdout.contains("Park P001 LAN Root CA") && issuer.stdout.contains("IP Address:127.0.0.1") && issuer.stdout.contains("DNS:localhost"),
                "\(issuer.stdout)")
            for key in [agent.directory.lanCAKey, agent.directory.lanKey] {
                #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
            }
            // A restart keeps the CA (devices keep trusting it) and the certificate that still covers every name.
            let ca = try String(contentsOfFile: agent.directory.lanCA, encoding: .utf8)
            let certificate = try String(contentsOfFile: agent.directory.lanCertificate, encoding: .utf8)
            await server.stop()
            let again = try await federation.serve(agent)
            federation.adopt(again)
            #expect(try String(contentsOfFile: agent.directory.lanCA, encoding: .utf8) == ca)
            #expect(try String(contentsOfFile: agent.directory.lanCertificate, encoding: .utf8) == certificate)
        }
    }

    /// A flood from one device (a runaway console, a stolen credential) meets its own share of the hub budget and
    /// the node's one-a-second hub-link probe; the park's gate, another device, is still decided online.
    @Test func noLocalCallerCanSpendTheParksHubBudget() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            // P002 gives each device two hub calls a second (four at once).
            var configuration = try NodeConfiguration.load(agents[1].directory)
            configuration.deviceHubCallsPerSecond = 2
            try configuration.save(agents[1].directory)
            await agents[1].shutdown()
            let p2 = try await NodeAgent(directory: agents[1].directory, refreshInterval: .seconds(3600))
            p2.gateHubTimeout.withLockedValue { $0 = .seconds(20) }
            try await p2.refreshTrustList()
            try await p2.refreshProducts()
            federation.adopt(p2)
            let server = try await federation.serve(p2)
            federation.adopt(server)
            let console = try await p2.addDevice(name: "runaway", role: .operator).token
            let gate = try await p2.addDevice(name: "gate-1", role: .gate).token
            let pass = try await agents[0].sellPass(
                PassSaleRequest(
                    product: "JIANGNAN-3P", channel: "window",
                    holder: HolderInput(name: "王五", idType: "resident_id", idNumber: "11010519491231002X")))
            // 120 revenue reports at once from one credential: each would be a hub call.
            let url = server.baseURL + "/v1/revenue"
            let flood = try await ExternalTool.run(
                "curl",
                server.curlTrust + [
                    "-sS", "-Z", "--parallel-max", "30", "-H", "authorization: Bearer \(console)",
                    "-w", "\n%{http_code}\n",
                ] + Array(repeating: url, count: 120))
            let codes = Self.statusCodes(flood.stdout)
            let served = codes.filter { $0 == 200 }.count, limited = codes.filter { $0 == 429 }.count
            #expect(codes.count == 120 && served + limited == 120 && served <= 30 && limited >= 90, "served \(served), limited \(limited) of \(codes.count)")
            #expect(flood.stdout.contains("local_rate_limited"))
            // The hub-link probe: once a second for the whole node (bursts of three), whoever asks.
            let probe = try await p2.addDevice(name: "probe-console", role: .operator).token
            let probes = try await ExternalTool.run(
                "curl",
                server.curlTrust + ["-sS", "-Z", "-H", "authorization: Bearer \(probe)", "-w", "\n%{http_code}\n"]
                    + Array(repeating: server.baseURL + "/v1/hub/whoami", count: 20))
            #expect(Self.statusCodes(probes.stdout).filter { $0 == 429 }.count >= 5, "\(probes.stdout)")
            // A refused caller is told when to come back (the probe allows three at once).
            let headers = try await ExternalTool.run(
                "curl",
                server.curlTrust + ["-sS", "-i", "-H", "authorization: Bearer \(probe)"] + Array(repeating: server.baseURL + "/v1/hub/whoami", count: 5))
            #expect(headers.stdout.contains(" 429") && headers.stdout.lowercased().contains("retry-after: 1"), "\(headers.stdout)")
            // The gate is another device: its scan is decided by the hub at once.
            let scan = try await TestFederation.nodeCurl(server, "/v1/gate/scans", token: gate, method: "POST", body: #"{"code":"\#(pass.code)","gate":"G1"}"#)
            #expect(scan.httpStatus == 200 && scan.body.contains(#""decision":"allow""#) && scan.body.contains(#""mode":"online""#), "\(scan.body)")
        }
    }

    /// The status codes `curl -w "\n%{http_code}\n"` printed after each body.
    static func statusCodes(_ output: String) -> [Int] {
        output.split(separator: "\n").compactMap { line in line.count == 3 ? Int(line) : nil }
    }
}
