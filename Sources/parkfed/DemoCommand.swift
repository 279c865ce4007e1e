import ArgumentParser
import Crypto
import Foundation
import Logging
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedPKI
import ParkFedProtocol
import ParkFedLab

/// `parkfed demo`: a hub and the parks of `partners/` on loopback, with real mutual TLS and real SQLite files.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a hub and the example parks on loopback and show them talking over mutual TLS.",
        discussion: "Everything is written to a directory that is kept for inspection (--data to choose it).")

    @Option(help: "Directory for the demo's hub and node data (must not exist yet). Default: a new directory under /tmp.")
    var data: String?
    @Option(help: "The example federation to load. Default: $PARKFED_PARTNERS, ./partners, <prefix>/share/parkfed/partners, the source checkout.")
    var partners: String = PartnerDirectory.located
    @Option(help: "Port for the hub (0 picks a free one).") var hubPort = 0
    @Flag(help: "Keep the hub and node agents running until Ctrl-C.") var keepRunning = false
    @Option(help: "Log level for the servers.") var logLevel = "error"

    func validate() throws {
        guard (0...65535).contains(hubPort) else { throw ValidationError("--hub-port must be 0-65535") }
        if let data, FileManager.default.fileExists(atPath: data) {
            throw ValidationError("--data \(data) already exists; choose a new directory so no earlier demo is overwritten")
        }
    }

    func run() async throws {
        let started = Date()
        let root = data ?? "/tmp/parkfed-demo-\(Self.stamp())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let logger = CLILogging.logger("parkfed.demo", level: logLevel)
        let catalog = try PartnerCatalog.load(directory: partners)
        let say = Progress(total: 18)
        print("ParkFederation demo: \(catalog.manifest.federation), \(catalog.parks.count) parks; data in \(root)\n")

        say.step("hub: creating the federation (root CA, hub TLS certificate, Ed25519 signing key, SQLite database)")
        let hubDirectory = try await HubDirectory.initialize(
            at: (root as NSString).appendingPathComponent("hub"), configuration: HubConfiguration(federation: catalog.manifest.federation))
        let hub = try await Hub(directory: hubDirectory, logger: logger)
        _ = try await hub.importPromotions(file: (partners as NSString).appendingPathComponent("promotions.json"))
        _ = try await hub.importProducts(file: (partners as NSString).appendingPathComponent("products.json"))
        _ = try await hub.importParks(directory: partners)
        _ = try await hub.importResellers(file: (partners as NSString).appendingPathComponent("resellers.json"))

        let hubServer = try await RunningServer.start(logger: logger) { onRunning in
            try HubServer.application(hub: hub, host: "127.0.0.1", port: hubPort, logger: logger, onServerRunning: onRunning)
        }
        let hubURL = "https://127.0.0.1:\(hubServer.port)"
        say.step("hub: serving \(hubURL) (TLS 1.3, ALPN h2 + http/1.1, client certificates required)")

        // The last park reaches the hub through a link the demo can cut (a loopback TCP relay), to show a park
        // going offline and syncing back while the others carry on.
        let relay = try await LinkRelay.start(targetPort: hubServer.port)
        // The museum (the third park) is the one whose link is cut, as its gates hold timed tickets of its own.
        let offlinePark = catalog.parks[min(2, catalog.parks.count - 1)].id

        say.step("enrolling \(catalog.parks.count) parks with one-time tokens and CSRs")
        var agents: [(ParkManifest, NodeAgent)] = []
        var usedTokens: [String] = []
        for park in catalog.parks {
            let token = try await hub.createEnrollmentToken(park: park.id, name: park.name)
            usedTokens.append(token)
            let directory = NodeDirectory((root as NSString).appendingPathComponent("nodes/\(park.id)"))
            let parkHubURL = park.id == offlinePark ? "https://127.0.0.1:\(relay.port)" : hubURL
            let configuration = try await NodeEnrollment.enroll(
                directory: directory, hubURL: parkHubURL, park: park.id, token: token, caFile: hubDirectory.caCertificate)
            print(
                "      \(park.id) \(park.name): certificate \(configuration.certificateSerial.prefix(12))… valid until \(Self.day(configuration.certificateNotAfter)), signing kid \(configuration.signingKid.prefix(10))…"
            )
            await agents.append((park, try NodeAgent(directory: directory, refreshInterval: .seconds(30), logger: logger)))
        }

        say.step("node agents: starting local APIs, asking the hub who they are, fetching the signed trust list")
        var nodeServers: [RunningServer] = []
        var rows: [[String]] = []
        for (park, agent) in agents {
            let server = try await RunningServer.start(logger: logger) { onRunning in
                try NodeServer.application(agent: agent, host: "127.0.0.1", port: 0, logger: logger, onServerRunning: onRunning)
            }
            nodeServers.append(server)
            let whoami = try await agent.whoami()
            try await agent.refreshTrustList()
            let trust = await agent.trustList.status()
            rows.append([
                park.id.rawValue, park.name, whoami.principal, "\(trust.sequence ?? 0)", "\(agent.trustList.trustList?.parks.count ?? 0)",
                "https://127.0.0.1:\(server.port)",
            ])
        }

        say.step("refusals the federation must make")
        let anonymous = try HubClient(baseURL: hubURL, caFile: hubDirectory.caCertificate, certificateFile: nil, keyFile: nil)
        let noCertificate = try await anonymous.send(.GET, "/v1/whoami")
        await anonymous.shutdown()
        print("      whoami without a client certificate → HTTP \(noCertificate.status) \(Self.problemCode(noCertificate.body))")
        let spare = NodeDirectory((root as NSString).appendingPathComponent("refused"))
        for (label, park, token) in [
            ("the same enrollment token used twice", catalog.parks[0].id, usedTokens[0]),
            (
                "a token for \(catalog.parks[1].id) presented as \(catalog.parks[0].id)", catalog.parks[0].id,
                try await hub.createEnrollmentToken(park: catalog.parks[1].id, name: "spare")
            ),
        ] {
            do {
                try await NodeEnrollment.enroll(directory: spare, hubURL: hubURL, park: park, token: token, caFile: hubDirectory.caCertificate)
                print("      \(label) → accepted (unexpected!)")
            } catch let error as NodeError {
                print("      \(label) → \(error.problemCode ?? error.code.rawValue)")
            }
        }

        say.step("assertions: each park signs sample facts into its outbox; they reach the hub's log; each park checks its inclusion")
        var logRows: [[String]] = []
        for (index, (park, agent)) in agents.enumerated() {
            let recorded = 8 + index * 4
            for i in 0..<recorded { try await agent.record(SampleAssertions.data(i, issuer: park.id)) }
            try await agent.deliverOutbox()
            let audit = try await agent.auditLog()
            let status = await agent.status()
            logRows.append([
                park.id.rawValue, "\(recorded)", "\(status.outbox.accepted)", "\(status.outbox.verified)", "\(audit.checkpointSize)", "\(status.alarmCount)",
            ])
        }
        let verification = try await LogVerifier(hub: hub).verify()
        print("      hub log: \(verification.entries) entries, \(verification.checkpoints) signed checkpoints, verify-log \(verification.ok ? "OK" : "FAILED")")

        say.step("one-card: a card loaded at \(agents[0].0.id) under a promotion, spent at the other parks, authorised by the hub")
        let (_, loader) = agents[0]
        // The card writer personalises the card with the key the hub answers; from then on only the card can
        // authorise a spend (its cryptogram), so no park can spend a card that is not in front of it.
        let card = try SimulatedCard(try await loader.registerCard("IC-DEMO-0001", kind: .ic))
        let loaded = try await loader.loadCard("IC-DEMO-0001", loadID: "DEMO-LOAD-1", promotion: "LOAD1000GET200")
        print("      loaded \(Money(minorUnits: loaded.principalMinor)) + \(Money(minorUnits: loaded.bonusMinor)) bonus (promotion LOAD1000GET200, deduct 8:2)")
        var spendRows: [[String]] = []
        for (index, (park, agent)) in agents.enumerated().dropFirst() {
            let amount = Int64(10_000 * ((index - 1) % 3 + 1))
            let spend = try await agent.spendCard(
                "IC-DEMO-0001", requestID: "DEMO-SPEND-\(index)", amountMinor: amount,
                proof: card.proof(.hold, amountMinor: amount, park: park.id.rawValue, requestID: "DEMO-SPEND-\(index)"))
            spendRows.append([
                park.id.rawValue, "\(Money(minorUnits: amount))", "\(Money(minorUnits: spend.principalMinor))",
                "\(Money(minorUnits: spend.bonusMinor))", spend.state,
            ])
        }
        let tooMuch = card.proof(.hold, amountMinor: 10_000_000, park: agents[1].0.id.rawValue, requestID: "DEMO-TOO-MUCH")
        let overdraft = try await agents[1].1.hub.send(
            .POST, "/v1/cards/IC-DEMO-0001/holds",
            body: try StrictJSON.encoder.encode(HoldRequest(requestID: "DEMO-TOO-MUCH", amountMinor: 10_000_000, cardProof: tooMuch)))
        print("      a spend of 100,000.00 CNY → HTTP \(overdraft.status) \(Self.problemCode(overdraft.body))")
        let absent = try await agents[2].1.hub.send(
            .POST, "/v1/cards/IC-DEMO-0001/holds",
            body: try StrictJSON.encoder.encode(
                HoldRequest(
                    requestID: "DEMO-NO-CARD", amountMinor: 100, cardProof: CardProof(counter: 99, cryptogram: String(repeating: "A", count: 22)))))
        print("      \(agents[2].0.id) spends without the card (a made-up cryptogram) → HTTP \(absent.status) \(Self.problemCode(absent.body))")
        let balance = try await loader.card("IC-DEMO-0001")
        for (_, agent) in agents { try await agent.deliverOutbox() }

        say.step("combo passes: sold at \(agents[0].0.id) with a QR code, entries at every park's gates through the hub, a refund")
        let passRows = try await Self.playPasses(agents)
        for (_, agent) in agents { try await agent.deliverOutbox() }

        say.step("park operations: a child's ticket (proof checked at the gate), a group counted per head, a timed ticket, printed paper tickets")
        let operationRows = try await Self.playOperations(agents)
        for (_, agent) in agents { try await agent.deliverOutbox() }

        say.step("members: enrolled once at \(agents[0].0.id) (sealed to the hub), recognised elsewhere by app code and by card")
        let memberID = try await Self.playMembers(agents)

        say.step("regulator: a certificate from the operator, real-name and traffic queries over mutual TLS, each recorded in the log")
        try await Self.playRegulator(hub: hub, hubURL: hubURL, caFile: hubDirectory.caCertificate, root: root)

        say.step("\(offlinePark) loses its link to the hub: its gates decide alone; the link returns and everything syncs")
        let offlineRows = try await Self.playOffline(agents, relay: relay, hub: hub)

        print("\n" + Table.render(header: ["park", "name", "hub says", "trust list seq", "parks listed", "local API"], rows: rows))
        print("\n" + Table.render(header: ["park", "recorded", "accepted", "inclusion verified", "checkpoint size", "alarms"], rows: logRows))
        print("\n" + Table.render(header: ["spent at", "amount", "from principal", "from bonus", "state"], rows: spendRows))
        print("\n" + Table.render(header: ["pass", "scanned at", "gate", "decision", "reason / entries left"], rows: passRows + operationRows + offlineRows))
        print("card IC-DEMO-0001 now: \(Money(minorUnits: balance.principalMinor)) principal + \(Money(minorUnits: balance.bonusMinor)) bonus")

        say.step(
            "trade between all \(agents.count) parks: passes sold at five of them and used at others, a card loaded at \(agents[min(3, agents.count - 1)].0.id) spent elsewhere"
        )
        let tradeRows = try await Self.playTrade(agents)
        if !tradeRows.isEmpty { print(Table.render(header: ["pass", "scanned at", "gate", "decision", "reason / entries left"], rows: tradeRows)) }

        say.step("a reseller: TRIPGO books, confirms and cancels through the OCTO API with its API key; other parks' gates admit its passes")
        let resellerRows = try await Self.playResellers(hub: hub, hubURL: hubURL, caFile: hubDirectory.caCertificate, agents: agents)
        print(Table.render(header: ["booking", "unit", "retail", "net", "confirmed", "now"], rows: resellerRows))

        say.step("the visitors' shop: a visitor signs up by SMS code, books and pays (test provider), gets the e-ticket, another park's gate admits it")
        try await Self.playShop(hub: hub, hubURL: hubURL, agents: agents)

        say.step("crowds: a park's day fills up (warning at 80 %, sales stop at 100 % on every channel, a refund frees a place); the regulator's report")
        _ = try await Self.playCrowds(hub: hub, hubURL: hubURL, caFile: hubDirectory.caCertificate, root: root, agents: agents)

        say.step("nightly settlement: the business day is closed (as at local midnight) into one signed batch")
        let today = hub.passes.calendar.day(of: Date())
        say.step("clearing: four eyes, ISO 20022 payment files, the bank's camt.053 statement reconciled, a dispute decided")
        let (record, export) = try await Self.playClearing(hub: hub, agents: agents, root: root, day: today)
        let settlementFile = (root as NSString).appendingPathComponent("settlement-\(today).json")
        try SettlementReport.json(export).write(toFile: settlementFile, atomically: true, encoding: .utf8)
        try SettlementCSV.positions(export).write(
            toFile: (root as NSString).appendingPathComponent("settlement-\(today)-positions.csv"), atomically: true, encoding: .utf8)
        try SettlementCSV.obligations(export).write(
            toFile: (root as NSString).appendingPathComponent("settlement-\(today)-obligations.csv"), atomically: true, encoding: .utf8)
        // What the day left, for outside checks against this running federation (scripts/attack-demo).
        try await Self.writeManifest(
            root: root, hubURL: hubURL, hubDirectory: hubDirectory, agents: agents, nodeServers: nodeServers,
            memberID: memberID, batch: record.id, passes: try agents[0].1.store.soldPassIDs(limit: 50),
            // A line of the batch between two parks neither of which is the second (the attack script's park), and the
            // dispute the demo filed (not the second park's either).
            foreignLine: export.obligations.first { $0.from != agents[1].0.id.rawValue && $0.to != agents[1].0.id.rawValue }?.seq ?? 0,
            dispute: try await hub.disputes(for: .hub).first?.id ?? "")
        print("settlement files: \(settlementFile) (+ -positions.csv, -obligations.csv)")
        let p1 = agents[0].1.directory
        print(
            """

            Files (kept): \(root)
              hub/      ca.pem (give to parks), hub-cert.pem, hub.sqlite, private keys 0600
              nodes/*/  node-cert.pem, node-key.pem, signing-key.pem, node.sqlite

            Ask the hub yourself (while it runs: `parkfed demo --keep-running`, or `parkfed hub serve --data \(hubDirectory.path) --listen 127.0.0.1:8443`):
              curl --http2 --cert \(p1.tlsCertificate) --key \(p1.tlsKey) --cacert \(hubDirectory.caCertificate) \(hubURL)/v1/whoami
              curl --http2 --cert \(p1.tlsCertificate) --key \(p1.tlsKey) --cacert \(hubDirectory.caCertificate) \(hubURL)/v1/log/checkpoint
              curl --http2 --cert \(p1.tlsCertificate) --key \(p1.tlsKey) --cacert \(hubDirectory.caCertificate) \(hubURL)/v1/settlement/batches/\(record.id)
              curl --http2 --cert \(root)/regulator/R01-cert.pem --key \(root)/regulator/R01-key.pem --cacert \(hubDirectory.caCertificate) '\(hubURL)/v1/regulator/traffic?from=\(today)&to=\(today)'
            Settlement by hand: parkfed settle calendar --data \(hubDirectory.path); settle show --day \(today); files, reconcile, exceptions, disputes
            Check the whole log offline: parkfed hub verify-log --data \(hubDirectory.path)

            Done in \(String(format: "%.1f", Date().timeIntervalSince(started))) s.
            """)

        if keepRunning {
            print("Running; press Ctrl-C to stop.")
            // Standard output is a file for scripts (scripts/attack-demo waits for this line): push it out now.
            fflush(nil)
            let (stream, continuation) = AsyncStream<Void>.makeStream()
            let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .main)
            signal(SIGINT, SIG_IGN)
            source.setEventHandler { continuation.finish() }
            source.resume()
            for await _ in stream {}
        }
        for server in nodeServers { await server.stop() }
        for (_, agent) in agents { await agent.shutdown() }
        await relay.stop()
        await hubServer.stop()
    }

    /// `demo.json` in the demo's directory: where the hub and each park's node agent listen and keep their files, and
    /// what the day made (cards, a member, passes, the settlement batch), for checks run from outside against it.
    static func writeManifest(
        root: String, hubURL: String, hubDirectory: HubDirectory, agents: [(ParkManifest, NodeAgent)],
        nodeServers: [RunningServer], memberID: String, batch: String, passes: [String], foreignLine: Int64, dispute: String
    ) throws {
        var parks: [[String: Any]] = []
        for ((park, agent), server) in zip(agents, nodeServers) {
            let configuration = try NodeConfiguration.load(agent.directory)
            parks.append([
                "id": park.id.rawValue, "dir": agent.directory.path, "node_url": "https://127.0.0.1:\(server.port)",
                "lan_ca": agent.directory.lanCA, "signing_kid": configuration.signingKid,
            ])
        }
        let manifest: [String: Any] = [
            "hub_url": hubURL, "ca": hubDirectory.caCertificate, "hub_data": hubDirectory.path, "parks": parks,
            "card": "IC-DEMO-0001", "card_registered_at": agents[0].0.id.rawValue, "member": memberID, "member_card": "IC-MEMBER-0001",
            "passes_of_first_park": passes, "settlement_batch": batch, "foreign_line": foreignLine, "dispute": dispute,
            "regulator": (root as NSString).appendingPathComponent("regulator"),
        ]
        let data = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try data.write(to: URL(fileURLWithPath: (root as NSString).appendingPathComponent("demo.json")))
    }

    /// Passes: three sold at the first park, scanned at every park (online through the hub), one refused twice, one
    /// partly used and refunded.
    static func playPasses(_ agents: [(ParkManifest, NodeAgent)]) async throws -> [[String]] {
        for (park, agent) in agents {
            try await agent.refreshTrustList()
            try await agent.refreshProducts()
            try agent.setCapacity(daily: park.capacity.daily, hourly: park.capacity.hourly)
        }
        let seller = agents[0].1
        let holders = [("张小三", "11010519491231002X"), ("李四", "430102199003071234"), ("王五", "44030419851111801X")]
        var sales: [PassSaleResponse] = []
        for (index, holder) in holders.enumerated() {
            let product = index == 2 ? "LAKE-AND-MUSEUM-2026" : "JIANGNAN-3P"
            sales.append(
                try await seller.sellPass(
                    PassSaleRequest(
                        product: product, channel: index == 1 ? "ota" : "window",
                        holder: HolderInput(name: holder.0, idType: "resident_id", idNumber: holder.1))))
        }
        for sale in sales {
            print(
                "      sold \(sale.product) to \(sale.holderNameMasked) (\(sale.idNumberMasked)) for \(Money(minorUnits: sale.priceMinor)): QR version \(sale.qrVersion), \(sale.code.utf8.count) bytes"
            )
        }
        var rows: [[String]] = []
        func scan(_ sale: PassSaleResponse, _ index: Int, gate: String) async throws { rows.append(try await scanRow(sale, agents[index], gate: gate)) }
        for index in agents.indices { try await scan(sales[0], index, gate: "G1") }
        if agents.count > 1 {
            try await scan(sales[0], 1, gate: "G2")
            try await scan(sales[0], 1, gate: "G3")
            try await scan(sales[1], 1, gate: "G1")
            try await scan(sales[2], 1, gate: "G1")
        }
        try await scan(sales[2], 0, gate: "G1")
        try await seller.deliverOutbox()
        let refund = try await seller.refundPass(sales[1].passID, reason: "visitor changed plans")
        print(
            "      refund of \(String(sales[1].passID.suffix(8))) after one entry: \(Money(minorUnits: refund.refundedMinor)) of \(Money(minorUnits: sales[1].priceMinor))"
        )
        try await scan(sales[1], 0, gate: "G1")
        return rows
    }

    /// Categories, groups, time slots and printed stock: a child's ticket and a group of 12 sold at the first park and
    /// entering at the second (the gate is told the proof to check; the group counts 12 heads), a timed museum ticket
    /// at the last park, and a printed batch of three: one sold and admitted, one voided and refused, one unsold.
    static func playOperations(_ agents: [(ParkManifest, NodeAgent)]) async throws -> [[String]] {
        guard agents.count >= 3 else { return [] }
        let (seller, other, museum) = (agents[0], agents[1], agents[min(2, agents.count - 1)])
        let holder = HolderInput(name: "孙八", idType: "resident_id", idNumber: "44030419851111801X")
        var rows: [[String]] = []
        func scan(_ sale: PassSaleResponse, _ agent: (ParkManifest, NodeAgent), gate: String) async throws -> GateDecision {
            let decision = try await agent.1.scan(GateScanRequest(code: sale.code, gate: gate))
            rows.append([
                String(sale.passID.suffix(8)), agent.0.id.rawValue, gate, "\(decision.decision.rawValue) (\(decision.mode.rawValue))",
                decision.reason ?? (decision.checkProof.map { "check: \($0)" } ?? decision.heads.map { "\($0) heads" } ?? "\(decision.entriesLeft ?? 0) left"),
            ])
            return decision
        }
        let child = try await seller.1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder, category: "child"))
        let group = try await seller.1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "ota", holder: holder, category: "group", heads: 12))
        print("      child's ticket \(Money(minorUnits: child.priceMinor)); group of 12 \(Money(minorUnits: group.priceMinor)) (12 × 239.00)")
        let proof = try await scan(child, other, gate: "G1")
        print("      \(other.0.id) gate: \(proof.message)")
        _ = try await scan(group, other, gate: "G1")
        // A timed ticket for the museum's window of today that is open now, if any (else the morning: refused outside it).
        let calendar = museum.1.calendar, minute = calendar.minuteOfDay(Date())
        let slots = museum.1.product("MUSEUM-TIMED")?.slots ?? []
        if let slot = slots.first(where: { $0.admits(minute: minute) }) ?? slots.first {
            let timed = try await museum.1.sellPass(PassSaleRequest(product: "MUSEUM-TIMED", channel: "window", holder: holder, slot: slot.id))
            print(
                "      timed ticket at \(museum.0.id) for \(slot.id) \(TimeSlot.clock(slot.startMinute))-\(TimeSlot.clock(slot.endMinute)) (sale decided by the hub against the slot's \(slot.capacity) places)"
            )
            _ = try await scan(timed, museum, gate: "G1")
        }
        let batch = try await seller.1.orderStock(StockOrder(product: "JIANGNAN-3P", category: "student", count: 3))
        let serials = batch.csv.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }
        print("      printed batch \(batch.batch): \(batch.count) student tickets \(batch.firstSerial) … \(batch.lastSerial) (CSV for the printer)")
        let printed = try await seller.1.sellStock(serial: serials[0], StockSaleRequest(channel: "window", holder: holder))
        try await seller.1.voidStock(serials: [serials[1]], reason: "torn at the printer")
        guard let voided = try await seller.1.store.stockCode(serial: serials[1]), let unsold = try await seller.1.store.stockCode(serial: serials[2]) else {
            throw ValidationError("the printed batch was not kept")
        }
        _ = try await scan(printed, seller, gate: "G1")
        for stock in [voided, unsold] {
            let decision = try await seller.1.scan(GateScanRequest(code: stock.code, gate: "G1"))
            rows.append([
                stock.serial.suffix(8).description, seller.0.id.rawValue, "G1", "\(decision.decision.rawValue) (\(decision.mode.rawValue))",
                decision.reason ?? "",
            ])
        }
        return rows
    }

    /// A member enrolls at the first park; the second recognises the rolling code of the member's app (once: the
    /// same code again is refused), the last the member's card.
    @discardableResult
    static func playMembers(_ agents: [(ParkManifest, NodeAgent)]) async throws -> String {
        let first = agents[0].1
        let member = try await first.enrollMember(
            NodeAgent.MemberEnrollment(
                holder: HolderInput(name: "赵六", idType: "resident_id", idNumber: "330106198506150038"), phone: "13812345678",
                consentVersion: "2026-01", localMemberNumber: "\(agents[0].0.id)-M-0001"))
        print("      enrolled \(member.memberID): \(member.nameMasked), \(member.idNumberMasked), \(member.phoneMasked) (the hub keeps them encrypted)")
        let again = try await agents[1].1.enrollMember(
            NodeAgent.MemberEnrollment(
                holder: HolderInput(name: "赵六", idType: "resident_id", idNumber: "330106198506150038"), phone: "13812345678", consentVersion: "2026-01"))
        print(
            "      the same document enrolled at \(agents[1].0.id) → the same member (\(again.existing ? "existing" : "new?!") \(again.memberID == member.memberID ? "✓" : "✗"))"
        )
        let shownAt = Date()
        if let secret = member.codeSecret.flatMap({ Base64URL.decode($0) }) {
            let code = MemberCode.make(memberID: member.memberID, secret: SymmetricKey(data: secret), at: shownAt)
            let seen = try await agents[1].1.recognizeMember(code: code)
            print("      \(agents[1].0.id) scans the app's 60-second code → \(seen.memberID) \(seen.nameMasked)")
            do {
                _ = try await agents[1].1.recognizeMember(code: code)
                print("      the same code again → accepted (unexpected!)")
            } catch let problem as Refusal {
                print("      the same code again (a screenshot) → \(problem.code)")
            }
        }
        // The member is at the window: their app shows a fresh code, and the card is bound to them.
        guard let secret = member.codeSecret.flatMap({ Base64URL.decode($0) }) else {
            throw ValidationError("a new member's enrollment answers the code secret")
        }
        // Each step of the code works once: the app's next code is this minute's, or the previous one's if the
        // recognition above used this minute's.
        let now = Date(), unused = MemberCode.step(at: now) == MemberCode.step(at: shownAt) ? now.addingTimeInterval(-60) : now
        let present = MemberCode.make(memberID: member.memberID, secret: SymmetricKey(data: secret), at: unused)
        let memberCard = try SimulatedCard(try await first.registerCard("IC-MEMBER-0001", kind: .ic, memberID: member.memberID, memberCode: present))
        let last = agents[agents.count - 1]
        let byCard = try await last.1.recognizeMember(
            MemberRecognitionRequest(
                cardID: "IC-MEMBER-0001", requestID: "DEMO-ID-1", cardProof: memberCard.proof(.identify, park: last.0.id.rawValue, requestID: "DEMO-ID-1")))
        print("      \(agents[agents.count - 1].0.id) reads card IC-MEMBER-0001 → \(byCard.memberID) \(byCard.nameMasked)")
        for (_, agent) in agents { try await agent.deliverOutbox() }
        return member.memberID
    }

    /// The operator issues a regulator certificate; the regulator asks for a document's records and the day's traffic.
    static func playRegulator(hub: Hub, hubURL: String, caFile: String, root: String) async throws {
        let directory = (root as NSString).appendingPathComponent("regulator")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = P256.Signing.PrivateKey()
        let (_, pem) = try await hub.issueCertificate(for: .regulator("R01"), publicKey: .init(key.publicKey))
        let certificate = (directory as NSString).appendingPathComponent("R01-cert.pem"),
            keyFile = (directory as NSString).appendingPathComponent("R01-key.pem")
        try SecretFile.writePublic(pem, to: certificate)
        try SecretFile.write(key.pemRepresentation, to: keyFile)
        let client = try HubClient(baseURL: hubURL, caFile: caFile, certificateFile: certificate, keyFile: keyFile)
        defer { Task { await client.shutdown() } }
        let today = hub.passes.calendar.day(of: Date())
        let holder = try await client.json(
            .GET, "/v1/regulator/holders?id_type=resident_id&id_number=11010519491231002X&from=\(today)&to=\(today)",
            body: Optional<String>.none, as: RegulatorHolderReport.self)
        print(
            "      regulator:R01 asks for \(holder.idNumberMasked): \(holder.purchases.count) purchase(s), \(holder.entries.count) entr\(holder.entries.count == 1 ? "y" : "ies") at "
                + Set(holder.entries.map(\.park)).sorted().joined(separator: ", "))
        let traffic = try await client.json(
            .GET, "/v1/regulator/traffic?from=\(today)&to=\(today)", body: Optional<String>.none, as: RegulatorTrafficReport.self)
        print("      traffic today: " + traffic.days.map { "\($0.park) \($0.entries)/\($0.capacityDaily ?? 0)" }.joined(separator: ", "))
        let audit = try await hub.store.regulatorQueries(limit: 2)
        print(
            "      both queries are hub-signed statements in the log at index "
                + audit.compactMap { $0.logIndex.map(String.init) }.reversed().joined(separator: " and ")
                + " (`parkfed hub regulator-queries`)")
        print("      regulator certificate: \(certificate)")
    }

    /// Cuts the last park's link: a pass sold at the first park is admitted offline and refused the second time, a
    /// pooled pass already used up online elsewhere is admitted offline (the gate cannot know), then the link returns,
    /// the outbox drains, and the hub reports that entry as a conflict.
    static func playOffline(_ agents: [(ParkManifest, NodeAgent)], relay: LinkRelay, hub: Hub) async throws -> [[String]] {
        guard agents.count >= 3 else { return [] }
        let (seller, offline) = (agents[0].1, agents[min(2, agents.count - 1)])
        let holder = HolderInput(name: "钱七", idType: "resident_id", idNumber: "430102199003071234")
        let combo = try await seller.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder))
        let pooled = try await seller.sellPass(PassSaleRequest(product: "ANY2-OF-3", channel: "window", holder: holder))
        var rows: [[String]] = []
        func scan(_ sale: PassSaleResponse, _ agent: (ParkManifest, NodeAgent), gate: String) async throws {
            rows.append(try await scanRow(sale, agent, gate: gate))
        }
        let known = await Set(try hub.store.passConflicts(park: nil, limit: 1000).map(\.entryID))
        try await scan(pooled, agents[0], gate: "G1")
        try await scan(pooled, agents[1], gate: "G1")
        relay.cut()
        try await scan(combo, offline, gate: "G1")
        try await scan(combo, offline, gate: "G2")
        try await scan(pooled, offline, gate: "G1")
        let waiting = await offline.1.status().outbox.pending
        print("      link cut: \(offline.0.id) decided alone; \(waiting) assertion(s) wait in its outbox")
        relay.restore()
        // The first call after the link returns may still meet a connection the cut broke (the node's sender
        // retries with backoff as well): a few quick attempts.
        for _ in 1..<10 {
            if (try? await offline.1.deliverOutbox()) != nil { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        try await offline.1.deliverOutbox()
        let conflicts = try await hub.store.passConflicts(park: nil, limit: 1000).filter { !known.contains($0.entryID) }
        print(
            "      link back: outbox delivered (\(await offline.1.status().outbox.pending) pending); the hub reports \(conflicts.count) conflict(s): "
                + conflicts.map { "\(String($0.passID.suffix(8))) at \($0.park): \($0.reason)" }.joined(separator: ", "))
        return rows
    }

    /// Scans a sold pass at a park's gate; the row of the demo's gate table.
    static func scanRow(_ sale: PassSaleResponse, _ agent: (ParkManifest, NodeAgent), gate: String) async throws -> [String] {
        let decision = try await agent.1.scan(GateScanRequest(code: sale.code, gate: gate))
        return [
            String(sale.passID.suffix(8)), agent.0.id.rawValue, gate, "\(decision.decision.rawValue) (\(decision.mode.rawValue))",
            decision.reason ?? "\(decision.entriesLeft ?? 0) left",
        ]
    }

    static func stamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: Date())
    }

    static func day(_ date: Date) -> String {
        String(ISO8601DateFormatter().string(from: date).prefix(10))
    }

    static func problemCode(_ body: Data) -> String {
        (try? StrictJSON.decoder.decode(ProblemDetails.self, from: body)).map { "\($0.code)" } ?? ""
    }
}

/// Numbered progress lines: `[2/5] …`.
final class Progress: @unchecked Sendable {
    let total: Int
    var current = 0
    init(total: Int) { self.total = total }
    func step(_ text: String) {
        current += 1
        print("[\(current)/\(total)] \(text)")
    }
}

/// A plain text table with aligned columns.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line)).joined(separator: "\n")
    }
}
