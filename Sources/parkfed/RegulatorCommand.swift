import ArgumentParser
import Foundation
import ParkFedNode
import ParkFedProtocol

/// `parkfed regulator query …`: a regulator's read-only queries over mutual TLS with its own certificate.
struct RegulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regulator", abstract: "Query real-name records as a regulator (mutual TLS, regulator certificate).",
        subcommands: [Query.self])

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every purchase and entry of one identity document in a date range.")
        @Option(help: "The hub's URL, e.g. https://127.0.0.1:8443.") var hub: String
        @Option(help: "The regulator's certificate (PEM).") var cert: String
        @Option(help: "The regulator's private key (PEM).") var key: String
        @Option(help: "The federation root certificate (ca.pem).") var ca: String
        @Option(help: "Document type: resident_id, passport, hk_macau_permit, taiwan_permit, foreign_permanent_resident, other.") var idType = "resident_id"
        @Option(help: "Document number.") var idNumber: String
        @Option(help: "First day, YYYY-MM-DD.") var from: String
        @Option(help: "Last day, YYYY-MM-DD.") var to: String

        func validate() throws {
            guard hub.hasPrefix("https://") else { throw ValidationError("--hub must be an https:// URL") }
            for file in [cert, key, ca] where !FileManager.default.fileExists(atPath: file) { throw ValidationError("no file at \(file)") }
        }

        func run() async throws {
            let client = try HubClient(baseURL: hub, caFile: ca, certificateFile: cert, keyFile: key)
            defer { Task { await client.shutdown() } }
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
