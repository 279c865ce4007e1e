import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Group commit: writes that queue while one runs share its transaction and its fsync, each in a savepoint of its
/// own, each answered only after the commit that holds it (the crash tests kill a hub in the middle of such groups).
@Suite struct GroupCommitTests {
    @Test func writesThatQueueShareCommitsAndAFailedOneRollsBackOnlyItsOwnStatements() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try SQLiteDatabase(path: directory.file("group.sqlite"))
        try await database.write { db in try await db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL)") }
        let before = database.commits
        let count = 300
        // Every tenth write inserts its row and then fails: its row must be gone, and nobody else's with it.
        let answered = await ConcurrentWrites.run(count: count) { id in
            try await database.write { db in
                try await db.execute(sql: "INSERT INTO t (id, note) VALUES (?, ?)", arguments: [Int64(id), "write \(id)"])
                if ConcurrentWrites.fails(id) { throw ConcurrentWrites.Refused() }
            }
        }
        let stored = try await database.read { db in try await Int64.fetchAll(db, sql: "SELECT id FROM t ORDER BY id") }.map { Int($0) }
        #expect(stored == ConcurrentWrites.succeeding(count))
        #expect(answered == stored)
        let commits = database.commits - before
        #expect(commits < count - count / 10, "\(commits) commits for \(count) writes: they were not grouped")
        await database.close()
    }

    /// The first write of a group runs in the transaction itself (no savepoint): when it fails, the transaction is
    /// rolled back whole and the writer is free for the next write, which begins a transaction of its own.
    @Test func aFailedWriteAloneInItsTransactionLeavesNothingAndTheNextWriteCommits() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try SQLiteDatabase(path: directory.file("first.sqlite"))
        try await database.write { db in try await db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY)") }
        await #expect(throws: ConcurrentWrites.Refused.self) {
            try await database.write { db in
                for id in 1...3 { try await db.execute(sql: "INSERT INTO t (id) VALUES (?)", arguments: [Int64(id)]) }
                throw ConcurrentWrites.Refused()
            }
        }
        // A duplicate key fails inside SQLite, not in the body's own code: the same.
        await #expect(throws: (any Error).self) {
            try await database.write { db in
                try await db.execute(sql: "INSERT INTO t (id) VALUES (7)")
                try await db.execute(sql: "INSERT INTO t (id) VALUES (7)")
            }
        }
        try await database.write { db in try await db.execute(sql: "INSERT INTO t (id) VALUES (4)") }
        #expect(try await database.read { db in try await Int64.fetchAll(db, sql: "SELECT id FROM t ORDER BY id") } == [4])
        await database.close()
        // Committed, on the file: another connection sees the same.
        let onFile = try await ExternalTool.sqlite(directory.file("first.sqlite"), "SELECT group_concat(id) FROM t").stdout
        #expect(onFile.trimmingCharacters(in: .whitespacesAndNewlines) == "4")
    }

    @Test func concurrentAppendsShareLogTransactionsAndEachGetsItsOwnIndex() async throws {
        try await InProcessHub.run(parks: ["P001", "P002"]) { rules, parks in
            let hub = rules.hub
            let signed = try (0..<60).map { i in (parks[i % 2], try parks[i % 2].sign(SampleAssertions.data(4 + 10 * i, issuer: parks[i % 2].id))) }
            // The tenth is sent twice at once: one of the two is a duplicate at the same index.
            let sends = signed + [signed[10]]
            let results = try await withThrowingTaskGroup(of: IngestResult.self) { group in
                for (park, jws) in sends {
                    group.addTask { try await hub.ingest(IngestRequest(assertions: [jws]), from: park.peer).results[0] }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0.status == .accepted }.count == 60 && results.filter { $0.status == .duplicate }.count == 1)
            #expect(Set(results.compactMap(\.index)) == Set(0..<60))
            #expect(hub.log.size == 60)
            let metrics = hub.metrics.exposition()
            func counter(_ name: String) -> Int {
                metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int(Double($0.split(separator: " ")[1]) ?? -1) } ?? -1
            }
            let (commits, appends) = (counter("parkfed_hub_log_group_commits_total"), counter("parkfed_hub_log_group_appends_total"))
            #expect(appends == 61 && commits > 0 && commits < appends, "\(commits) log transactions for \(appends) appends")
            // Every entry verifies against the checkpoint that covers it.
            let report = try await LogVerifier(hub: hub).verify()
            #expect(report.ok && report.entries == 60)
        }
    }

    /// Online gate decisions that queue together share one log transaction; one the hub refuses (a pass already
    /// used there) must refuse only itself, never the admissions grouped with it (a park sending refused entries
    /// must not be able to turn other parks' gates away).
    @Test func aRefusedGateEntryInAGroupRefusesOnlyItselfAndTheOthersAreAdmitted() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P003"])  // JIANGNAN-3P: one entry at P003
            let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
            var codes: [String] = []
            for _ in 0..<21 { codes.append(try await agents[0].sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder)).code) }
            #expect(try await agents[1].scan(GateScanRequest(code: codes[0], gate: "G1")).decision == .allow)
            let gate = agents[1]
            func entry(_ text: String) throws -> String {
                guard case .success(let (code, _)) = gate.verifyCode(text) else { throw TestSupportError("the sold code does not verify") }
                let entry = PassRedeemed(passID: code.passID, issuerPark: code.issuer, gate: "G2", enteredAt: Date(), offline: false, code: code.text)
                return try Assertions.sign(.passRedeemed(entry), park: gate.park, key: gate.signingKey).1.compact
            }
            // Twenty new entries of the used pass, and the first entry of twenty others, all at once.
            let sends = try (1...20).flatMap { [(true, try entry(codes[0])), (false, try entry(codes[$0]))] }
            let peer = AuthenticatedPeer(principal: .park(gate.park), serial: "in-process", notAfter: .distantFuture)
            let hub = federation.hub
            let answers = try await withThrowingTaskGroup(of: (Bool, RedeemResponse).self) { group in
                for (used, jws) in sends { group.addTask { (used, try await hub.redeem(RedeemRequest(assertion: jws), peer: peer)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let refused = answers.filter(\.0).map(\.1), admitted = answers.filter { !$0.0 }.map(\.1)
            #expect(refused.allSatisfy { $0.decision == .deny && $0.reason == "already_used" }, "\(refused.map { $0.reason ?? "" })")
            #expect(admitted.allSatisfy { $0.decision == .allow && $0.logIndex != nil }, "\(admitted.map { "\($0.decision) \($0.reason ?? "")" })")
            #expect(Set(admitted.compactMap(\.logIndex)).count == 20)
        }
    }
}
