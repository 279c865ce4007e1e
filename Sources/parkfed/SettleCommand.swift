import ArgumentParser
import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedProtocol
import ParkFedStore

/// `parkfed settle …`: clearing staff's commands on the hub's data directory (the running hub's own batcher and the
/// `/v1/settlement` endpoints do the same over mutual TLS).
struct SettleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settle", abstract: "Close business days into signed settlement batches, review, approve, mark paid, export.",
        subcommands: [Run.self, Show.self, Approve.self, MarkPaid.self, Export.self])

    struct DayOptions: ParsableArguments {
        @Option(help: "The hub's data directory.") var data: String
        @Option(help: "The business day, YYYY-MM-DD (federation time zone).") var day: String

        func validate() throws {
            guard (try? CivilDay(day)) != nil else { throw ValidationError("--day must be a date YYYY-MM-DD") }
        }

        func open() async throws -> (Hub, CivilDay) {
            await (try Hub(directory: HubDirectory(data), logger: CLILogging.quiet), try CivilDay(day))
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a business day: net its obligations into one signed batch (idempotent).")
        @OptionGroup var options: DayOptions

        func run() async throws {
            let (hub, day) = try await options.open()
            let record = try await hub.runSettlement(day: day) { print("… \($0)") }
            await print(SettlementReport.table(try hub.settlementExport(record)))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a batch as a table (gross, net, reduction, each park's position).")
        @OptionGroup var options: DayOptions
        @Option(help: "Language of the report: en or zh.") var lang = "en"

        func validate() throws {
            guard MessageCatalog.Language(rawValue: lang) != nil else { throw ValidationError("--lang is en or zh") }
        }

        func run() async throws {
            let (hub, day) = try await options.open()
            guard let record = try await hub.store.batch(day: day) else { throw ValidationError("no batch for \(day); run `parkfed settle run` first") }
            await print(SettlementReport.table(try hub.settlementExport(record), language: MessageCatalog.Language(rawValue: lang) ?? .en))
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a draft batch (it never changes afterwards).")
        @OptionGroup var options: DayOptions
        @Option(help: "The clearing principal's id, e.g. C01 (recorded as clearing:C01).") var by: String

        func run() async throws {
            let (hub, day) = try await options.open()
            let record = try await hub.approveSettlement(Hub.settlementID(day), by: try Principal.clearing(by))
            print("\(record.id): \(record.state) by \(record.approvedBy ?? "?")")
        }
    }

    struct MarkPaid: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record payment references (PARK=REFERENCE); the batch is paid once every party has one.")
        @OptionGroup var options: DayOptions
        @Option(help: "The clearing principal's id.") var by: String
        @Argument(help: "PARK=REFERENCE pairs, e.g. P001=BANK-20261126-0001.") var payments: [String]

        func run() async throws {
            let (hub, day) = try await options.open()
            let parsed = try payments.map { pair -> SettlementExport.Payment in
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[1].isEmpty else { throw ValidationError("\(pair) is not PARK=REFERENCE") }
                return SettlementExport.Payment(park: parts[0], reference: parts[1])
            }
            let record = try await hub.recordSettlementPayments(Hub.settlementID(day), parsed, by: try Principal.clearing(by))
            print("\(record.id): \(record.state); payments recorded for \(record.payments.keys.sorted().joined(separator: ", "))")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a batch as JSON, or CSV (one row per park, or one per obligation).")
        @OptionGroup var options: DayOptions
        @Option(help: "json, positions.csv or obligations.csv.") var format = "json"
        @Option(help: "File to write (default: standard output).") var out: String?

        func validate() throws {
            guard ["json", "positions.csv", "obligations.csv"].contains(format) else {
                throw ValidationError("--format is json, positions.csv or obligations.csv")
            }
        }

        func run() async throws {
            let (hub, day) = try await options.open()
            guard let record = try await hub.store.batch(day: day) else { throw ValidationError("no batch for \(day)") }
            let export = try await hub.settlementExport(record)
            let text: String =
                switch format {
                case "positions.csv": SettlementCSV.positions(export)
                case "obligations.csv": SettlementCSV.obligations(export)
                default: try SettlementReport.json(export)
                }
            if let out { try text.write(toFile: out, atomically: true, encoding: .utf8) } else { print(text, terminator: "") }
        }
    }
}

/// The readable settlement report.
enum SettlementReport {
    static func table(_ export: SettlementExport, language: MessageCatalog.Language = .en) -> String {
        let batch = export.batch
        func money(_ minor: Int64) -> String { "\(Money(minorUnits: minor, currency: (try? Currency(batch.currency)) ?? .cny))" }
        func text(_ key: String, _ values: [String: String] = [:]) -> String { MessageCatalog.text("report.\(key)", language, values) }
        var rows = batch.positions.map { position in
            [position.park, position.netMinor > 0 ? text("receives") : (position.netMinor < 0 ? text("pays") : "—"), money(position.netMinor)]
        }
        rows.append([text("sum"), "", money(batch.positions.reduce(0) { $0 + $1.netMinor })])
        let totals = text(
            "totals",
            [
                "count": "\(batch.obligationCount)", "gross": money(batch.grossMinor), "net": money(batch.netMinor),
                "reduction": String(format: "%.2f", Double(batch.reductionBasisPoints) / 100),
            ])
        return text(
            "settlement", ["id": batch.id, "state": export.state, "day": batch.day, "zone": batch.timeZone, "checkpoint": "\(batch.checkpoint.treeSize)"])
            + "\n" + totals + (batch.feeMinor > 0 ? "   " + text("fees", ["fees": money(batch.feeMinor)]) : "") + "\n\n"
            + Table.render(header: [text("park"), "", text("position")], rows: rows)
    }

    static func json(_ export: SettlementExport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(export), as: UTF8.self) + "\n"
    }
}
