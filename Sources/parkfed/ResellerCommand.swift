import ArgumentParser
import Foundation
import ParkFedDomain
import ParkFedHub

/// `parkfed reseller …`: the operator admits resellers (partners/resellers.json), issues and revokes their OCTO API
/// keys, and reads their bookings and webhook deliveries.
struct ResellerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reseller", abstract: "Resellers on the OCTO API: admit them, issue and revoke API keys, see bookings and webhooks.",
        subcommands: [Import.self, List.self, IssueKey.self, RevokeKey.self, Keys.self, WebhookSecret.self, Bookings.self, Webhooks.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Admit the resellers of partners/resellers.json (their rates checked against the catalogue; products first).")
        @OptionGroup var data: HubCommand.DataOption
        @Option(help: "The resellers file.") var file = "partners/resellers.json"
        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            print("admitted \(try await hub.importResellers(file: file)) reseller(s)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The admitted resellers, their products and rates (retail, net, commission per head).")
        @OptionGroup var data: HubCommand.DataOption
        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            for record in try await hub.store.resellers() {
                guard let reseller = try await hub.admittedReseller(record.id) else { continue }
                print("\(record.id)  \(record.name)  \(record.status.rawValue)  webhook: \(record.webhookURL ?? "-")")
                for rate in reseller.rates.values.sorted(by: { ($0.product, $0.category) < ($1.product, $1.category) }) {
                    print(
                        "  \(rate.product.padding(toLength: 24, withPad: " ", startingAt: 0)) \(rate.category.padding(toLength: 10, withPad: " ", startingAt: 0)) retail \(rate.retailMinor)  net \(rate.netMinor)  commission \(rate.commissionMinor)"
                    )
                }
            }
        }
    }

    struct IssueKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue-key", abstract: "Make an API key for a reseller; prints the key alone on stdout, this once (the hub keeps its hash).")
        @OptionGroup var data: HubCommand.DataOption
        @Option(help: "The reseller's id, e.g. TRIPGO.") var reseller: String
        @Option(help: "What the key is for (shown in `keys`).") var label = "OCTO"
        func validate() throws { guard ParkID.isValid(reseller) else { throw ValidationError("--reseller is a reseller id such as TRIPGO") } }
        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            print(try await hub.issueResellerKey(try ParkID(reseller), label: label).key)
        }
    }

    struct RevokeKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke-key", abstract: "Revoke an API key at once, by its id (see `keys`).")
        @OptionGroup var data: HubCommand.DataOption
        @Option(help: "The key id (the 12 characters after pfr_).") var key: String
        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            try await hub.revokeResellerKey(key)
            print("revoked \(key)")
        }
    }

    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every API key: id, reseller, label, made, revoked (never the secret).")
        @OptionGroup var data: HubCommand.DataOption
        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            for key in try await hub.store.resellerKeys(nil) {
                print("\(key.keyID)  \(key.reseller)  \(key.label)  made \(key.createdAt)  \(key.revokedAt.map { "revoked \($0)" } ?? "active")")
            }
        }
    }

    struct WebhookSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "webhook-secret", abstract: "The secret a reseller checks webhooks' Octo-Signature with (HMAC-SHA256).")
        @OptionGroup var data: HubCommand.DataOption
        @Option(help: "The reseller's id.") var reseller: String
        func validate() throws { guard ParkID.isValid(reseller) else { throw ValidationError("--reseller is a reseller id such as TRIPGO") } }
        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            print(hub.webhookSecret(of: try ParkID(reseller)))
        }
    }

    struct Bookings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A reseller's bookings, newest first: reference, status, product, day, units, net.")
        @OptionGroup var data: HubCommand.DataOption
        @Option(help: "The reseller's id (all when omitted).") var reseller: String?
        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            for booking in try await hub.store.bookings(reseller: try reseller.map { try ParkID($0) }) {
                let net = booking.units.reduce(Int64(0)) { $0 + $1.netMinor }
                print(
                    "\(booking.reference)  \(booking.reseller)  \(booking.status)  \(booking.product)  \(booking.day)\(booking.slot.map { " " + $0 } ?? "")  units \(booking.units.count)  net \(net)  uuid \(booking.uuid)"
                )
            }
        }
    }

    struct Webhooks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Webhook deliveries, newest first: event, booking, attempts, last status, delivered.")
        @OptionGroup var data: HubCommand.DataOption
        @Option(help: "The reseller's id (all when omitted).") var reseller: String?
        func run() async throws {
            let hub = try await Hub(directory: HubDirectory(data.data), logger: CLILogging.quiet)
            for webhook in try await hub.store.webhooks(reseller: try reseller.map { try ParkID($0) }) {
                print(
                    "\(webhook.id)  \(webhook.reseller)  \(webhook.event)  booking \(webhook.bookingUUID)  attempts \(webhook.attempts)  last \(webhook.lastStatus.map(String.init) ?? "-")  \(webhook.deliveredAt.map { "delivered \($0)" } ?? "next \(webhook.nextAttemptAt)")\(webhook.lastError.map { "  (\($0))" } ?? "")"
                )
            }
        }
    }
}
