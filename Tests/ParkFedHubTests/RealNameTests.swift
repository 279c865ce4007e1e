import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Real-name data: parks seal holders' names and document numbers to the hub; the hub keeps them encrypted with keys
/// outside the database and finds them by a keyed blind index; no database file, and no logged assertion, holds them
/// in clear.
@Suite struct RealNameTests {
    @Test func idNumbersAndNamesAreNeverInAnyDatabaseFileOrLoggedAssertionInClear() async throws {
        let federation = try await TestFederation.start()
        defer { Task { await federation.stop() } }
        let agents = try await federation.enrollParks(["P001", "P002"])
        let (p1, p2) = (agents[0], agents[1])
        let secrets = ["11010519491231002X", "430102199003071234", "E12345678", "张小三", "李四四"]
        let first = try p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window",
                                                   holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")))
        let second = try p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "ota",
                                                    holder: HolderInput(name: "王五", idType: "resident_id", idNumber: "430102199003071234")))
        #expect(try await p2.scan(GateScanRequest(code: first.code, gate: "G1")).decision == .allow)
        try await p1.deliverOutbox()
        _ = try await p1.transferPass(second.passID, PassTransferOrder(newHolder: HolderInput(name: "李四四", idType: "passport", idNumber: "E12345678"),
                                                                       resalePriceMinor: 20_000))

        // The hub finds each holder's passes by document, and only it can read them back.
        let held = try federation.hub.passes(heldBy: .residentID, number: "110105 19491231002x")
        #expect(held.map(\.passID) == [first.passID])
        let holder = try #require(held.first?.holder)
        #expect(holder.idMasked == "1101**********002X" && holder.nameMasked == "张*三")
        #expect(try federation.hub.secrets.fields.open(holder.idSealed, purpose: "holder.id_number") == "11010519491231002X")
        #expect(try federation.hub.secrets.fields.open(holder.nameSealed, purpose: "holder.name") == "张小三")
        #expect(holder.idSealed.hasPrefix("v1.k"))
        let buyer = try federation.hub.passes(heldBy: .passport, number: "E12345678")
        #expect(buyer.map { "\($0.passID) \($0.generation)" } == ["\(second.passID) 1"])
        #expect(try federation.hub.passes(heldBy: .residentID, number: "430102199003071234").map(\.generation) == [0])

        // No file of the hub's or the nodes' databases (with their WAL) holds any of it in clear…
        var files: [String] = []
        for base in [federation.hub.store.path, p1.store.path, p2.store.path] {
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: base + suffix) { files.append(base + suffix) }
        }
        for file in files {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            for secret in secrets { #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in clear in \(file)") }
        }
        // …nor any assertion in the log once its base64url payload is decoded.
        var checked = 0
        try federation.hub.store.forEachLogEntry { entry in
            let payload = try JWS(compact: entry.jws).payload
            for secret in secrets { #expect(payload.range(of: Data(secret.utf8)) == nil, "\(secret) in log entry \(entry.index)") }
            checked += 1
        }
        #expect(checked >= 4)
        // The keys are files beside the database, owner-only.
        let attributes = try FileManager.default.attributesOfItem(atPath: federation.hub.directory.fieldKeys)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }
}
