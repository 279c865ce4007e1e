import Foundation
import ParkFedHub
// Tests use the lab (federations, servers, the card simulator, seeded randomness) through this module.
@_exported import ParkFedLab
import ParkFedNode

/// The federation tests use: a ``LabFederation`` on the store the test run chose (``TestStore``), with the outside
/// tools tests check it with (`curl`, `sqlite3`, `psql`, `pg_dump`).
public typealias TestFederation = LabFederation

/// A test-support failure (a server that did not start, a tool that is missing).
public typealias TestSupportError = LabError

extension LabFederation {
    /// The example federation's `partners/` directory in this checkout.
    public static var partnersDirectory: String { PartnerDirectory.checkout }

    /// Starts a hub on the store the test run chose (``TestStore``: a new PostgreSQL database of its own when
    /// `PARKFED_TEST_POSTGRES` is set, dropped when the federation stops); `sqliteOnly` keeps it on its SQLite file
    /// (the simulator copies whole data directories, which a shared database would not follow).
    public static func start(
        configuration: HubConfiguration = HubConfiguration(federation: "Test Federation"), sqliteOnly: Bool = false,
        partners: String = PartnerDirectory.checkout
    ) async throws -> TestFederation {
        var configuration = configuration
        var made: String?
        if configuration.store == nil, !sqliteOnly {
            made = try await TestStore.newDatabase()
            configuration.store = made
        }
        let federation = try await launch(configuration: configuration, partners: partners)
        if let made { federation.onStop { await TestStore.dropDatabase(made) } }
        return federation
    }

    /// Runs `body` with a new federation and awaits its whole shutdown afterwards, whatever `body` does (returns,
    /// throws, fails an expectation): its servers, node agents, hub, test database and directory. The scoped form
    /// every test uses, so nothing a test started outlives it.
    public static func run(
        configuration: HubConfiguration = HubConfiguration(federation: "Test Federation"), sqliteOnly: Bool = false,
        partners: String = PartnerDirectory.checkout, _ body: (TestFederation) async throws -> Void
    ) async throws {
        let federation = try await start(configuration: configuration, sqliteOnly: sqliteOnly, partners: partners)
        do {
            try await body(federation)
        } catch {
            await federation.stop()
            throw error
        }
        await federation.stop()
    }

    /// Runs `curl` against a node agent's local API as a device of the park would: HTTPS to 127.0.0.1, trusting the
    /// park's LAN CA, with the device's bearer token when given.
    public static func nodeCurl(
        _ server: RunningServer, _ path: String, token: String? = nil, method: String = "GET",
        body: String? = nil, extra: [String] = []
    ) async throws -> CurlResult {
        var trust = server.curlTrust
        if let token { trust += ["-H", "authorization: Bearer \(token)"] }
        return try await runCurl(server.baseURL + path, method: method, body: body, options: trust + extra)
    }

    /// Runs `curl` against the hub with the given client certificate; returns status code and body.
    public func curl(
        _ path: String, certificate: (certificate: String, key: String)? = nil, method: String = "GET",
        body: String? = nil, http2: Bool = true, extra: [String] = []
    ) async throws -> CurlResult {
        var options = ["--cacert", caFile, http2 ? "--http2" : "--http1.1"]
        if let certificate { options += ["--cert", certificate.certificate, "--key", certificate.key] }
        return try await Self.runCurl(hubURL + path, method: method, body: body, options: options + extra)
    }

    /// One `curl` request: 30 s at most, the status and HTTP version after the body, a JSON body from standard input.
    static func runCurl(_ url: String, method: String, body: String?, options: [String]) async throws -> CurlResult {
        var arguments = ["-sS", "--max-time", "30", "-X", method, "-w", "\n%{http_code} %{http_version}"] + options
        if body != nil { arguments += ["-H", "content-type: application/json", "--data-binary", "@-"] }
        arguments.append(url)
        return CurlResult(try await ExternalTool.run("curl", arguments, input: body.map { Data($0.utf8) }))
    }

    /// Runs SQL on the hub's database with the database's own command-line tool (`sqlite3` on the file, `psql` on a
    /// PostgreSQL store), as an insider with access to the database would.
    public func sqlTool(_ sql: String) async throws -> ExternalTool.Result {
        if let store = hub.configuration.store {
            return try await ExternalTool.run("psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", store, "-c", sql])
        }
        return try await ExternalTool.sqlite(hub.directory.database, sql)
    }

    /// Everything in the hub's database as SQL text (`sqlite3 .dump`, or `pg_dump` of a PostgreSQL store).
    public func databaseDump() async throws -> ExternalTool.Result {
        if let store = hub.configuration.store { return try await ExternalTool.run("pg_dump", ["--no-owner", store]) }
        return try await ExternalTool.sqlite(hub.directory.database, ".dump")
    }

    /// What a request could have changed: the database dump without the signed checkpoints that the running hub adds
    /// by itself every minute (``databaseDump()`` otherwise), as lines, for before-and-after comparisons.
    public func stateDump() async throws -> [Substring] { try await Self.stateDump(of: hub) }

    /// ``stateDump()`` of any hub (one with no server too).
    public static func stateDump(of hub: Hub) async throws -> [Substring] {
        let dump: String
        if let store = hub.configuration.store {
            dump = try await ExternalTool.run("pg_dump", ["--no-owner", "--exclude-table-data=checkpoints", store]).stdout
        } else {
            dump = try await ExternalTool.sqlite(hub.directory.database, ".dump").stdout
        }
        // pg_dump 15.14+ brackets its output with \restrict / \unrestrict and a random key per run.
        return dump.split(separator: "\n").filter { !$0.contains("checkpoints") && !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }
    }

}

/// What `curl` got: exit status, HTTP status, HTTP version and body.
public struct CurlResult: Sendable {
    public var exitStatus: Int32
    public var httpStatus: Int
    public var httpVersion: String
    public var body: String
    public var stderr: String

    init(_ result: ExternalTool.Result) {
        exitStatus = result.status
        stderr = result.stderr
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let trailer = lines.last.map(String.init) ?? ""
        let parts = trailer.split(separator: " ")
        httpStatus = parts.first.flatMap { Int($0) } ?? 0
        httpVersion = parts.count > 1 ? String(parts[1]) : ""
        body = lines.dropLast().joined(separator: "\n")
        if httpStatus == 0, ProcessInfo.processInfo.environment["PARKFED_DEBUG_CURL"] != nil {
            FileHandle.standardError.write(Data("CURLFAIL \(result.status): \(result.stderr)\n".utf8))
        }
    }

    /// The body as a JSON object.
    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }
}
