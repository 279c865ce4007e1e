import ArgumentParser
import Foundation
import ParkFedNode
import ParkFedProtocol

/// `parkfed regulator query …`: a regulator's read-only queries over mutual TLS with its own certificate.
struct RegulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regulator", abstract: "Query real-name records as a regulator (mutual TLS, regulator certificate).",
        subcommands: [Query.self, Report.self])

    /// How a regulator reaches the hub: its URL, the regulator's certificate and key, the federation root.
    struct Connection: ParsableArguments {
        @Option(help: "The hub's URL, e.g. https://127.0.0.1:8443.") var hub: String
        @Option(help: "The regulator's certificate (PEM).") var cert: String
        @Option(help: "The regulator's private key (PEM).") var key: String
        @Option(help: "The federation root certificate (ca.pem).") var ca: String

        func validate() throws {
            guard hub.hasPrefix("https://") else { throw ValidationError("--hub must be an https:// URL") }
            for file in [cert, key, ca] where !FileManager.default.fileExists(atPath: file) { throw ValidationError("no file at \(file)") }
        }

        func client() throws -> HubClient { try HubClient(baseURL: hub, caFile: ca, certificateFile: cert, keyFile: key) }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "The visitors report of a day or a holiday period (per park and the federation: visitors, peak inside, capacities, real-name share, refunds, cross-park entries, hourly flow)."
        )
        @OptionGroup var connection: Connection
        @Option(help: "First day, YYYY-MM-DD.") var from: String
        @Option(help: "Last day, YYYY-MM-DD (default: --from).") var to: String?
        @Option(help: "The holiday period's name (a holiday report), e.g. 国庆节.") var name: String?
        @Option(help: "csv or json.") var format = "csv"
        @Option(help: "Write the report to this file instead of printing it.") var out: String?

        func validate() throws {
            guard ["csv", "json"].contains(format) else { throw ValidationError("--format is csv or json") }
        }

        func run() async throws {
            let client = try connection.client()
            var components = URLComponents()
            components.queryItems = [.init(name: "from", value: from), .init(name: "to", value: to ?? from), .init(name: "format", value: format)]
            if let name { components.queryItems?.append(.init(name: "name", value: name)) }
            let reply = try await client.send(.GET, "/v1/regulator/reports?" + (components.percentEncodedQuery ?? ""))
            await client.shutdown()
            guard reply.status == 200 else {
                FileHandle.standardError.write(reply.body)
                throw ExitCode(1)
            }
            if let out {
                try reply.body.write(to: URL(fileURLWithPath: out), options: .atomic)
                print("report written to \(out)")
            } else {
                print(String(decoding: reply.body, as: UTF8.self), terminator: "")
            }
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every purchase and entry of one identity document in a date range.")
        @OptionGroup var connection: Connection
        @Option(help: "Document type: resident_id, passport, hk_macau_permit, taiwan_permit, foreign_permanent_resident, other.") var idType = "resident_id"
        @Option(help: "Document number.") var idNumber: String
        @Option(help: "First day, YYYY-MM-DD.") var from: String
        @Option(help: "Last day, YYYY-MM-DD.") var to: String

        func run() async throws {
            let client = try connection.client()
            var components = URLComponents()
            components.queryItems = [
                .init(name: "id_type", value: idType), .init(name: "id_number", value: idNumber),
                .init(name: "from", value: from), .init(name: "to", value: to),
            ]
            let reply = try await client.send(.GET, "/v1/regulator/holders?" + (components.percentEncodedQuery ?? ""))
            await client.shutdown()
            print(String(decoding: reply.body, as: UTF8.self))
            guard reply.status == 200 else { throw ExitCode(1) }
        }
    }
}
