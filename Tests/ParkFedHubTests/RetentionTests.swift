import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Real-name data kept only as long as the law asks: a retention run past a pass's period leaves no clear or sealed
/// holder of it at the hub (holder records, the sealed holders inside its logged sale and transfer, a reseller's
/// booking contact), writes one signed statement naming what it redacted, and the log still verifies.
@Suite struct RetentionTests {
    @Test func aRetentionRunLeavesNoHolderDataPastItsPeriodAndTheLogStillVerifies() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let hub = federation.hub
            let first = try await p1.sellPass(
                PassSaleRequest(
                    product: "JIANGNAN-3P", channel: "window", holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")))
            let second = try await p1.sellPass(
                PassSaleRequest(
                    product: "JIANGNAN-3P", channel: "window", holder: HolderInput(name: "王五", idType: "resident_id", idNumber: "430102199003071234")))
            _ = try await p1.transferPass(
                second.passID, PassTransferOrder(newHolder: HolderInput(name: "李四四", idType: "passport", idNumber: "E12345678"), resalePriceMinor: 20_000))
            // Valid until 2027-12-31: still within its period at the run below.
            let kept = try await p1.sellPass(
                PassSaleRequest(
                    product: "LAKE-AND-MUSEUM-2026", channel: "window", holder: HolderInput(name: "赵六", idType: "resident_id", idNumber: "110101199001011237")))
            #expect(try await p2.scan(GateScanRequest(code: first.code, gate: "G1")).decision == .allow)
            try await p1.deliverOutbox()
            try await p2.deliverOutbox()
            #expect(try await hub.store.holderRecordCount() == 4)
            // What is sealed today: the holders inside the logged sales and transfer, and the hub's own sealed records.
            var sealed: [String] = []
            try await hub.store.forEachLogEntry { entry in
                guard let jws = try? JWS(compact: entry.jws), let payload = try? Assertions.decodePayload(jws) else { return }
                switch payload.data {
                case .passIssued(let data) where data.passID != kept.passID: sealed.append(data.holder?.sealed ?? "")
                case .passTransferred(let data): sealed.append(data.newHolder.sealed ?? "")
                default: break
                }
            }
            for pass in [first.passID, second.passID] {
                for held in try await hub.store.holders(ofPass: pass) { sealed += [held.idSealed, held.nameSealed, held.idIndex] }
            }
            #expect(sealed.count == 12 && sealed.allSatisfy { $0.count > 20 }, "\(sealed.count)")

            // Nothing is due before the period has passed.
            let now = Date()
            #expect(try await hub.purgeRealName(now: now).passes == 0)
            // 90 days of validity, then 1,095 days of retention: the two JIANGNAN passes are due, the lake pass is not.
            let later = now.addingTimeInterval(Double(90 + 1_095 + 1) * 86_400)
            let run = try await hub.purgeRealName(now: later)
            #expect(run.passes == 2 && run.redacted == 3 && run.holdersRemoved == 3 && run.statements.count == 1, "\(run)")
            #expect(try await hub.store.holderRecordCount() == 1)
            #expect(try await hub.passes(heldBy: .residentID, number: "11010519491231002X").isEmpty)
            #expect(try await hub.passes(heldBy: .residentID, number: "110101199001011237").map(\.passID) == [kept.passID])
            // No sealed or blind-indexed holder of them is left anywhere in the hub's database, as its own tool dumps it.
            let dump = try await federation.databaseDump()
            #expect(dump.succeeded, "\(dump.stderr)")
            for value in sealed { #expect(!dump.stdout.contains(value), "a sealed holder value is still in the database") }
            // The pass itself stays, masked: its entries and money are unchanged.
            #expect(try await hub.store.pass(first.passID)?.entries[p2.park] == 1)

            // The statement names the passes and each redacted entry with its leaf hash; verify-log still passes.
            let statementEntry = try #require(try await hub.store.logEntry(index: run.statements[0]))
            let statement = try RetentionStatement.verify(try JWS(compact: statementEntry.jws), hubKey: hub.signingKey.publicKey)
            #expect(Set(statement.passes) == [first.passID, second.passID] && statement.redacted.count == 3 && statement.retentionDays == 1_095)
            let report = try await LogVerifier(hub: hub).verify()
            #expect(report.ok && report.redacted == 3, "\(report.problems)")
            // A redacted entry is answered as such; the checkpoint proofs still hold (the tree is unchanged).
            let redacted = statement.redacted[0].index
            let parkCertificate = (p1.directory.tlsCertificate, p1.directory.tlsKey)
            let gone = try await federation.curl("/v1/log/entries/\(redacted)", certificate: parkCertificate)
            #expect(gone.httpStatus == 410 && gone.body.contains("redacted"), "\(gone.body)")
            #expect(try await p1.auditLog().verifiedInclusions > 0)
            // Run again: nothing more.
            #expect(try await hub.purgeRealName(now: later).passes == 0)

            // An entry emptied without a statement that vouches for it is caught.
            let keptIndex = try #require(try await Self.index(ofSale: kept.passID, hub))
            let update = try await federation.sqlTool("UPDATE log_entries SET jws = '', redacted_by = '\(statement.id)' WHERE idx = \(keptIndex);")
            #expect(update.succeeded, "\(update.stderr)")
            let tampered = try await LogVerifier(hub: hub).verify()
            #expect(!tampered.ok && tampered.firstBadIndex == keptIndex, "\(tampered.problems)")
        }
    }

    static func index(ofSale passID: String, _ hub: Hub) async throws -> UInt64? {
        var found: UInt64?
        try await hub.store.forEachLogEntry(type: "pass.issued") { entry in
            guard let jws = try? JWS(compact: entry.jws), let payload = try? Assertions.decodePayload(jws),
                case .passIssued(let data) = payload.data, data.passID == passID
            else { return }
            found = entry.index
        }
        return found
    }
}
