import Foundation
import GRDB
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

@testable import ParkFedStore

/// An online entry is reserved at the node before the hub is asked. A node that stops before the answer is recorded
/// leaves the reservation behind: the hub's log decides it later, so that the visitor is not refused as "used"
/// where the gate never opened, and an entry the hub counted is not left uncounted here.
@Suite struct ReservationRecoveryTests {
    @Test func aReservationLeftByAStopIsAdmittedIfTheHubLoggedItAndReleasedIfNot() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P003"])  // JIANGNAN-3P: one entry at P003
            let (seller, gate) = (agents[0], agents[1])
            let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")
            let codes = [
                try await seller.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder)).code,
                try await seller.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: holder)).code,
            ]
            let now = Date()
            let calendar = try BusinessCalendar()
            let (day, hour) = (calendar.day(of: now), calendar.hour(of: now))
            // Two online reservations as the gate makes them before it asks the hub; then the node "stops".
            var reserved: [(id: String, passID: String, jws: String)] = []
            for text in codes {
                guard case .success(let (code, _)) = gate.verifyCode(text) else { throw TestSupportError("a sold code does not verify") }
                let id = UUIDv7.make(now: now)
                let entry = PassRedeemed(passID: code.passID, issuerPark: code.issuer, gate: "G1", enteredAt: now, offline: false, code: code.text)
                let jws = try Assertions.sign(.passRedeemed(entry), park: gate.park, key: gate.signingKey, now: now, id: id).1.compact
                let record = GateEntryRecord(entryID: id, passID: code.passID, gate: "G1", day: day, hour: hour, enteredAt: now, jws: jws, heads: 1)
                let result = try await gate.store.reserveEntry(passID: code.passID, day: day, hour: hour, type: "pass.redeemed", offline: false) {
                    _ -> Result<GateEntryRecord, PassRefusal> in .success(record)
                }
                guard case .success = result else { throw TestSupportError("the reservation was refused") }
                reserved.append((id, code.passID, jws))
            }
            // The hub had logged the first before the stop; the second request never reached it.
            let peer = AuthenticatedPeer(principal: .park(gate.park), serial: "in-process", notAfter: .distantFuture)
            let answer = try await federation.hub.redeem(RedeemRequest(assertion: reserved[0].jws), peer: peer)
            #expect(answer.decision == .allow)
            func state(_ id: String) async throws -> (entry: String?, outbox: String?, index: Int64?) {
                try await gate.store.pool.read { db in
                    let entry = try String.fetchOne(db, sql: "SELECT state || '/' || COALESCE(mode, '-') FROM gate_entries WHERE entry_id = ?", arguments: [id])
                    let row = try Row.fetchOne(db, sql: "SELECT state, log_index FROM outbox WHERE id = ?", arguments: [id])
                    return (entry, row?["state"], row?["log_index"])
                }
            }
            // While reserved, the outbox does not send either assertion: the hub is (or was) being asked.
            _ = try await gate.deliverOutbox()
            #expect(try await federation.hub.store.logEntry(id: reserved[1].id) == nil)
            #expect(try await state(reserved[1].id) == ("reserved/-", "pending", nil))
            // A reservation younger than the grace may still have its request running: left alone.
            #expect(await gate.resolveReservations(now: now) == 0)

            #expect(await gate.resolveReservations(now: now.addingTimeInterval(121)) == 2)
            let logged = try #require(answer.logIndex)
            #expect(try await state(reserved[0].id) == ("admitted/online", "accepted", Int64(logged)))
            #expect(try await state(reserved[1].id) == (nil, nil, nil))
            // The admitted entry's day is the pass's first day of use here (the log's proof does not say it).
            #expect(try await gate.store.knowledge(reserved[0].passID).activatedOn == day)
            #expect(try await gate.store.knowledge(reserved[1].passID).activatedOn == nil)
            // The visitor whose gate never opened is decided afresh; the entry the hub counted is used here.
            let scans = try await [codes[1], codes[0]].asyncMap { try await gate.scan(GateScanRequest(code: $0, gate: "G2")) }
            #expect(scans[0].decision == .allow && scans[0].mode == .online)
            #expect(scans[1].decision == .deny)
            #expect(await gate.resolveReservations(now: now.addingTimeInterval(121)) == 0)
        }
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}
