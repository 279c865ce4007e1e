import ArgumentParser
import Foundation

@main
struct ParkFed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parkfed",
        abstract: "ParkFederation: a clearing house and node agents for scenic areas, theme parks and museums.",
        subcommands: [DemoCommand.self, HubCommand.self, NodeCommand.self, SettleCommand.self, RegulatorCommand.self, BenchCommand.self, SimulateCommand.self])
}
