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
        subcommands: [
            Run.self, Show.self, Approve.self, MarkPaid.self, Export.self, Files.self, Reconcile.self, Exceptions.self, Resolve.self, Disputes.self,
            Decide.self, CalendarCommand.self,
        ])

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
        @Option(help: "The clearing principal running it, e.g. C01 (recorded: under four eyes another one approves).") var by: String?

        func run() async throws {
            let (hub, day) = try await options.open()
            let principal: Principal = try by.map { try Principal.clearing($0) } ?? .hub
            let record = try await hub.runSettlement(day: day, by: principal) { print("… \($0)") }
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
        @Option(help: "Why the positions are marked by hand (recorded with who did it).") var reason: String
        @Argument(help: "PARK=REFERENCE pairs, e.g. P001=BANK-20261126-0001.") var payments: [String]

        func run() async throws {
            let (hub, day) = try await options.open()
            let parsed = try payments.map { pair -> SettlementExport.Payment in
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[1].isEmpty else { throw ValidationError("\(pair) is not PARK=REFERENCE") }
                return SettlementExport.Payment(park: parts[0], reference: parts[1])
            }
            let record = try await hub.recordSettlementPayments(Hub.settlementID(day), parsed, by: try Principal.clearing(by), reason: reason)
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

extension SettleCommand {
    struct DataOption: ParsableArguments {
        @Option(help: "The hub's data directory.") var data: String
        func open() async throws -> Hub { try await Hub(directory: HubDirectory(data), logger: CLILogging.quiet) }
    }

    struct Files: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an approved batch's payment files: pain.001 (pay-outs), pain.008 (direct debits), payment-due notices (CSV).")
        @OptionGroup var options: DayOptions
        @Option(help: "The clearing principal's id.") var by: String
        @Option(help: "Directory to write pain.001.xml, pain.008.xml and notices.csv into.") var out: String

        func run() async throws {
            let (hub, day) = try await options.open()
            let files = try await hub.paymentFiles(Hub.settlementID(day), by: try Principal.clearing(by))
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var written: [String] = []
            for (name, body) in [("pain.001.xml", files.pain001), ("pain.008.xml", files.pain008), ("notices.csv", files.noticesCSV)] {
                guard let body else { continue }
                let path = (out as NSString).appendingPathComponent("\(files.batch)-\(name)")
                try body.write(toFile: path, atomically: true, encoding: .utf8)
                written.append(path)
            }
            print("\(files.batch): payments due \(files.paymentDay)")
            for path in written { print("  \(path)") }
        }
    }

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a bank statement (camt.053 XML or CSV) and match it against the approved batches.")
        @OptionGroup var data: DataOption
        @Option(help: "The clearing principal's id.") var by: String
        @Option(help: "camt053 or csv (default: from the file name).") var format: String?
        @Argument(help: "The statement file.") var file: String

        func run() async throws {
            let hub = try await data.open()
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            let format = format ?? (file.lowercased().hasSuffix(".csv") ? "csv" : "camt053")
            let report = try await hub.importStatement(bytes, format: format, by: try Principal.clearing(by))
            func money(_ minor: Int64?) -> String { minor.map { "\(Money(minorUnits: $0))" } ?? "" }
            print("statement \(report.statement): \(report.lines.count) entries")
            print(
                Table.render(
                    header: ["entry", "direction", "amount", "outcome", "batch", "park", "expected", "received"],
                    rows: report.lines.map {
                        [
                            $0.entryRef, $0.direction, money($0.amountMinor), $0.outcome, $0.batch ?? "", $0.park ?? "", money($0.expectedMinor),
                            money($0.receivedMinor),
                        ]
                    }))
            if !report.paid.isEmpty { print("paid now: " + report.paid.joined(separator: ", ")) }
        }
    }

    struct Exceptions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List reconciliation exceptions (open ones first).")
        @OptionGroup var data: DataOption
        @Flag(help: "Only the open ones.") var open = false

        func run() async throws {
            let hub = try await data.open()
            let list = try await hub.clearingExceptions(open: open)
            print(
                Table.render(
                    header: ["id", "state", "outcome", "entry", "amount", "batch", "park", "detail", "resolution"],
                    rows: list.map { item in
                        [
                            "\(item.id)", item.state, item.outcome, item.entryRef, "\(Money(minorUnits: item.amountMinor))", item.batch ?? "", item.park ?? "",
                            item.detail, item.resolution.map { "\($0) (\(item.resolvedBy ?? ""))" } ?? "",
                        ]
                    }))
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resolve a reconciliation exception with a reason.")
        @OptionGroup var data: DataOption
        @Option(help: "The clearing principal's id.") var by: String
        @Option(help: "Why it is resolved (recorded).") var reason: String
        @Argument(help: "The exception's id.") var id: Int64

        func run() async throws {
            let hub = try await data.open()
            let resolved = try await hub.resolveException(id, reason: reason, by: try Principal.clearing(by))
            print("exception \(resolved.id): \(resolved.state) by \(resolved.resolvedBy ?? "?"): \(resolved.resolution ?? "")")
        }
    }

    struct Disputes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List parks' disputes of obligation lines.")
        @OptionGroup var data: DataOption

        func run() async throws {
            let hub = try await data.open()
            let list = try await hub.disputes(for: .hub)
            print(
                Table.render(
                    header: ["id", "state", "batch", "line", "park", "from", "to", "amount", "reason", "decision"],
                    rows: list.map { item in
                        [
                            item.id, item.state, item.batch, "\(item.seq)", item.park, item.from, item.to, "\(Money(minorUnits: item.amountMinor))",
                            item.reason,
                            item.decisionReason.map { "\($0) (\(item.decidedBy ?? ""))" } ?? "",
                        ]
                    }))
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept or reject a dispute (accepted: adjustment lines in the next open day's batch).")
        @OptionGroup var data: DataOption
        @Option(help: "The clearing principal's id.") var by: String
        @Option(help: "accept or reject.") var decision: String
        @Option(help: "Why (recorded and signed).") var reason: String
        @Argument(help: "The dispute's id.") var id: String

        func validate() throws {
            guard decision == "accept" || decision == "reject" else { throw ValidationError("--decision is accept or reject") }
        }

        func run() async throws {
            let hub = try await data.open()
            let view = try await hub.decideDispute(id, DisputeDecisionRequest(decision: decision, reason: reason), by: try Principal.clearing(by))
            print("\(view.id): \(view.state)\(view.adjustmentPeriod.map { "; adjustment in the batch of \($0)" } ?? "")")
        }
    }

    struct CalendarCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "calendar", abstract: "Each business day's clearing state: open, closed, approved, files issued, reconciled, final.")
        @OptionGroup var data: DataOption
        @Option(help: "First day, YYYY-MM-DD (default: 13 days ago).") var from: String?
        @Option(help: "Last day, YYYY-MM-DD (default: today).") var to: String?
        @Flag(help: "JSON instead of a table.") var json = false

        func validate() throws {
            for value in [from, to].compactMap({ $0 }) where (try? CivilDay(value)) == nil { throw ValidationError("\(value) is not YYYY-MM-DD") }
        }

        func run() async throws {
            let hub = try await data.open()
            let today = hub.passes.calendar.day(of: Date())
            let report = try await hub.settlementCalendarReport(
                from: try from.map { try CivilDay($0) } ?? today.adding(days: -13), to: try to.map { try CivilDay($0) } ?? today)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            print("settlement calendar (\(report.timeZone))")
            print(
                Table.render(
                    header: ["day", "state", "cut-off", "payment day", "batch", "approved by", "exceptions", "disputes"],
                    rows: report.days.map {
                        [$0.day, $0.state, $0.cutOff, $0.paymentDay, $0.batch ?? "", $0.approvedBy ?? "", "\($0.openExceptions)", "\($0.openDisputes)"]
                    }))
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
