import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ParkFedDomain
import ParkFedNode
import ParkFedPKI
import ParkFedProtocol
import ParkFedStore

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Enroll and run a park's node agent.",
        subcommands: [Enroll.self, Serve.self, Status.self, Device.self, Capacity.self, Mode.self, Stock.self, Backup.self, Restore.self])

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
        static let configuration = CommandConfiguration(
            abstract: "Run the node agent: hub link, trust-list cache, outbox delivery, the local API for gates, windows and kiosks.",
            discussion:
                "The park's identity and hub link live in the data directory (node.json, certificate and keys, written by `parkfed node enroll`); the options below say where and how this process serves, each also settable from the environment. SIGTERM or SIGINT stops accepting requests, lets those in flight finish, then exits; undelivered assertions stay in the outbox."
        )
        @Option(help: "The node agent's data directory. Default: $PARKFED_NODE_DATA.") var data: String?
        @Option(help: "The hub's URL. Default: $PARKFED_HUB_URL, else the one used at enrollment.") var hub: String?
        @Option(help: "Address of the local API on the park network, HOST:PORT. Default: $PARKFED_NODE_LISTEN, else 127.0.0.1:8080.") var listen: ListenAddress?
        @Option(
            name: .customLong("lan-name"),
            help:
                "A host name or IP address gates and windows reach the local API by (repeat; kept in node.json). The local API's certificate, from the park's LAN CA lan-ca.pem, covers these, localhost and the listen address."
        )
        var lanNames: [String] = []
        @Option(help: "Seconds between trust-list refreshes and certificate checks.") var refreshSeconds = 60
        @Option(help: "Log level (trace, debug, info, notice, warning, error). Default: $PARKFED_LOG_LEVEL, else info.") var logLevel: String?

        var dataDirectory: String? { data ?? Startup.environment("PARKFED_NODE_DATA") }
        var hubURL: String? { hub ?? Startup.environment("PARKFED_HUB_URL") }

        func validate() throws {
            guard (1...86_400).contains(refreshSeconds) else { throw ValidationError("--refresh-seconds must be 1-86400") }
            for name in lanNames where IPAddressBytes.parse(name) == nil {
                let labels = name.split(separator: ".", omittingEmptySubsequences: false)
                guard name.count <= 253, !labels.isEmpty,
                    labels.allSatisfy({
                        !$0.isEmpty && $0.count <= 63 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } && $0.first != "-" && $0.last != "-"
                    }),
                    name.allSatisfy(\.isASCII)
                else {
                    throw ValidationError("--lan-name \(name.debugDescription) is neither an IPv4 address nor a DNS name")
                }
            }
            guard dataDirectory != nil else { throw ValidationError("give the node's data directory with --data or PARKFED_NODE_DATA") }
            if let hubURL, !hubURL.hasPrefix("https://") { throw ValidationError("the hub URL must be https:// (got \(hubURL))") }
            if let level = logLevel ?? Startup.environment("PARKFED_LOG_LEVEL"), Logger.Level(rawValue: level) == nil {
                throw ValidationError("log level is one of trace, debug, info, notice, warning, error, critical")
            }
        }

        func run() async throws {
            let logger = CLILogging.logger("parkfed.node", level: logLevel ?? Startup.environment("PARKFED_LOG_LEVEL") ?? "info")
            let listen = try Startup.listen(self.listen, env: "PARKFED_NODE_LISTEN", default: "127.0.0.1:8080")
            let directory = NodeDirectory(dataDirectory!)
            if !lanNames.isEmpty {
                var configuration = try NodeConfiguration.load(directory)
                configuration.lanNames = Array(Set((configuration.lanNames ?? []) + lanNames)).sorted()
                try configuration.save(directory)
            }
            let agent = try await NodeAgent(directory: directory, hubURL: hubURL, refreshInterval: .seconds(refreshSeconds), logger: logger)
            let app = try NodeServer.application(agent: agent, host: listen.host, port: listen.port, logger: logger) { channel in
                logger.notice("node agent listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            }
            do {
                try await Startup.run(listening: [listen]) { try await app.runService() }
            } catch {
                await agent.shutdown()
                throw error
            }
            await agent.shutdown()
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print this node's enrollment and trust-list status (reads the data directory).")
        @Option(help: "The node agent's data directory.") var data: String

        func run() async throws {
            let agent = try await NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
            defer { Task { await agent.shutdown() } }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            await print(String(decoding: try encoder.encode(agent.status()), as: UTF8.self))
            await agent.shutdown()
        }
    }

    struct Device: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue, list and revoke the credentials of the park's gates, windows, kiosks and operator consoles.",
            subcommands: [Add.self, List.self, Revoke.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Issue a credential for a device; the token is printed once.")
            @Option(help: "The node agent's data directory.") var data: String
            @Option(help: "A name for the device, e.g. gate-north-1.") var name: String
            @Option(help: "gate (scans), window (sells, refunds, transfers), kiosk (sells), monitor (reads status and metrics), operator (everything).")
            var role: String

            func validate() throws {
                guard DeviceRecord.Role(rawValue: role) != nil else { throw ValidationError("--role must be gate, window, kiosk, monitor or operator") }
            }

            func run() async throws {
                let agent = try await NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
                let device = try await agent.addDevice(name: name, role: DeviceRecord.Role(rawValue: role)!)
                await agent.shutdown()
                print("device \(name) (\(role)) id \(device.id)")
                print("token (shown once; send it as `Authorization: Bearer <token>`):")
                print(device.token)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the devices and whether they are revoked.")
            @Option(help: "The node agent's data directory.") var data: String

            func run() async throws {
                let agent = try await NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
                for device in try await agent.store.devices() {
                    print("\(device.id)  \(device.name)  \(device.role.rawValue)\(device.revoked ? "  REVOKED" : "")")
                }
                await agent.shutdown()
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a device's credential at once (by id or name).")
            @Option(help: "The node agent's data directory.") var data: String
            @Argument(help: "The device's id or name.") var device: String

            func run() async throws {
                let agent = try await NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
                let found = try await agent.revokeDevice(device)
                await agent.shutdown()
                guard found else { throw ValidationError("no active device \(device)") }
                print("revoked \(device)")
            }
        }
    }

    struct Capacity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Set the park's daily and hourly capacity (entries beyond it are refused as capacity_full) and its instantaneous capacity (people inside at once; entries wait as capacity_full_now)."
        )
        @Option(help: "The node agent's data directory.") var data: String
        @Option(help: "Entries per local day.") var daily: Int
        @Option(help: "Entries per local hour.") var hourly: Int
        @Option(help: "People inside at once (瞬时承载量), counted from entries less exits.") var instantaneous: Int?

        func validate() throws {
            guard daily > 0, hourly > 0, hourly <= daily else { throw ValidationError("capacities must be positive and --hourly <= --daily") }
            if let instantaneous, !(1...daily).contains(instantaneous) { throw ValidationError("--instantaneous is 1 to --daily") }
        }

        func run() throws {
            let directory = NodeDirectory(data)
            var configuration = try NodeConfiguration.load(directory)
            configuration.capacityDaily = daily
            configuration.capacityHourly = hourly
            configuration.capacityInstantaneous = instantaneous
            try configuration.save(directory)
            print(
                "capacity of \(configuration.park): \(daily) a day, \(hourly) an hour\(instantaneous.map { ", \($0) inside at once" } ?? "") (takes effect when the node agent starts)"
            )
        }
    }

    struct Stock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pre-printed stock: order a batch of signed, inactive codes for paper tickets (with the printer's CSV), list batches, void unsold codes.",
            discussion:
                "Works on the data directory, beside a running node agent; products come from the catalogue the node last fetched. Windows sell (activate) printed tickets with POST /v1/stock/{serial}/sale.",
            subcommands: [Order.self, List.self, CSV.self, Void.self])

        struct Order: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Sign N inactive codes of a product (and category); write the printer's CSV.")
            @Option(help: "The node agent's data directory.") var data: String
            @Option(help: "The product id, e.g. JIANGNAN-3P.") var product: String
            @Option(help: "The ticket category (default full).") var category: String?
            @Option(help: "How many codes (1-10000).") var count: Int
            @Option(help: "First day of validity, YYYY-MM-DD (default today).") var date: String?
            @Option(help: "Where to write the CSV (serial,pass_id,product,category,valid_from,valid_until,code); default stdout.") var out: String?

            func validate() throws {
                guard (1...NodeAgent.maximumStockBatch).contains(count) else { throw ValidationError("--count is 1-\(NodeAgent.maximumStockBatch)") }
            }

            func run() async throws {
                let agent = try await NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
                let batch: StockBatch
                do { batch = try await agent.orderStock(StockOrder(product: product, category: category, count: count, date: date)) } catch let problem
                    as Refusal
                {
                    await agent.shutdown()
                    throw ValidationError("\(problem.title): \(problem.detail ?? problem.code)")
                }
                await agent.shutdown()
                if let out {
                    try batch.csv.write(toFile: out, atomically: true, encoding: .utf8)
                    print(
                        "batch \(batch.batch): \(batch.count) codes of \(batch.product) \(batch.category ?? "full"), \(batch.firstSerial) … \(batch.lastSerial), valid \(batch.validFrom)..\(batch.validUntil); CSV in \(out)"
                    )
                } else {
                    print(batch.csv, terminator: "")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List stock batches with their printed, sold and void counts.")
            @Option(help: "The node agent's data directory.") var data: String

            func run() async throws {
                let agent = try await NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
                let batches = try await agent.store.stockBatches()
                await agent.shutdown()
                print("batch          product               printed    sold    void")
                for b in batches {
                    print(
                        b.batch.padding(toLength: 15, withPad: " ", startingAt: 0) + b.product.padding(toLength: 20, withPad: " ", startingAt: 0)
                            + String(format: "%9d %7d %7d", b.printed, b.sold, b.void))
                }
            }
        }

        struct CSV: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "csv", abstract: "Print a batch's printer CSV again.")
            @Option(help: "The node agent's data directory.") var data: String
            @Argument(help: "The batch id (B…).") var batch: String

            func run() async throws {
                let agent = try await NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
                defer { Task { await agent.shutdown() } }
                do { await print(try agent.stockCSV(batch: batch), terminator: "") } catch let problem as Refusal {
                    throw ValidationError(problem.detail ?? problem.title)
                }
            }
        }

        struct Void: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Void unsold printed codes by serial (all or none); gates refuse them as voided.")
            @Option(help: "The node agent's data directory.") var data: String
            @Option(help: "Why (logged).") var reason: String
            @Argument(help: "Serial numbers.") var serials: [String]

            func run() async throws {
                let agent = try await NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
                defer { Task { await agent.shutdown() } }
                do { try await agent.voidStock(serials: serials, reason: reason) } catch let problem as Refusal {
                    throw ValidationError(problem.detail ?? problem.title)
                }
                print("voided \(serials.count) printed ticket(s)")
            }
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a consistent online copy of the node's data directory (SQLite backup API: outbox, sales, gate entries, devices) while it serves.")
        @Option(help: "The node agent's data directory.") var data: String
        @Option(help: "A new directory for the backup.") var out: String

        func run() async throws {
            let agent = try await NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
            do { try await agent.backup(to: out) } catch {
                await agent.shutdown()
                throw error
            }
            await agent.shutdown()
            print("backup of \(data) in \(out)")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a node backup (SQLite integrity, configuration, outbox) and install it as a new data directory.")
        @Option(help: "The backup directory.") var from: String
        @Option(help: "A new data directory to restore into.") var data: String

        func run() async throws {
            let counts = try await NodeAgent.restore(from: from, to: data)
            print("restored \(from) into \(data): integrity OK; outbox \(counts["pending"] ?? 0) pending, \(counts["accepted"] ?? 0) accepted")
        }
    }

    struct Mode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Show or switch the park's gate mode: normal, fast_check (signature and validity only, reconciled later) or evacuation (all gates open, nothing counted).",
            discussion:
                "Every change is logged with who and why; a running node agent picks it up within a second. Operator devices can do the same with PUT /v1/mode."
        )
        @Option(help: "The node agent's data directory.") var data: String
        @Option(help: "The mode to switch to (normal, fast_check, evacuation); without it, show the mode and its recent changes.") var set: String?
        @Option(help: "Why (logged).") var reason: String?
        @Option(help: "Who is switching (logged).") var by: String = "operator"

        func validate() throws {
            if let set {
                guard GateMode(rawValue: set) != nil else { throw ValidationError("--set is normal, fast_check or evacuation") }
                guard reason != nil else { throw ValidationError("--reason is required when switching modes") }
            }
        }

        func run() async throws {
            let agent = try await NodeAgent(directory: NodeDirectory(data), logger: CLILogging.quiet)
            defer { Task { await agent.shutdown() } }
            if let set, let mode = GateMode(rawValue: set) {
                try await agent.setMode(mode, by: "cli:\(by)", reason: reason ?? "")
            }
            let status = await agent.status()
            print("mode: \(status.mode.rawValue)")
            for change in status.modeChanges {
                print("  \(ISO8601DateFormatter().string(from: change.at))  \(change.mode)  by \(change.by): \(change.reason)")
            }
            await agent.shutdown()
        }
    }
}
