import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ParkFedDomain
import ParkFedNode

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Enroll and run a park's node agent.", subcommands: [Enroll.self, Serve.self, Status.self])

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enroll this park with the hub: make keys and a CSR, trade the one-time token for a certificate.")
        @Option(help: "The node agent's data directory.") var data: String
        @Option(help: "The hub's URL, e.g. https://127.0.0.1:8443.") var hub: String
        @Option(help: "This park's id, e.g. P001.") var park: String
        @Option(help: "The one-time enrollment token from the federation operator.") var token: String
        @Option(help: "The federation root certificate (the hub's ca.pem).") var ca: String

        func validate() throws {
            guard ParkID.isValid(park) else { throw ValidationError("--park must be 2-32 characters of A-Z, 0-9, '-' or '_', starting with a letter") }
            guard hub.hasPrefix("https://") else { throw ValidationError("--hub must be an https:// URL") }
            guard FileManager.default.fileExists(atPath: ca) else { throw ValidationError("--ca: no file at \(ca)") }
        }

        func run() async throws {
            let configuration = try await NodeEnrollment.enroll(
                directory: NodeDirectory(data), hubURL: hub, park: try ParkID(park), token: token, caFile: ca)
            print("enrolled \(configuration.park): certificate \(configuration.certificateSerial) valid until \(configuration.certificateNotAfter)")
            print("signing key id: \(configuration.signingKid)")
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the node agent: hub link, trust-list cache, local API.")
        @Option(help: "The node agent's data directory.") var data: String
        @Option(help: "The hub's URL (default: the one used at enrollment).") var hub: String?
        @Option(help: "Address of the local API on the park network, HOST:PORT.") var listen = ListenAddress(argument: "127.0.0.1:8080")!
        @Option(help: "Seconds between trust-list refreshes and certificate checks.") var refreshSeconds = 60
        @Option(help: "Log level.") var logLevel = "info"

        func validate() throws {
            guard (1...86_400).contains(refreshSeconds) else { throw ValidationError("--refresh-seconds must be 1-86400") }
            if let hub, !hub.hasPrefix("https://") { throw ValidationError("--hub must be an https:// URL") }
        }

        func run() async throws {
            let logger = CLILogging.logger("parkfed.node", level: logLevel)
            let agent = try NodeAgent(directory: NodeDirectory(data), hubURL: hub, refreshInterval: .seconds(refreshSeconds), logger: logger)
            let app = NodeServer.application(agent: agent, host: listen.host, port: listen.port, logger: logger) { channel in
                logger.notice("node agent listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            }
            try await app.runService()
            await agent.shutdown()
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print this node's enrollment and trust-list status (reads the data directory).")
        @Option(help: "The node agent's data directory.") var data: String

        func run() async throws {
            let agent = try NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
            defer { Task { await agent.shutdown() } }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(agent.status()), as: UTF8.self))
            await agent.shutdown()
        }
    }
}
