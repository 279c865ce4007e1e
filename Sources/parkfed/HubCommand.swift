import ArgumentParser
import Crypto
import Foundation
import Hummingbird
import Logging
import ParkFedDomain
import ParkFedHub
import ParkFedPKI
import ServiceLifecycle
import X509

struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "Run and administer the federation hub.",
        subcommands: [
            Init.self, Serve.self, EnrollToken.self, IssueCert.self, Revoke.self, VerifyLog.self, PurgeRealName.self, ImportPartners.self,
            RegulatorQueries.self, Backup.self,
            Restore.self,
        ])

    struct DataOption: ParsableArguments {
        @Option(name: .customLong("data"), help: "The hub's data directory (hub.json, keys, hub.sqlite). Default: $PARKFED_HUB_DATA.")
        var argument: String?

        /// The directory from --data or PARKFED_HUB_DATA (validated to be one of them).
        var data: String { argument ?? Startup.environment("PARKFED_HUB_DATA") ?? "" }

        func validate() throws {
            guard argument != nil || Startup.environment("PARKFED_HUB_DATA") != nil else {
                throw ValidationError("give the hub's data directory with --data or PARKFED_HUB_DATA")
            }
        }
    }

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a federation: root CA, hub TLS certificate, hub signing key, database.")
        @OptionGroup var data: DataOption
        @Option(help: "The federation's name.") var federation = "ParkFederation"
        @Option(name: .customLong("dns-name"), help: "A DNS name for the hub's TLS certificate (repeatable).") var dnsNames: [String] = ["localhost"]
        @Option(name: .customLong("ip"), help: "An IP address for the hub's TLS certificate (repeatable).") var ips: [String] = ["127.0.0.1", "::1"]
        @Option(help: "Park certificate lifetime in days.") var parkCertificateDays = 90
        @Option(help: "Enrollment token lifetime in hours.") var tokenHours = 24
        @Option(
            help:
                "Keep the hub's state in PostgreSQL (postgres://user:password@host:port/database, an existing empty database) instead of the data directory's SQLite file; several hub processes with copies of this data directory can then serve together."
        )
        var store: String?

        func validate() throws {
            if let store, !(store.hasPrefix("postgres://") || store.hasPrefix("postgresql://")) {
                throw ValidationError("--store is a postgres:// URL")
            }
        }

        func run() async throws {
            let configuration = HubConfiguration(
                federation: federation, hubDNSNames: dnsNames, hubIPAddresses: ips,
                parkCertificateDays: parkCertificateDays, enrollmentTokenHours: tokenHours, store: store)
            let directory = try await HubDirectory.initialize(at: data.data, configuration: configuration)
            print("hub initialised in \(directory.path)")
            print("  federation root certificate (give it to parks): \(directory.caCertificate)")
            print("  hub signing public key: \(directory.signingPublicKey)")
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the hub's HTTPS server (mutual TLS, HTTP/2).",
            discussion:
                "The federation's settings live in the data directory's hub.json (written by `parkfed hub init`: federation name, time zone, currency, clock-skew limits, settlement time and fee, certificate lifetimes); the options below say where and how this process serves, each also settable from the environment. SIGTERM or SIGINT stops accepting connections, lets requests in flight finish and commit, then exits."
        )
        @OptionGroup var data: DataOption
        @Option(help: "Address to listen on, HOST:PORT. Default: $PARKFED_HUB_LISTEN, else 127.0.0.1:8443.") var listen: ListenAddress?
        @Option(
            help:
                "Plain-HTTP ops listener for /healthz, /readyz and /metrics (loopback or a management network only). Default: $PARKFED_HUB_OPS_LISTEN, else none."
        )
        var opsListen: ListenAddress?
        @Option(help: "Log level (trace, debug, info, notice, warning, error). Default: $PARKFED_LOG_LEVEL, else info.") var logLevel: String?

        func validate() throws {
            if let level = logLevel ?? Startup.environment("PARKFED_LOG_LEVEL"), Logger.Level(rawValue: level) == nil {
                throw ValidationError("log level is one of trace, debug, info, notice, warning, error, critical")
            }
        }

        func run() async throws {
            let logger = CLILogging.logger("parkfed.hub", level: logLevel ?? Startup.environment("PARKFED_LOG_LEVEL") ?? "info")
            let listen = try Startup.listen(self.listen, env: "PARKFED_HUB_LISTEN", default: "127.0.0.1:8443")
            let opsListen = try Startup.listen(self.opsListen, env: "PARKFED_HUB_OPS_LISTEN")
            let hub = try await Hub(directory: HubDirectory(data.data), logger: logger)
            let app = try HubServer.application(hub: hub, host: listen.host, port: listen.port, logger: logger) { channel in
                logger.notice("hub listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            }
            var services: [any Service] = [
                app, SettlementService(hub: hub), OutboundDeliveryService(hub: hub),
                ReportService(hub: hub, directory: (data.data as NSString).appendingPathComponent("reports")),
            ]
            if let opsListen {
                services.append(
                    HubServer.opsApplication(hub: hub, host: opsListen.host, port: opsListen.port, logger: logger) { channel in
                        logger.notice("ops listener", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                    })
            }
            let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await Startup.run(listening: [listen] + (opsListen.map { [$0] } ?? [])) { try await group.run() }
        }
    }

    struct EnrollToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enroll-token", abstract: "Make a one-time enrollment token for a park; prints the token alone on stdout.")
        @OptionGroup var data: DataOption
        @Option(help: "The park id, e.g. P001.") var park: String
        @Option(help: "The park's display name.") var name: String
        @Option(help: "Token lifetime in hours (default: the hub's setting, 24).") var hours: Int?
        @Flag(help: "Re-admit a park that was revoked (it enrolls anew with new keys; its old certificates and keys stay revoked).") var readmit = false

        func validate() throws {
            guard ParkID.isValid(park) else { throw ValidationError("--park must be 2-32 characters of A-Z, 0-9, '-' or '_', starting with a letter") }
            if let hours, !(1...720).contains(hours) { throw ValidationError("--hours must be 1-720") }
        }

        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            let token = try await hub.createEnrollmentToken(
                park: try ParkID(park), name: name, validity: hours.map { TimeInterval($0 * 3600) },
                readmit: readmit)
            print(token)
        }
    }

    struct IssueCert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue-cert",
            abstract: "Issue a certificate for a regulator or clearing principal.",
            discussion: "With --csr the certificate is issued for the CSR's key; otherwise a P-256 key is made and written next to it (mode 0600).")
        @OptionGroup var data: DataOption
        @Option(help: "regulator, clearing or operator.") var role: String
        @Option(help: "The principal's id, e.g. R01.") var id: String
        @Option(help: "A PEM CSR to sign (openssl req). Without it a key pair is generated.") var csr: String?
        @Option(help: "Directory to write ID-cert.pem (and ID-key.pem).") var out: String = "."

        func validate() throws {
            guard ["regulator", "clearing", "operator"].contains(role) else { throw ValidationError("--role must be regulator, clearing or operator") }
            guard ParkID.isValid(id) else { throw ValidationError("--id must be 2-32 characters of A-Z, 0-9, '-' or '_', starting with a letter") }
        }

        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            let principal = try Principal(role: Principal.Role(rawValue: role)!, id: id)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let certificatePath = (out as NSString).appendingPathComponent("\(id)-cert.pem")
            let publicKey: Certificate.PublicKey
            if let csr {
                publicKey = try SigningRequest(pem: try SecretFile.read(csr)).publicKey
            } else {
                let key = P256.Signing.PrivateKey()
                let keyPath = (out as NSString).appendingPathComponent("\(id)-key.pem")
                try SecretFile.write(key.pemRepresentation, to: keyPath)
                print("key: \(keyPath)")
                publicKey = .init(key.publicKey)
            }
            let (_, pem) = try await hub.issueCertificate(for: principal, publicKey: publicKey)
            try SecretFile.writePublic(pem + (try hub.ca.certificate.pemString()), to: certificatePath)
            print("certificate for \(principal): \(certificatePath)")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a park (or a regulator/clearing principal) at once; takes effect on its next request.")
        @OptionGroup var data: DataOption
        @Option(help: "The park to revoke.") var park: String?
        @Option(help: "A principal to revoke, e.g. regulator:R01.") var principal: String?

        func validate() throws {
            guard (park == nil) != (principal == nil) else { throw ValidationError("give exactly one of --park or --principal") }
            if let park, !ParkID.isValid(park) { throw ValidationError("--park is not a park id") }
        }

        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            let target = try park.map { Principal.park(try ParkID($0)) } ?? Principal(parsing: principal!)
            let count = try await hub.revoke(principal: target)
            print("revoked \(target): \(count) certificate(s)")
        }
    }

    struct VerifyLog: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-log",
            abstract: "Recompute the assertion log from the stored entries and check it against every signed checkpoint.",
            discussion: "Exits 1 and names the first bad index when any stored byte was changed.")
        @OptionGroup var data: DataOption

        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            let report = try await LogVerifier(hub: hub).verify { count in
                FileHandle.standardError.write(Data("  verified \(count) entries…\n".utf8))
            }
            // The operator's console shows the last verification, wherever it ran.
            try await hub.recordLogVerification(report)
            if report.ok {
                let redacted = report.redacted > 0 ? " (\(report.redacted) redacted by retention, vouched for by its statements)" : ""
                print("log OK: \(report.entries) entries, \(report.checkpoints) checkpoints and \(report.tiles) tiles verified\(redacted)")
                return
            }
            print("log FAILED: first bad index \(report.firstBadIndex.map(String.init) ?? "unknown")")
            for problem in report.problems.prefix(20) { print("  \(problem)") }
            if report.problems.count > 20 { print("  … \(report.problems.count - 20) more") }
            throw ExitCode(1)
        }
    }

    struct PurgeRealName: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "purge-real-name",
            abstract: "Reduce the real-name data of passes past their retention period to masked form (the running hub does it daily).",
            discussion:
                "A pass's holder is kept for real_name_retention_days (hub.json, default 1095) after its validity ends; each run is a signed retention.purged statement in the log naming the passes and the redacted entries with their leaf hashes, so verify-log still passes."
        )
        @OptionGroup var data: DataOption

        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            let run = try await hub.purgeRealName()
            await hub.close()
            print(
                "retention: \(run.passes) pass(es) reduced, \(run.holdersRemoved) holder record(s) removed, \(run.redacted) log entr(ies) redacted, \(run.statements.count) statement(s)"
            )
        }
    }

    struct ImportPartners: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-partners",
            abstract: "Load the federation's promotions, combo pass products, parks' capacities and accounts, and resellers (partners/*.json) into the hub.")
        @OptionGroup var data: DataOption
        @Option(help: "The partners directory.") var partners = "partners"

        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            let count = try await hub.importPromotions(file: (partners as NSString).appendingPathComponent("promotions.json"))
            let products = try await hub.importProducts(file: (partners as NSString).appendingPathComponent("products.json"))
            let parks = try await hub.importParks(directory: partners)
            let resellersFile = (partners as NSString).appendingPathComponent("resellers.json")
            let resellers = FileManager.default.fileExists(atPath: resellersFile) ? try await hub.importResellers(file: resellersFile) : 0
            print("imported \(count) promotion(s), \(products) product(s), \(parks) park capacities, \(resellers) reseller(s)")
        }
    }

    struct RegulatorQueries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "regulator-queries",
            abstract: "List the regulator queries the hub answered: who, what (documents masked), how many records, when, and the log index of each.",
            discussion: "Each query is a hub-signed statement in the Merkle log; `parkfed hub verify-log` checks them with everything else.")
        @OptionGroup var data: DataOption
        @Option(help: "At most this many, newest first.") var limit = 100

        func run() async throws {
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit is 1-100000") }
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            let queries = try await hub.store.regulatorQueries(limit: limit)
            let formatter = ISO8601DateFormatter()
            print(
                Table.render(
                    header: ["time", "principal", "records", "log index", "query"],
                    rows: queries.map {
                        [formatter.string(from: $0.at), $0.principal, String($0.records), $0.logIndex.map(String.init) ?? "-", $0.query]
                    }))
            print("\(queries.count) quer\(queries.count == 1 ? "y" : "ies")")
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a consistent online copy of the hub's data directory (SQLite backup API) while it serves.",
            discussion: "The copy holds the database as of one moment, the configuration and every key (0600); keep it as safe as the hub itself.")
        @OptionGroup var data: DataOption
        @Option(help: "A new directory for the backup.") var out: String

        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            let size = try await hub.backup(to: out)
            print("backup of \(data.data) in \(out): log of at least \(size) entries, database, configuration and keys")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a backup (SQLite integrity, the whole log against its signed checkpoints) and install it as a new data directory.",
            discussion: "Nothing is installed when a check fails; serve the restored directory with `parkfed hub serve --data`.")
        @Option(help: "The backup directory.") var from: String
        @Option(help: "A new data directory to restore into.") var data: String

        func run() async throws {
            let report = try await Hub.restore(from: from, to: data, logger: CLILogging.quiet)
            print("restored \(from) into \(data): integrity OK, log OK (\(report.entries) entries, \(report.checkpoints) checkpoints verified)")
        }
    }
}
