import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol

/// The demo's reseller: TRIPGO books through the OCTO API over HTTPS with its API key, as an OTA's system would;
/// the passes it sells are admitted at the parks' gates; one booking is cancelled; a hold is refused at a full slot.
extension DemoCommand {
    static func playResellers(hub: Hub, hubURL: String, caFile: String, agents: [(ParkManifest, NodeAgent)]) async throws -> [[String]] {
        let reseller = try ParkID("TRIPGO")
        let key = try await hub.issueResellerKey(reseller, label: "demo").key
        let client = try HubClient(baseURL: hubURL, caFile: caFile, certificateFile: nil, keyFile: nil)
        defer { Task { await client.shutdown() } }
        let headers = [("authorization", "Bearer \(key)"), ("octo-capabilities", "octo/pricing"), ("content-type", "application/json")]
        /// A POST with `body`, or a GET without one.
        func octo(_ path: String, _ body: String? = nil) async throws -> [String: Any] {
            let reply =
                if let body { try await client.send(.POST, "/octo" + path, body: Data(body.utf8), headers: headers) } else {
                    try await client.send(.GET, "/octo" + path, headers: headers)
                }
            let json = (try? JSONSerialization.jsonObject(with: reply.body)) ?? [:]
            guard reply.status == 200 else { throw DemoError("OCTO \(path) → \(reply.status) \(String(decoding: reply.body, as: UTF8.self))") }
            return json as? [String: Any] ?? ["items": json]
        }
        let today = hub.passes.calendar.day(of: Date())
        let availability = try await octo(
            "/availability", #"{"productId":"JIANGNAN-3P","optionId":"DEFAULT","localDate":"\#(today)","units":[{"id":"full","quantity":1}]}"#)
        guard let slot = (availability["items"] as? [[String: Any]])?.first?["id"] as? String else { throw DemoError("no availability") }
        var rows: [[String]] = []
        let holders = [("陈一", "330106198805120031", "full"), ("林二", "330106201608200045", "child"), ("周三", "320502197503030057", "full")]
        var codes: [String] = []
        var uuids: [String] = []
        for (index, (name, document, unit)) in holders.enumerated() {
            let uuid = UUID().uuidString.lowercased()
            _ = try await octo(
                "/bookings",
                #"{"uuid":"\#(uuid)","productId":"JIANGNAN-3P","optionId":"DEFAULT","availabilityId":"\#(slot)","unitItems":[{"unitId":"\#(unit)"}]}"#)
            let confirmed = try await octo(
                "/bookings/\(uuid)/confirm",
                #"{"resellerReference":"TG-DEMO-\#(index + 1)","contact":{"fullName":"\#(name)","identityDocument":{"type":"resident_id","number":"\#(document)"}}}"#
            )
            let item = (confirmed["unitItems"] as? [[String: Any]])?.first ?? [:]
            let code = ((item["ticket"] as? [String: Any])?["deliveryOptions"] as? [[String: Any]])?.first?["deliveryValue"] as? String ?? ""
            let pricing = item["pricing"] as? [String: Any] ?? [:]
            codes.append(code)
            uuids.append(uuid)
            rows.append([
                confirmed["id"] as? String ?? "", unit, "\(Money(minorUnits: Int64(pricing["retail"] as? Int ?? 0)))",
                "\(Money(minorUnits: Int64(pricing["net"] as? Int ?? 0)))", confirmed["status"] as? String ?? "",
            ])
        }
        // The first pass at every park, the child's at the first park; the third booking is cancelled unused.
        for (_, agent) in agents.prefix(3) { _ = try await agent.scan(GateScanRequest(code: codes[0], gate: "OTA-1")) }
        _ = try await agents[0].1.scan(GateScanRequest(code: codes[1], gate: "OTA-1"))
        _ = try await octo("/bookings/\(uuids[2])/cancel", #"{"reason":"Customer Requested"}"#)
        for (index, uuid) in uuids.enumerated() {
            let booking = try await octo("/bookings/\(uuid)")
            rows[index].append(booking["status"] as? String ?? "")
        }
        for (_, agent) in agents { try await agent.deliverOutbox() }
        let statement = try await hub.resellerStatement(reseller, from: today, to: today)
        print(
            "      TRIPGO sold \(holders.count) passes by OCTO (API key, real-name contact): retail \(Money(minorUnits: statement.retailMinor)), commission \(Money(minorUnits: statement.commissionMinor)), owed to the parks so far \(Money(minorUnits: statement.owedMinor))"
        )
        return rows
    }
}
