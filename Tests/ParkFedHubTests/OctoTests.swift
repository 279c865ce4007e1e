import Foundation
import NIOConcurrencyHelpers
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedProtocol
import ParkFedTesting
import Testing

/// The OCTO supplier API as a reseller's system uses it, through `curl` with a bearer API key: products,
/// availability, a hold, its extension, the confirmation into a pass that another park's gate admits, the booking
/// becoming `REDEEMED` with a signed webhook a real outside receiver checks, cancellation by the refund rule, sold
/// out slots and expired holds, and the reseller's position in the night's batch. Every response body is kept and
/// validated at the end against the project's OCTO schemas and, when it is at hand, the specification's own.
@Suite struct OctoTests {
    static let holder = ["fullName": "王小明", "document": "11010519491231002X"]

    /// Every OCTO exchange of a test, for the schema check at its end.
    final class Recorder: @unchecked Sendable {
        let records = NIOLockedValueBox<[[String: Any]]>([])
        let federation: TestFederation
        init(_ federation: TestFederation) { self.federation = federation }

        /// Calls `/octo<path>` with the key; records the answer under `schema` (the error schema for a refusal).
        func call(
            _ method: String, _ path: String, key: String, body: String? = nil, schema: String, template: String? = nil, pricing: Bool = true
        ) async throws -> (status: Int, json: Any) {
            var extra = ["-H", "authorization: Bearer \(key)", "-H", "content-type: application/json"]
            if pricing { extra += ["-H", "octo-capabilities: octo/pricing"] }
            let answer = try await federation.curl("/octo" + path, method: method, body: body, extra: extra)
            let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8), options: [.fragmentsAllowed])
            let operation = "\(method) \(template ?? path.components(separatedBy: "?")[0])"
            records.withLockedValue {
                $0.append(["operation": operation, "status": answer.httpStatus, "schema": answer.httpStatus == 200 ? schema : "error", "body": json])
            }
            return (answer.httpStatus, json)
        }

        /// Validates every recorded body (Tests/verifiers/validate_octo.py).
        func validate() async throws {
            let file = federation.directory.file("octo-records-\(UUID().uuidString).json")
            let data = try JSONSerialization.data(withJSONObject: records.withLockedValue { $0 })
            try data.write(to: URL(fileURLWithPath: file))
            let result = try await ExternalTool.run("python3", [Verifiers.path("validate_octo.py"), file])
            #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
        }
    }

    static func object(_ json: Any) -> [String: Any] { json as? [String: Any] ?? [:] }
    static func array(_ json: Any) -> [[String: Any]] { json as? [[String: Any]] ?? [] }

    static func confirmation(name: String = holder["fullName"]!, document: String = holder["document"]!) -> String {
        #"{"resellerReference":"TG-1001","contact":{"fullName":"\#(name)","emailAddress":"wang@example.com","phoneNumber":"13800138000","identityDocument":{"type":"resident_id","number":"\#(document)"}}}"#
    }

    /// The resellers file of the example federation, with TRIPGO's webhooks sent to `url`.
    static func resellers(webhook url: String, in federation: TestFederation) throws -> String {
        var text = try String(contentsOfFile: TestFederation.partnersDirectory + "/resellers.json", encoding: .utf8)
        text = text.replacingOccurrences(of: #""name": "TripGo Travel (OTA)","#, with: #""name": "TripGo Travel (OTA)", "webhook_url": "\#(url)","#)
        let file = federation.directory.file("resellers-\(UUID().uuidString).json")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func aResellerReservesExtendsConfirmsAndAnotherParksGateAdmitsTheTicketAndTheWebhookSaysRedeemed() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let hub = federation.hub
            let tripgo = try ParkID("TRIPGO")
            // TRIPGO's webhook receiver: a real outside peer that checks the signature itself, failing the first post.
            let port = try BackgroundProcess.freePort()
            let log = federation.directory.file("webhooks.jsonl")
            let receiver = try BackgroundProcess(
                "/usr/bin/env", ["python3", Verifiers.path("webhook_receiver.py"), String(port), log, hub.webhookSecret(of: tripgo), "1"],
                logPath: federation.directory.file("receiver.log"))
            federation.adopt(receiver)
            _ = try await hub.importResellers(file: try Self.resellers(webhook: "http://127.0.0.1:\(port)/octo/webhooks", in: federation))
            let key = try await hub.issueResellerKey(tripgo, label: "test").key
            let other = try await hub.issueResellerKey(try ParkID("LAKEMINI"), label: "test").key
            let octo = Recorder(federation)

            let supplier = Self.object(try await octo.call("GET", "/supplier", key: key, schema: "supplier").json)
            #expect((supplier["endpoint"] as? String)?.hasSuffix("/octo") == true)
            let products = Self.array(try await octo.call("GET", "/products", key: key, schema: "product").json)
            #expect(products.map { $0["id"] as? String } == ["JIANGNAN-3P", "MUSEUM-TIMED", "WATER-TOWN-MUSEUM"])
            let product = Self.object(try await octo.call("GET", "/products/JIANGNAN-3P", key: key, schema: "product", template: "/products/{id}").json)
            let units = Self.array(Self.array(product["options"]!)[0]["units"]!)
            #expect(units.map { $0["id"] as? String } == ["full", "child", "student", "group"])
            #expect(Self.object(units[3]["restrictions"]!)["minQuantity"] as? Int == 10, "a group's items make one pass of 10 to 60 heads")
            let fullPrice = Self.array(units[0]["pricingFrom"]!)[0]
            #expect(fullPrice["retail"] as? Int == 29_900 && fullPrice["net"] as? Int == 26_910)
            // Another reseller's product and an unknown one: OCTO's own error.
            for id in ["LAKE-AND-MUSEUM-2026", "NOPE"] {
                let (status, json) = try await octo.call("GET", "/products/\(id)", key: key, schema: "product", template: "/products/{id}")
                #expect(status == 400 && Self.object(json)["error"] as? String == "INVALID_PRODUCT_ID")
            }

            let today = hub.passes.calendar.day(of: Date())
            let availability = Self.array(
                try await octo.call(
                    "POST", "/availability", key: key,
                    body:
                        #"{"productId":"JIANGNAN-3P","optionId":"DEFAULT","localDateStart":"\#(today)","localDateEnd":"\#(today.adding(days: 2))","units":[{"id":"full","quantity":1}]}"#,
                    schema: "availability"
                ).json)
            // Untimed, but each park has a daily capacity: the places left are the fewest of its parks' (P003: 8,000).
            #expect(
                availability.count == 3
                    && availability.allSatisfy {
                        $0["status"] as? String == "AVAILABLE" && $0["available"] as? Bool == true && $0["vacancies"] as? Int == 8_000
                    })
            let availabilityID = availability[0]["id"] as! String

            // Hold, and the same uuid again is the same booking.
            let uuid = UUID().uuidString.lowercased()
            let hold =
                #"{"uuid":"\#(uuid)","productId":"JIANGNAN-3P","optionId":"DEFAULT","availabilityId":"\#(availabilityID)","unitItems":[{"unitId":"full"}]}"#
            let held = Self.object(try await octo.call("POST", "/bookings", key: key, body: hold, schema: "booking").json)
            #expect(held["status"] as? String == "ON_HOLD" && held["utcExpiresAt"] is String && held["uuid"] as? String == uuid)
            #expect(Self.object(held["pricing"]!)["net"] as? Int == 26_910)
            let again = Self.object(try await octo.call("POST", "/bookings", key: key, body: hold, schema: "booking").json)
            #expect(again["id"] as? String == held["id"] as? String)
            let extended = Self.object(
                try await octo.call(
                    "POST", "/bookings/\(uuid)/extend", key: key, body: #"{"expirationMinutes":60}"#, schema: "booking", template: "/bookings/{uuid}/extend"
                ).json)
            #expect((extended["utcExpiresAt"] as? String ?? "") > (held["utcExpiresAt"] as? String ?? "z"))

            // Real-name: no document, no pass, and nothing changed.
            let anonymous = try await octo.call(
                "POST", "/bookings/\(uuid)/confirm", key: key, body: #"{"contact":{"fullName":"王小明"}}"#, schema: "booking",
                template: "/bookings/{uuid}/confirm")
            #expect(anonymous.status == 400 && Self.object(anonymous.json)["error"] as? String == "UNPROCESSABLE_ENTITY")
            #expect(try await hub.store.booking(uuid)?.status == "held")
            let confirmed = Self.object(
                try await octo.call(
                    "POST", "/bookings/\(uuid)/confirm", key: key, body: Self.confirmation(), schema: "booking", template: "/bookings/{uuid}/confirm"
                ).json)
            #expect(confirmed["status"] as? String == "CONFIRMED" && confirmed["resellerReference"] as? String == "TG-1001")
            let item = Self.array(confirmed["unitItems"]!)[0]
            let code = Self.array(Self.object(item["ticket"]!)["deliveryOptions"]!)[0]["deliveryValue"] as! String
            #expect(Self.object(item["contact"]!)["fullName"] as? String == "王*明")
            #expect(!String(describing: confirmed).contains("11010519491231002X"), "the document is never shown back")
            // The pass names the reseller as issuer, signed with its key on the trust list.
            let parsed = try PassCode(parsing: code)
            #expect(parsed.issuer == tripgo)
            // Real-name as at a window: the holder is sealed at the hub and found by a regulator's document lookup.
            let holdings = try await hub.passes(heldBy: .residentID, number: Self.holder["document"]!)
            #expect(holdings.map(\.passID) == [parsed.passID] && holdings.first?.issuer == "TRIPGO" && holdings.first?.holder.nameMasked == "王*明")
            // The visitor's page, from the link a reseller texts.
            let page = try await federation.curl(String((item["visitorPageUrl"] as! String).dropFirst(federation.hubURL.count)))
            #expect(page.httpStatus == 200 && page.body.contains("id=\"qr\""))

            // Another park's gate admits it offline-verifiable from the trust list, online through the hub.
            let decision = try await agents[1].scan(GateScanRequest(code: code, gate: "G1"))
            #expect(decision.decision == .allow, "\(decision)")
            let redeemed = Self.object(try await octo.call("GET", "/bookings/\(uuid)", key: key, schema: "booking", template: "/bookings/{uuid}").json)
            #expect(redeemed["status"] as? String == "REDEEMED" && Self.array(redeemed["unitItems"]!)[0]["status"] as? String == "REDEEMED")
            #expect(redeemed["cancellable"] as? Bool == false)
            let used = try await octo.call(
                "POST", "/bookings/\(uuid)/cancel", key: key, body: "{}", schema: "booking", template: "/bookings/{uuid}/cancel")
            #expect(used.status == 400 && Self.object(used.json)["error"] as? String == "UNPROCESSABLE_ENTITY")

            // The webhook: the first post fails (503), the retry after its backoff arrives signed, REDEEMED.
            try await waitUntil("the webhook receiver listens") {
                try await ExternalTool.run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"]).succeeded
            }
            #expect(try await hub.deliverWebhooks(now: Date()) == 0)
            #expect(try await hub.deliverWebhooks(now: Date().addingTimeInterval(120)) == 1)
            let posts = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
                Self.object(try JSONSerialization.jsonObject(with: Data($0.utf8)))
            }
            #expect(posts.map { $0["status"] as? Int } == [503, 200] && posts.allSatisfy { $0["signature_ok"] as? Bool == true })
            let hook = Self.object(posts[1]["body"]!)
            #expect(hook["event"] as? String == "booking_update" && Self.object(hook["booking"]!)["status"] as? String == "REDEEMED")
            octo.records.withLockedValue { $0.append(["operation": "POST /webhook", "status": 200, "schema": "webhook", "body": hook]) }
            let deliveries = Self.array(try await octo.call("GET", "/webhooks", key: key, schema: "error").json)
            #expect(deliveries.first?["attempts"] as? Int == 2 && deliveries.first?["utcDeliveredAt"] is String)
            _ = octo.records.withLockedValue { $0.removeLast() }

            // Found by references; another reseller finds nothing of it and cannot touch it.
            let byReference = Self.array(try await octo.call("GET", "/bookings?resellerReference=TG-1001", key: key, schema: "booking").json)
            #expect(byReference.map { $0["uuid"] as? String } == [uuid])
            for (method, path, template) in [
                ("GET", "/bookings/\(uuid)", "/bookings/{uuid}"), ("POST", "/bookings/\(uuid)/cancel", "/bookings/{uuid}/cancel"),
                ("POST", "/bookings/\(uuid)/confirm", "/bookings/{uuid}/confirm"),
            ] {
                let (status, json) = try await octo.call(method, path, key: other, body: "{}", schema: "booking", template: template)
                #expect(status == 400 && Self.object(json)["error"] as? String == "INVALID_BOOKING_UUID", "\(path): \(json)")
            }
            #expect(Self.array(try await octo.call("GET", "/bookings?resellerReference=TG-1001", key: other, schema: "booking").json).isEmpty)
            // A park cannot refund the reseller's pass (only its issuer may), whatever it signs.
            let p1 = agents[0]
            let (_, refund) = try Assertions.sign(
                .passRefunded(PassRefunded(passID: parsed.passID, amountMinor: 0, reason: "hostile")), park: p1.park, key: p1.signingKey)
            await #expect(throws: Refusal.self) {
                _ = try await hub.refundPass(
                    parsed.passID, PassChangeRequest(assertion: refund.compact),
                    peer: AuthenticatedPeer(principal: .park(p1.park), serial: "t", notAfter: .distantFuture))
            }
            // A revoked key is refused at once; a malformed or missing one too.
            let keyID = String(key.dropFirst(4).prefix(12))
            try await hub.revokeResellerKey(keyID)
            for bearer in [key, "pfr_nothing", ""] {
                let (status, json) = try await octo.call("GET", "/supplier", key: bearer, schema: "supplier")
                #expect(status == 401 && Self.object(json)["error"] as? String == "UNAUTHORIZED")
            }
            try await octo.validate()
        }
    }

    /// A timed product with 3 places: holds take places, the fourth head is refused with what is left, availability
    /// says sold out, and a hold past its expiry frees its places (and can no longer be confirmed).
    @Test func aSlotSellsOutAtCapacityAndAnExpiredHoldFreesItsPlaces() async throws {
        try await TestFederation.run { federation in
            _ = try await federation.enrollParks(["P003"])
            let hub = federation.hub
            let today = hub.passes.calendar.day(of: Date())
            let products = federation.directory.file("tiny.json")
            try #"""
            {"products": [{"id": "TINY-TIMED", "name": "Tiny timed entry", "currency": "CNY", "price_minor": 5000,
              "validity": {"kind": "fixed", "from": "\#(today)", "until": "\#(today.adding(days: 30))"},
              "members": [{"park": "P003", "allocation_minor": 5000}], "refund_rule": "unused_pass_only",
              "time_slots": [{"id": "AM", "start": "09:00", "end": "12:00", "capacity": 3}]}]}
            """#.write(toFile: products, atomically: true, encoding: .utf8)
            _ = try await hub.importProducts(file: products)
            let resellers = federation.directory.file("tiny-resellers.json")
            try #"{"resellers": [{"id": "TRIPGO", "name": "TripGo", "rates": [{"product": "TINY-TIMED", "retail_minor": 5000, "net_minor": 4500}]}]}"#
                .write(toFile: resellers, atomically: true, encoding: .utf8)
            _ = try await hub.importResellers(file: resellers)
            let caller = Hub.OctoCaller(reseller: try ParkID("TRIPGO"), pricing: true, baseURL: federation.hubURL)
            let day = today.adding(days: 1)
            func availability(_ now: Date) async throws -> Octo.Availability {
                let request = try JSONDecoder().decode(
                    Octo.AvailabilityRequest.self,
                    from: Data(#"{"productId":"TINY-TIMED","optionId":"DEFAULT","localDateStart":"\#(day)","localDateEnd":"\#(day)"}"#.utf8))
                return try await hub.octoAvailability(request, caller, now: now)[0]
            }
            func hold(_ units: Int, minutes: Int, now: Date) async throws -> Octo.Booking {
                let items = Array(repeating: #"{"unitId":"full"}"#, count: units).joined(separator: ",")
                let body =
                    #"{"productId":"TINY-TIMED","optionId":"DEFAULT","availabilityId":"\#(try await availability(now).id)","expirationMinutes":\#(minutes),"unitItems":[\#(items)]}"#
                return try await hub.octoHold(try JSONDecoder().decode(Octo.BookingRequest.self, from: Data(body.utf8)), caller, now: now)
            }
            let now = Date()
            #expect(try await availability(now).vacancies == 3)
            let short = try await hold(2, minutes: 1, now: now)
            let one = try await availability(now)
            #expect(one.vacancies == 1 && one.status == "AVAILABLE")
            await #expect {
                _ = try await hold(2, minutes: 30, now: now)
            } throws: { error in
                (error as? Octo.ErrorBody)?.error == "UNPROCESSABLE_ENTITY" && (error as? Octo.ErrorBody)?.errorMessage.contains("1 places left") == true
            }
            let last = try await hold(1, minutes: 30, now: now)
            let full = try await availability(now)
            #expect(full.vacancies == 0 && full.status == "SOLD_OUT" && !full.available)
            // Two minutes on, the short hold has expired: its two places are free again, and it cannot be confirmed.
            let later = now.addingTimeInterval(120)
            #expect(try await availability(later).vacancies == 2)
            #expect(try await hub.octoBooking(short.uuid, caller, now: later).status == "EXPIRED")
            let confirm = try JSONDecoder().decode(Octo.ConfirmRequest.self, from: Data(Self.confirmation().utf8))
            await #expect(throws: Octo.ErrorBody.self) { _ = try await hub.octoConfirm(short.uuid, confirm, caller, now: later) }
            // The held one confirms into a sold pass in the slot; the places it held stay taken.
            let sold = try await hub.octoConfirm(last.uuid, confirm, caller, now: later)
            #expect(sold.status == "CONFIRMED" && sold.unitItems[0].ticket != nil)
            #expect(try await availability(later).vacancies == 2)
            let unit = try #require(try await hub.store.booking(last.uuid)?.units.first)
            #expect(try await hub.store.pass(unit.passID)?.slot == "AM")
        }
    }

    /// Two bookings confirmed and used, one cancelled unused (refunded in full by the rule): TRIPGO owes exactly the
    /// net allocations of the entries made, and the positions sum to zero.
    @Test func aCancellationRefundsByTheRuleAndTheResellersPositionIsExactToTheFen() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let hub = federation.hub
            let caller = Hub.OctoCaller(reseller: try ParkID("TRIPGO"), pricing: true, baseURL: federation.hubURL)
            let today = hub.passes.calendar.day(of: Date())
            let availabilityID = try await hub.octoAvailability(
                try JSONDecoder().decode(
                    Octo.AvailabilityRequest.self,
                    from: Data(#"{"productId":"JIANGNAN-3P","optionId":"DEFAULT","localDate":"\#(today)"}"#.utf8)), caller)[0].id
            func book(_ unit: String, _ document: String) async throws -> Octo.Booking {
                let body = #"{"productId":"JIANGNAN-3P","optionId":"DEFAULT","availabilityId":"\#(availabilityID)","unitItems":[{"unitId":"\#(unit)"}]}"#
                let held = try await hub.octoHold(try JSONDecoder().decode(Octo.BookingRequest.self, from: Data(body.utf8)), caller)
                let confirm = try JSONDecoder().decode(Octo.ConfirmRequest.self, from: Data(Self.confirmation(document: document).utf8))
                return try await hub.octoConfirm(held.uuid, confirm, caller)
            }
            let full = try await book("full", "11010519491231002X")
            let child = try await book("child", "430102201503071230")
            let unused = try await book("full", "430102199003071234")
            let code = { (booking: Octo.Booking) in booking.unitItems[0].ticket!.deliveryOptions[0].deliveryValue }
            // The full pass at each park (P002 twice: two entries there), the child's at P001.
            for agent in agents { #expect(try await agent.scan(GateScanRequest(code: code(full), gate: "G1")).decision == .allow) }
            #expect(try await agents[1].scan(GateScanRequest(code: code(full), gate: "G2")).decision == .allow)
            #expect(try await agents[0].scan(GateScanRequest(code: code(child), gate: "G1")).decision == .allow)
            // The unused one is cancelled: refunded in full (its net), and a gate no longer admits it.
            let cancelled = try await hub.octoCancel(unused.uuid, Octo.CancelRequest(reason: "Customer Requested"), caller)
            #expect(cancelled.status == "CANCELLED" && cancelled.cancellation?.refund == "FULL")
            let passID = try PassCode(parsing: code(unused)).passID
            #expect(try await hub.store.pass(passID)?.refundedMinor == 26_910)
            #expect(try await agents[2].scan(GateScanRequest(code: code(unused), gate: "G1")).decision == .deny)
            #expect(try await hub.store.webhooks(reseller: try ParkID("TRIPGO")).contains { $0.bookingUUID == unused.uuid })
            for agent in agents { try await agent.deliverOutbox() }

            let record = try await hub.runSettlement(day: today, now: hub.endOfDay(today).addingTimeInterval(60))
            let batch = try await hub.settlementExport(record).batch
            // Net allocations at 90 %: full P001 8910, P002 5400 per entry (×2), P003 7200; child P001 4410.
            #expect(
                batch.positions.map { "\($0.park) \($0.netMinor)" } == ["P001 13320", "P002 10800", "P003 7200", "TRIPGO -31320"],
                "\(batch.positions)")
            #expect(batch.positions.reduce(0) { $0 + $1.netMinor } == 0)
            // The reseller's statement: each booking with retail, net and commission.
            let statement = try await hub.resellerStatement(try ParkID("TRIPGO"), from: today, to: today)
            #expect(
                statement.lines.map { "\($0.status) \($0.retailMinor) \($0.netMinor) \($0.commissionMinor)" }.sorted() == [
                    "CANCELLED 29900 26910 2990", "REDEEMED 14900 13410 1490", "REDEEMED 29900 26910 2990",
                ])
            #expect(statement.owedMinor == 31_320)
        }
    }

    /// A hostile park signs a net into its own pass's code (to owe the other parks less): the hub and every gate
    /// price a park's pass by its product alone, so the redeeming park is owed its full allocation.
    @Test func aParkCannotScaleItsOwnPassDownWithANetInItsCode() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let hub = federation.hub
            let today = hub.passes.calendar.day(of: Date())
            let passID = UUIDv7.make(now: Date())
            let code = try PassCode.make(
                .init(
                    issuer: p1.park, passID: passID, product: "JIANGNAN-3P", validFrom: today, validUntil: today.adding(days: 89), generation: 0,
                    name: "张*", net: 100), key: p1.signingKey)
            let issued = PassIssued(
                passID: passID, product: "JIANGNAN-3P", channel: .window, priceMinor: 29_900,
                holder: HolderRef(nameMasked: "张*", idType: .residentID, idDigest: String(repeating: "A", count: 43)), validFrom: today.description,
                validUntil: today.adding(days: 89).description)
            let (_, jws) = try Assertions.sign(.passIssued(issued), park: p1.park, key: p1.signingKey)
            let peer = AuthenticatedPeer(principal: .park(p1.park), serial: "t", notAfter: .distantFuture)
            #expect(try await hub.ingest(IngestRequest(assertions: [jws.compact]), from: peer).results.first?.status == .accepted)
            #expect(try await p2.scan(GateScanRequest(code: code.text, gate: "G1")).decision == .allow)
            try await p2.deliverOutbox()
            let record = try await hub.runSettlement(day: today, now: hub.endOfDay(today).addingTimeInterval(60))
            let lines = try await hub.settlementExport(record).obligations
            #expect(lines.map { "\($0.from)→\($0.to) \($0.amountMinor)" } == ["P001→P002 6000"], "\(lines)")
            // The redeeming park checks its line and agrees: its gate priced the code the same way.
            #expect(try await p2.verifySettlement(record.id).problems.isEmpty)
        }
    }

    /// The rest of the API a reseller's system uses, each answer validated: the calendar, bad requests answered
    /// with OCTO's own codes (nothing held), PATCH of references and notes, look-ups by supplier reference and date,
    /// a uuid another reseller holds, and a reseller's federation certificate in place of an API key.
    @Test func calendarPatchLookupsRefusalsAndACertificateInsteadOfAKey() async throws {
        try await TestFederation.run { federation in
            let hub = federation.hub
            let key = try await hub.issueResellerKey(try ParkID("TRIPGO"), label: "test").key
            let other = try await hub.issueResellerKey(try ParkID("LAKEMINI"), label: "test").key
            let octo = Recorder(federation)
            let today = hub.passes.calendar.day(of: Date())
            let calendar = Self.array(
                try await octo.call(
                    "POST", "/availability/calendar", key: key,
                    body:
                        #"{"productId":"MUSEUM-TIMED","optionId":"DEFAULT","localDateStart":"\#(today.adding(days: 1))","localDateEnd":"\#(today.adding(days: 7))"}"#,
                    schema: "calendar-day"
                ).json)
            #expect(calendar.count == 7 && calendar.allSatisfy { $0["capacity"] as? Int == 1000 && $0["vacancies"] as? Int == 1000 })
            let slots = Self.array(
                try await octo.call(
                    "POST", "/availability", key: key,
                    body: #"{"productId":"MUSEUM-TIMED","optionId":"DEFAULT","localDate":"\#(today.adding(days: 1))"}"#, schema: "availability"
                ).json)
            #expect(slots.map { $0["id"] as? String ?? "" } == ["\(today.adding(days: 1))T09:00:00+08:00", "\(today.adding(days: 1))T12:00:00+08:00"])
            let slot = slots[0]["id"] as! String
            // Refusals in OCTO's words; none of them holds anything.
            let bad: [(String, String, String)] = [
                ("/bookings", "{not json", "BAD_REQUEST"),
                (
                    "/bookings", #"{"productId":"MUSEUM-TIMED","optionId":"NOPE","availabilityId":"\#(slot)","unitItems":[{"unitId":"full"}]}"#,
                    "INVALID_OPTION_ID"
                ),
                (
                    "/bookings",
                    #"{"productId":"MUSEUM-TIMED","optionId":"DEFAULT","availabilityId":"\#(today)T10:00:00+08:00","unitItems":[{"unitId":"full"}]}"#,
                    "INVALID_AVAILABILITY_ID"
                ),
                (
                    "/bookings", #"{"productId":"MUSEUM-TIMED","optionId":"DEFAULT","availabilityId":"\#(slot)","unitItems":[{"unitId":"child"}]}"#,
                    "INVALID_UNIT_ID"
                ),
                ("/bookings", #"{"productId":"MUSEUM-TIMED","optionId":"DEFAULT","availabilityId":"\#(slot)","unitItems":[]}"#, "UNPROCESSABLE_ENTITY"),
                (
                    "/bookings",
                    #"{"productId":"MUSEUM-TIMED","optionId":"DEFAULT","availabilityId":"\#(slot)","expirationMinutes":0,"unitItems":[{"unitId":"full"}]}"#,
                    "UNPROCESSABLE_ENTITY"
                ),
                ("/availability", #"{"productId":"MUSEUM-TIMED","optionId":"DEFAULT"}"#, "BAD_REQUEST"),
                (
                    "/availability/calendar",
                    #"{"productId":"MUSEUM-TIMED","optionId":"DEFAULT","localDateStart":"\#(today)","localDateEnd":"\#(today.adding(days: 400))"}"#,
                    "BAD_REQUEST"
                ),
            ]
            for (path, body, error) in bad {
                let (status, json) = try await octo.call("POST", path, key: key, body: body, schema: "booking")
                #expect(status == 400 && Self.object(json)["error"] as? String == error, "\(body): \(json)")
            }
            #expect(try await hub.store.bookings(reseller: nil, limit: 10).isEmpty)
            // A booking, its references and notes changed; found by the supplier reference and by its date.
            let uuid = UUID().uuidString.lowercased()
            let hold =
                #"{"uuid":"\#(uuid)","productId":"MUSEUM-TIMED","optionId":"DEFAULT","availabilityId":"\#(slot)","unitItems":[{"unitId":"full"},{"unitId":"senior"}]}"#
            let held = Self.object(try await octo.call("POST", "/bookings", key: key, body: hold, schema: "booking").json)
            #expect(Self.object(held["pricing"]!)["retail"] as? Int == 9_000 && Self.object(held["pricing"]!)["net"] as? Int == 8_100)
            let patched = Self.object(
                try await octo.call(
                    "PATCH", "/bookings/\(uuid)", key: key, body: #"{"resellerReference":"TG-77","notes":"wheelchair","expirationMinutes":"45"}"#,
                    schema: "booking", template: "/bookings/{uuid}"
                ).json)
            #expect(patched["resellerReference"] as? String == "TG-77" && patched["notes"] as? String == "wheelchair")
            let moved = try await octo.call(
                "PATCH", "/bookings/\(uuid)", key: key, body: #"{"availabilityId":"\#(slots[1]["id"] as! String)"}"#, schema: "booking",
                template: "/bookings/{uuid}")
            #expect(moved.status == 400 && Self.object(moved.json)["error"] as? String == "UNPROCESSABLE_ENTITY")
            let reference = held["supplierReference"] as! String
            for query in ["supplierReference=\(reference)", "localDate=\(today.adding(days: 1))", "productId=MUSEUM-TIMED"] {
                let found = Self.array(try await octo.call("GET", "/bookings?\(query)", key: key, schema: "booking").json)
                #expect(found.map { $0["uuid"] as? String } == [uuid], "\(query)")
            }
            let (listStatus, _) = try await octo.call("GET", "/bookings", key: key, schema: "booking")
            #expect(listStatus == 400)
            // Another reseller cannot take this uuid, nor see the booking by its reference.
            let stolen = try await octo.call(
                "POST", "/bookings", key: other, body: hold.replacingOccurrences(of: "MUSEUM-TIMED", with: "JIANGNAN-3P"), schema: "booking")
            #expect(stolen.status == 400)
            #expect(Self.array(try await octo.call("GET", "/bookings?supplierReference=\(reference)", key: other, schema: "booking").json).isEmpty)
            // A reseller's federation certificate stands in for the key; a park's certificate does not.
            let certificate = try await federation.issueCertificate(for: .reseller("TRIPGO"), name: "tripgo")
            let byCertificate = try await federation.curl("/octo/bookings/\(uuid)", certificate: certificate)
            #expect(byCertificate.httpStatus == 200 && byCertificate.body.contains(uuid))
            let park = try await federation.issueCertificate(for: .park(try ParkID("P001")), name: "p1")
            let byPark = try await federation.curl("/octo/bookings/\(uuid)", certificate: park)
            #expect(byPark.httpStatus == 403 && byPark.body.contains(#""error":"FORBIDDEN""#))
            try await octo.validate()
        }
    }

    /// A reseller's key is limited like any principal: past its burst the API answers 429 in OCTO's error body with
    /// Retry-After, and another reseller is not slowed by it.
    @Test func aResellersKeyIsRateLimited() async throws {
        try await TestFederation.run(configuration: HubConfiguration(federation: "Limits", rateLimitPerSecond: 0.01, rateLimitBurst: 3)) { federation in
            let key = try await federation.hub.issueResellerKey(try ParkID("TRIPGO"), label: "test").key
            let other = try await federation.hub.issueResellerKey(try ParkID("LAKEMINI"), label: "test").key
            var statuses: [Int] = []
            for _ in 0..<5 { statuses.append(try await federation.curl("/octo/supplier", extra: ["-H", "authorization: Bearer \(key)"]).httpStatus) }
            #expect(statuses == [200, 200, 200, 429, 429], "\(statuses)")
            let limited = try await federation.curl("/octo/supplier", extra: ["-H", "authorization: Bearer \(key)", "-D", "-"])
            #expect(limited.body.lowercased().contains("retry-after:") && limited.body.contains(#""error":"TOO_MANY_REQUESTS""#))
            #expect(try await federation.curl("/octo/supplier", extra: ["-H", "authorization: Bearer \(other)"]).httpStatus == 200)
        }
    }

    /// A group's unit items make one pass for all its heads (within the group's size), one code for every item,
    /// admitted by one scan; its net is the per-head net times the heads.
    @Test func aGroupsUnitItemsMakeOnePassForAllItsHeads() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let hub = federation.hub
            let caller = Hub.OctoCaller(reseller: try ParkID("TRIPGO"), pricing: true, baseURL: federation.hubURL)
            let today = hub.passes.calendar.day(of: Date())
            let availability = try await hub.octoAvailability(
                try JSONDecoder().decode(
                    Octo.AvailabilityRequest.self, from: Data(#"{"productId":"JIANGNAN-3P","optionId":"DEFAULT","localDate":"\#(today)"}"#.utf8)), caller)[0].id
            func request(_ count: Int) throws -> Octo.BookingRequest {
                let items = Array(repeating: #"{"unitId":"group"}"#, count: count).joined(separator: ",")
                let body = #"{"productId":"JIANGNAN-3P","optionId":"DEFAULT","availabilityId":"\#(availability)","unitItems":[\#(items)]}"#
                return try JSONDecoder().decode(Octo.BookingRequest.self, from: Data(body.utf8))
            }
            await #expect(throws: Octo.ErrorBody.self) { _ = try await hub.octoHold(try request(9), caller) }
            let held = try await hub.octoHold(try request(10), caller)
            let confirm = try JSONDecoder().decode(Octo.ConfirmRequest.self, from: Data(Self.confirmation().utf8))
            let booking = try await hub.octoConfirm(held.uuid, confirm, caller)
            let codes = Set(booking.unitItems.compactMap { $0.ticket?.deliveryOptions.first?.deliveryValue })
            #expect(booking.unitItems.count == 10 && codes.count == 1)
            let code = try PassCode(parsing: codes.first!)
            #expect(code.heads == 10 && code.payload.net == 215_100 && booking.pricing?.net == 215_100)
            let scan = try await agents[1].scan(GateScanRequest(code: code.text, gate: "G1"))
            #expect(scan.decision == .allow && scan.heads == 10, "\(scan)")
            let after = try await hub.octoBooking(held.uuid, caller)
            #expect(after.unitItems.allSatisfy { $0.status == "REDEEMED" })
            // The obligation is the group's net allocation at P002 for one entry: 45,000 per entry (90 % of 50,000).
            let statement = try await hub.resellerStatement(try ParkID("TRIPGO"), from: today, to: today)
            #expect(statement.owedMinor == 45_000 && statement.lines.count == 10)
        }
    }
}
