import ArgumentParser
import Foundation
import ParkFedHub
import ParkFedStorePostgres

@main
struct ParkFed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parkfed",
        abstract: "ParkFederation: a clearing house and node agents for scenic areas, theme parks and museums.",
        subcommands: [
            DemoCommand.self, HubCommand.self, NodeCommand.self, SettleCommand.self, RegulatorCommand.self, ResellerCommand.self, BenchCommand.self,
            SimulateCommand.self,
        ])

    /// The command supports both stores: it installs the PostgreSQL driver before any hub opens its store.
    static func main() async {
        HubDatabase.installPostgres { url, logger in try PostgresDatabase(url: url, logger: logger) }
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
