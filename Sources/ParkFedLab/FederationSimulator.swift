import Foundation
import Logging
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore

/// A seeded federation below the sockets: the hub's and the node agents' real code and SQLite stores, driven through
/// simulated days by one random generator. Parks sell passes, gates admit entries (online through the hub's own
/// decide-and-log path, or offline at the node when the park is cut off), cards are loaded, spent at other parks and
/// refunded; links are cut and restored, the hub and the nodes restart, clocks drift; each business day is settled.
/// After every step the invariants are checked; a failure names its seed and step, and the same seed replays the same
/// run (ids and signatures differ, the decisions do not).
public final class FederationSimulator {
    /// What a finished run did.
    public struct Summary: Sendable, CustomStringConvertible {
        public var steps = 0, sales = 0, onlineEntries = 0, offlineEntries = 0, refusals = 0, conflicts = 0
        public var spends = 0, refunds = 0, partitions = 0, restarts = 0, batches = 0, assertions = 0
        public var description: String {
            "\(steps) steps: \(sales) sales, \(onlineEntries) online + \(offlineEntries) offline entries (\(refusals) refused, \(conflicts) conflicts), "
                + "\(spends) card spends, \(refunds) refunds, \(partitions) partitions, \(restarts) restarts, \(batches) batches, \(assertions) logged"
        }
    }

    /// A broken invariant.
    public struct Failure: Error, CustomStringConvertible {
        public let seed: UInt64
        public let step: Int
        public let message: String
        public var description: String { "seed \(seed), step \(step): \(message) (replay: parkfed simulate --seed \(seed))" }
    }

    /// A hub with the example partners and three enrolled parks, made once over loopback and copied for every run.
    public struct Template: Sendable {
        public let directory: TemporaryDirectory
        public let parks: [String]

        public static func make(parks: [String] = ["P001", "P002", "P003"]) async throws -> Template {
            let federation = try await LabFederation.launch(configuration: HubConfiguration(federation: "Simulation", settlementTime: nil))
            for agent in try await federation.enrollParks(parks) { await agent.shutdown() }
            await federation.stopHub()
            let directory = try TemporaryDirectory(prefix: "parkfed-sim-template")
            for item in try FileManager.default.contentsOfDirectory(atPath: federation.directory.path) {
                try FileManager.default.copyItem(atPath: federation.directory.file(item), toPath: directory.file(item))
            }
            federation.directory.remove()
            return Template(directory: directory, parks: parks)
        }
    }

    let seed: UInt64
    var random: SeededRandom
    let root: TemporaryDirectory
    let parks: [ParkID]
    let logger: Logger
    var hub: Hub
    var agents: [NodeAgent]
    var connected: [Bool]
    var skew: [TimeInterval]
    var now: Date
    var day: CivilDay
    var step = 0
    var summary = Summary()
    var sold: [(passID: String, code: String, product: String)] = []
    var cards: [(id: String, loader: Int)] = []
    /// The cards themselves (their keys and counters), as the parks' readers meet them.
    var simulatedCards: [String: SimulatedCard] = [:]
    var captures: [(card: String, request: String)] = []
    var acknowledged: Set<String> = []

    static let products = ["JIANGNAN-3P", "LAKE-AND-MUSEUM-2026", "ANY2-OF-3", "REGION-MONTH"]
    static let holders = [("张小三", "11010519491231002X"), ("李四", "430102199003071234"), ("王五", "44030419851111801X")]

    init(seed: UInt64, template: Template) async throws {
        self.seed = seed
        random = SeededRandom(seed: seed)
        root = try TemporaryDirectory(prefix: "parkfed-sim")
        for item in try FileManager.default.contentsOfDirectory(atPath: template.directory.path) {
            try Self.copy(template.directory.file(item), to: root.file(item))
        }
        var logger = Logger(label: "parkfed.sim")
        logger.logLevel = .critical
        self.logger = logger
        parks = try template.parks.map { try ParkID($0) }
        hub = try await Hub(directory: HubDirectory(root.file("hub")), logger: logger)
        agents = []
        connected = Array(repeating: true, count: parks.count)
        skew = Array(repeating: 0, count: parks.count)
        // 2026-11-20 09:00 in Asia/Shanghai.
        now = Date(timeIntervalSince1970: 1_795_568_400)
        day = hub.passes.calendar.day(of: now)
        for index in parks.indices { await agents.append(try openAgent(index)) }
    }

    /// Copies a data directory without SQLite's shared-memory files (rebuilt on open).
    static func copy(_ source: String, to target: String) throws {
        var isDirectory: ObjCBool = false
        FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for item in try FileManager.default.contentsOfDirectory(atPath: source) where !item.hasSuffix("-shm") {
                try copy((source as NSString).appendingPathComponent(item), to: (target as NSString).appendingPathComponent(item))
            }
        } else {
            try FileManager.default.copyItem(atPath: source, toPath: target)
        }
    }

    /// A node agent on its copied files whose hub link never answers: every network call fails at once, so its gates
    /// decide offline, as when the park is cut off; the simulator carries what a connected park sends to the hub.
    func openAgent(_ index: Int) async throws -> NodeAgent {
        let agent = try await NodeAgent(
            directory: NodeDirectory(root.file("node-\(parks[index])")), hubURL: "https://127.0.0.1:1",
            refreshInterval: .seconds(86_400), logger: logger)
        agent.assumeHubDown()
        return agent
    }

    func peer(_ index: Int) -> AuthenticatedPeer { AuthenticatedPeer(principal: .park(parks[index]), serial: "sim", notAfter: .distantFuture) }

    func pick(_ count: Int) -> Int { Int.random(in: 0..<count, using: &random) }

    func fail(_ message: String) -> Failure { Failure(seed: seed, step: step, message: message) }

    /// Runs `steps` steps, then reconnects everyone, settles the last day and checks the whole log.
    public static func run(seed: UInt64, steps: Int, template: Template) async throws -> Summary {
        let simulation = try await FederationSimulator(seed: seed, template: template)
        defer { simulation.root.remove() }
        do {
            for _ in 0..<steps { try await simulation.advance() }
            try await simulation.finish()
        } catch let failure as Failure {
            await simulation.shutdown()
            throw failure
        } catch {
            await simulation.shutdown()
            throw simulation.fail("unexpected error: \(error)")
        }
        await simulation.shutdown()
        return simulation.summary
    }

    func shutdown() async { for agent in agents { await agent.shutdown() } }

    // MARK: Steps

    func advance() async throws {
        step += 1
        summary.steps += 1
        now = now.addingTimeInterval(TimeInterval(60 * (1 + pick(45))))
        try await closeFinishedDays()
        let roll = pick(100)
        switch roll {
        case 0..<25: try await sell()
        case 25..<60: try await enter()
        case 60..<78: try await card()
        case 78..<86: try await togglePartition()
        case 86..<90: try await restart()
        case 90..<93: skew[pick(parks.count)] = TimeInterval(pick(401) - 200)
        default: try await deliverAll()
        }
        try await checkInvariants()
    }

    func sell() async throws {
        let index = pick(parks.count)
        let holder = Self.holders[pick(Self.holders.count)]
        var request = PassSaleRequest(
            product: Self.products[pick(Self.products.count)], channel: pick(2) == 0 ? "window" : "ota",
            holder: HolderInput(name: holder.0, idType: "resident_id", idNumber: holder.1))
        // The three-park pass also sells as a child's or student's ticket, or to a group of 10-14.
        if request.product == "JIANGNAN-3P" {
            switch pick(4) {
            case 0: request.category = "child"
            case 1: request.category = "student"
            case 2: (request.category, request.heads) = ("group", 10 + pick(5))
            default: break
            }
        }
        do {
            let sale = try await agents[index].sellPass(request, now: now.addingTimeInterval(skew[index]))
            sold.append((sale.passID, sale.code, sale.product))
            summary.sales += 1
        } catch is Refusal {
            return  // e.g. a product outside its dates: refused, nothing recorded
        }
        if connected[index] { try await deliver(index) }
    }

    /// An entry: online (the hub decides and logs, as a connected gate's request) or offline at the node.
    func enter() async throws {
        guard !sold.isEmpty else { return }
        let pass = sold[pick(sold.count)]
        let index = pick(parks.count)
        let at = now.addingTimeInterval(skew[index])
        if connected[index] {
            guard case .success(let (code, _)) = agents[index].verifyCode(pass.code) else { return }
            let entry = PassRedeemed(passID: code.passID, issuerPark: code.issuer, gate: "G\(pick(4))", enteredAt: at, offline: false, code: code.text)
            let (payload, jws) = try Assertions.sign(.passRedeemed(entry), park: parks[index], key: agents[index].signingKey, now: at)
            let answer: RedeemResponse
            do { answer = try await hub.redeem(RedeemRequest(assertion: jws.compact), peer: peer(index), now: now) } catch let problem as Refusal {
                guard problem.kind != .failed else { throw fail("the hub failed an entry: \(problem.code) \(problem.detail ?? "")") }
                summary.refusals += 1
                return
            }
            if answer.decision == .allow {
                acknowledged.insert(payload.id)
                summary.onlineEntries += 1
            } else {
                summary.refusals += 1
            }
        } else {
            let decision = try await agents[index].scan(GateScanRequest(code: pass.code, gate: "G\(pick(4))"), now: at)
            guard decision.mode == .offline else { throw fail("a cut-off park decided \(decision.mode)") }
            if decision.decision == .allow { summary.offlineEntries += 1 } else { summary.refusals += 1 }
        }
    }

    func card() async throws {
        let index = pick(parks.count)
        guard connected[index] else { return }  // one-card operations are online only
        let peer = peer(index)
        do {
            switch pick(4) {
            case 0 where cards.count < 6:
                let id = "SIM-\(cards.count)"
                simulatedCards[id] = try await SimulatedCard(try hub.registerCard(RegisterCardRequest(cardID: id, kind: .ic), peer: peer, now: now))
                cards.append((id, index))
                // P001 runs the pay-1000-get-200 promotion; others load plain amounts.
                let load =
                    index == 0 && pick(2) == 0
                    ? LoadRequest(loadID: "\(id)-L0", promotion: "LOAD1000GET200")
                    : LoadRequest(loadID: "\(id)-L0", amountMinor: Int64(10_000 * (1 + pick(10))))
                _ = try await hub.loadCard(id, load, peer: peer, now: now)
            case 1 where !cards.isEmpty:
                let card = cards[pick(cards.count)]
                guard card.loader == index else { return }
                _ = try await hub.loadCard(card.id, LoadRequest(loadID: "\(card.id)-L\(step)", amountMinor: Int64(100 * (1 + pick(500)))), peer: peer, now: now)
            case 2 where !captures.isEmpty:
                let capture = captures[pick(captures.count)]
                let amount = Int64(1 + pick(2_000)), refund = "F\(step)"
                let proof = simulatedCards[capture.card]!.proof(.refund, amountMinor: amount, park: parks[index].rawValue, requestID: refund)
                _ = try await hub.refundCard(
                    capture.card, requestID: capture.request, CardRefundRequest(refundID: refund, amountMinor: amount, cardProof: proof),
                    peer: peer, now: now)
                summary.refunds += 1
            default:
                guard !cards.isEmpty else { return }
                let card = cards[pick(cards.count)]
                let request = "R\(step)"
                let amount = Int64(100 * (1 + pick(300)))
                let proof = simulatedCards[card.id]!.proof(.hold, amountMinor: amount, park: parks[index].rawValue, requestID: request)
                _ = try await hub.holdCard(card.id, HoldRequest(requestID: request, amountMinor: amount, cardProof: proof), peer: peer, now: now)
                if pick(5) == 0 {
                    _ = try await hub.settleHold(card.id, requestID: request, .void, peer: peer, now: now)
                } else {
                    _ = try await hub.settleHold(card.id, requestID: request, .capture, peer: peer, now: now)
                    captures.append((card.id, request))
                    summary.spends += 1
                }
            }
        } catch let problem as Refusal {
            // Refusals (insufficient balance, a refund above what was captured, another park's card...) change nothing.
            guard problem.kind != .failed else { throw fail("the hub failed a card operation: \(problem.code) \(problem.detail ?? "")") }
        }
    }

    func togglePartition() async throws {
        let index = pick(parks.count)
        connected[index].toggle()
        summary.partitions += connected[index] ? 0 : 1
        if connected[index] { try await deliver(index) }
    }

    /// Restarts the hub or a node on the same files (their in-memory state is rebuilt from the stores).
    func restart() async throws {
        summary.restarts += 1
        if pick(2) == 0 {
            hub = try await Hub(directory: HubDirectory(root.file("hub")), logger: logger)
        } else {
            let index = pick(parks.count)
            await agents[index].shutdown()
            agents[index] = try await openAgent(index)
        }
    }

    func deliverAll() async throws {
        for index in parks.indices where connected[index] { try await deliver(index) }
    }

    /// What a connected node's outbox loop does, without the socket: pending assertions to the hub's ingest, the
    /// answers recorded by the node's own code. The simulated clocks stay within the hub's limits, so a rejection
    /// is a failure.
    func deliver(_ index: Int) async throws {
        let agent = agents[index]
        while true {
            let batch = try await agent.store.pending(limit: 200)
            guard !batch.isEmpty else { return }
            let response = try await hub.ingest(IngestRequest(assertions: batch.map(\.jws)), from: peer(index), now: now)
            if let rejected = try await agent.recordDeliveries(of: batch, response, now: now).first {
                throw fail("the hub rejected \(rejected.item.type) \(rejected.item.id) from \(parks[index]): \(rejected.reason)")
            }
            for (item, result) in zip(batch, response.results) where result.status != .rejected { acknowledged.insert(item.id) }
        }
    }

    // MARK: Days and invariants

    func closeFinishedDays() async throws {
        while hub.endOfDay(day) <= now {
            let record = try await hub.runSettlement(day: day, now: now)
            let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
            guard batch.positions.reduce(0, { $0 + $1.netMinor }) == 0 else { throw fail("positions of \(day) do not sum to zero") }
            let export = try await hub.settlementExport(record)
            guard export.obligations.count == batch.obligationCount, export.obligations.reduce(0, { $0 + $1.amountMinor }) == batch.grossMinor else {
                throw fail("the batch of \(day) does not list its obligations")
            }
            guard try await hub.runSettlement(day: day, now: now.addingTimeInterval(60)).body == record.body else {
                throw fail("re-running \(day) changed its batch")
            }
            summary.batches += 1
            day = day.adding(days: 1)
        }
    }

    func checkInvariants() async throws {
        // No pass over its entries within a park, nor over its pooled total.
        for pass in sold {
            guard let record = try await hub.store.pass(pass.passID), let product = hub.passes.product(for: record) else { continue }
            for (park, count) in record.entries {
                guard let member = product.member(park), count <= member.entries else {
                    throw fail("pass \(pass.passID) has \(count) counted entries at \(park)")
                }
            }
            if let total = product.entriesTotal, record.entries.values.reduce(0, +) > total {
                throw fail("pooled pass \(pass.passID) is over its \(total) entries")
            }
        }
        // The card ledger balances and no card is below zero.
        let ledger = try await hub.store.ledgerTotals()
        guard ledger.debits == ledger.credits else { throw fail("ledger unbalanced: \(ledger.debits) ≠ \(ledger.credits)") }
        for card in cards {
            guard let record = try await hub.store.card(card.id) else { throw fail("card \(card.id) vanished") }
            guard record.account.principalBalance >= 0, record.account.bonusBalance >= 0 else { throw fail("card \(card.id) below zero") }
        }
        // The capacity rules' running head counts are the sums of the rows they count.
        let counters = try await hub.store.capacityCounterMismatches()
        guard counters.isEmpty else { throw fail("capacity counters differ from their rows: \(counters.prefix(3))") }
        // Every acknowledged fact is in the log, once (ids are unique in the log, so present means once).
        if step % 10 == 0 || step == 1 {
            var logged = Set<String>()
            var entries = 0
            try await hub.store.forEachLogEntry {
                logged.insert($0.id); entries += 1
            }
            guard logged.count == entries else { throw fail("an id appears twice in the log") }
            let missing = acknowledged.subtracting(logged)
            guard missing.isEmpty else { throw fail("\(missing.count) acknowledged assertions are not in the log, e.g. \(missing.first!)") }
        }
    }

    /// Reconnects every park, delivers everything, settles the day, and checks the whole log from its bytes.
    func finish() async throws {
        for index in parks.indices { connected[index] = true }
        try await deliverAll()
        for agent in agents where await agent.status().outbox.pending != 0 { throw fail("\(agent.park) still has pending assertions") }
        now = hub.endOfDay(day).addingTimeInterval(60)
        try await closeFinishedDays()
        step += 1
        try await checkInvariants()
        let report = try await LogVerifier(hub: hub).verify()
        guard report.ok else { throw fail("the log does not verify: \(report.problems.prefix(3))") }
        summary.assertions = Int(report.entries)
        summary.conflicts = try await hub.store.passConflicts(park: nil, limit: 100_000).count
    }
}
