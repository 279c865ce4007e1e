import Foundation
import Hummingbird
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol
import ParkFedStore

/// The federation operator's pages: parks (status, certificate expiry, signing keys), enrollment tokens (made here,
/// shown once), revocation behind a confirmation, the trust list, the log and its last verification, the alarms
/// (``Hub/operatorAlarms(now:)``, as `GET /v1/operator/alarms` answers them) and the offline conflicts.
extension ConsolePages {
    func registerOperator(_ operators: HubRouteGroup) {
        operators.get("/console/operator") { request, _, peer -> Response in
            try await operatorPage(request, peer: peer)
        }
        // The shop seller's refund queue: requests the product's rule leaves to a person, and refunds on their way back.
        operators.get("/console/operator/refunds") { request, _, peer -> Response in
            try await refundQueuePage(request, peer: peer)
        }
        operators.post("/console/operator/refunds/:refund") { request, context, peer -> Response in
            let form = try await form(request, peer)
            let id = try context.parameters.identifier("refund")
            guard let decision = form["decision"], ["approve", "decline"].contains(decision) else {
                throw Refusal(.invalid, code: "invalid_decision", title: "Approve or decline")
            }
            do {
                _ = try await hub.decideShopRefund(id, approve: decision == "approve", by: "\(peer.principal)", note: form["note"])
            } catch let refusal as Refusal {
                return try await refundQueuePage(request, peer: peer, refusal: refusal)
            }
            hub.logger.notice("shop refund decided in the console", metadata: ["refund": "\(id)", "decision": "\(decision)", "by": "\(peer.principal)"])
            return Self.redirect("/console/operator/refunds?decided=\(id)")
        }
        operators.post("/console/operator/tokens") { request, _, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let form = try await form(request, peer)
            guard let text = form["park"], let park = try? ParkID(text.trimmingCharacters(in: .whitespaces)) else {
                throw Refusal(.invalid, code: "invalid_park_id", title: "Invalid park id", detail: "a park id is 2-32 characters of A-Z, 0-9, '-' or '_'")
            }
            let now = Date()
            let token = try await hub.createEnrollmentToken(park: park, name: form["name"] ?? "", now: now, readmit: form["readmit"] == "yes")
            hub.logger.notice("enrollment token made in the console", metadata: ["park": "\(park)", "by": "\(peer.principal)"])
            let expires = now.addingTimeInterval(TimeInterval(hub.configuration.enrollmentTokenHours * 3600))
            return page(
                "token", title: words["tokenFor"]! + " " + park.rawValue, request: request, peer: peer,
                ["park": park.rawValue, "token": token, "expires": Self.time(expires)])
        }
        operators.get("/console/operator/parks/:park/revoke") { request, context, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let park = try ParkID(try context.parameters.identifier("park"))
            return page(
                "confirm", title: "confirmRevoke", request: request, peer: peer,
                [
                    "heading": words["confirmRevoke"]! + " " + park.rawValue,
                    "text": PageResponse.format(words, "confirmRevokeText", ["park": park.rawValue]),
                    "action": "/console/operator/parks/\(park.rawValue)/revoke", "button": words["revoke"]!, "buttonClass": "danger",
                    "back": "/console/operator", "fields": [[String: String]](),
                ])
        }
        operators.post("/console/operator/parks/:park/revoke") { request, context, peer -> Response in
            let form = try await form(request, peer)
            guard form["confirm"] == "yes" else { throw Refusal(.invalid, code: "not_confirmed", title: "Not confirmed") }
            let park = try ParkID(try context.parameters.identifier("park"))
            let count = try await hub.revoke(park: park)
            hub.logger.notice("park revoked in the console", metadata: ["park": "\(park)", "by": "\(peer.principal)", "certificates": "\(count)"])
            return Self.redirect("/console/operator?revoked=\(park.rawValue)&count=\(count)")
        }
        operators.post("/console/operator/reseller-keys") { request, _, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let form = try await form(request, peer)
            guard let text = form["reseller"], let reseller = try? ParkID(text.trimmingCharacters(in: .whitespaces)) else {
                throw Refusal(.invalid, code: "invalid_reseller", title: "Invalid reseller id", detail: "choose an admitted reseller")
            }
            let issued = try await hub.issueResellerKey(reseller, label: form["label"] ?? "")
            hub.logger.notice(
                "reseller API key made in the console", metadata: ["reseller": "\(reseller)", "key": "\(issued.keyID)", "by": "\(peer.principal)"])
            return page(
                "apikey", title: words["apiKeyFor"]! + " " + reseller.rawValue, request: request, peer: peer,
                ["reseller": reseller.rawValue, "key": issued.key, "keyID": issued.keyID])
        }
        operators.get("/console/operator/reseller-keys/:key/revoke") { request, context, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let key = try context.parameters.identifier("key")
            return page(
                "confirm", title: "confirmRevokeKey", request: request, peer: peer,
                [
                    "heading": words["confirmRevokeKey"]! + " " + key, "text": PageResponse.format(words, "confirmRevokeKeyText", ["key": key]),
                    "action": "/console/operator/reseller-keys/\(key)/revoke", "button": words["revoke"]!, "buttonClass": "danger",
                    "back": "/console/operator", "fields": [[String: String]](),
                ])
        }
        operators.post("/console/operator/reseller-keys/:key/revoke") { request, context, peer -> Response in
            let form = try await form(request, peer)
            guard form["confirm"] == "yes" else { throw Refusal(.invalid, code: "not_confirmed", title: "Not confirmed") }
            let key = try context.parameters.identifier("key")
            try await hub.revokeResellerKey(key)
            hub.logger.notice("reseller API key revoked in the console", metadata: ["key": "\(key)", "by": "\(peer.principal)"])
            return Self.redirect("/console/operator?revokedKey=\(key)")
        }
        operators.post("/console/operator/verify-log") { request, _, peer -> Response in
            _ = try await form(request, peer)
            let report = try await LogVerifier(hub: hub).verify()
            try await hub.recordLogVerification(report)
            return Self.redirect("/console/operator")
        }
    }

    func operatorPage(_ request: Request, peer: AuthenticatedPeer) async throws -> Response {
        let words = ConsoleText.words(Self.language(request).0)
        let now = Date()
        let keys = try await hub.store.signingKeys()
        var parks: [[String: Any]] = []
        for park in try await hub.store.parks() where !park.isReseller {
            let certificates = try await hub.store.certificates(of: .park(park.id)).filter { $0.revokedAt == nil }
            let active = park.status == .active
            parks.append([
                "id": park.id.rawValue, "name": park.name, "active": active, "stateClass": active ? "paid" : "draft",
                "state": words[active ? "parkActive" : "parkRevoked"]!, "expiry": Self.time(certificates.map(\.notAfter).max()),
                "keys": keys.filter { $0.park == park.id && $0.revokedAt == nil }.map(\.kid).map { String($0.prefix(12)) }.joined(separator: ", "),
            ])
        }
        let tokens = try await hub.store.enrollmentTokens().map { token -> [String: Any] in
            let state = token.usedAt != nil ? "tokenUsed" : token.expiresAt < now ? "tokenExpired" : "tokenOpen"
            return [
                "park": token.park, "name": token.name, "created": Self.time(token.createdAt), "expires": Self.time(token.expiresAt),
                "state": words[state]!,
            ]
        }
        let trust = try await hub.currentTrustList(now: now)
        let checkpoint = try await hub.store.latestCheckpoint()
        let verified = try await hub.lastLogVerification()
        let verifyResult: String
        switch verified.ok {
        case true?: verifyResult = PageResponse.format(words, "verifyOK", ["entries": verified.number ?? ""])
        case false?: verifyResult = PageResponse.format(words, "verifyBad", ["index": verified.number ?? ""])
        case nil: verifyResult = words["verifyNever"]!
        }
        let conflicts = try await hub.passConflicts(peer: peer)
        let alarms = try await hub.operatorAlarms(now: now).alarms.map { alarm -> [String: String] in
            [
                "severity": words["severity_" + alarm.severity.rawValue]!, "class": alarm.severity == .critical ? "bad" : "warn",
                "kind": words["alarm_" + alarm.kind] ?? alarm.kind, "code": alarm.kind, "subject": alarm.subject, "detail": alarm.detail,
            ]
        }
        let resellers = try await resellerRows(words, now: now)
        let resellerKeys = try await hub.store.resellerKeys(nil).map { key -> [String: Any] in
            [
                "id": key.keyID, "reseller": key.reseller.rawValue, "label": key.label, "created": Self.time(key.createdAt),
                "state": words[key.revokedAt == nil ? "keyActive" : "keyRevoked"]!, "active": key.revokedAt == nil,
            ]
        }
        var flash: (String, String)?
        if let key = request.uri.queryParameters["revokedKey"].map(String.init) {
            flash = (PageResponse.format(words, "keyRevokedFlash", ["key": key]), "good")
        }
        if let revoked = request.uri.queryParameters["revoked"].map(String.init) {
            let count = request.uri.queryParameters["count"].map(String.init) ?? "0"
            flash = (PageResponse.format(words, "revoked", ["park": revoked, "count": count]), "good")
        }
        return page(
            "operator", title: "operator", request: request, peer: peer, flash: flash,
            [
                "federation": hub.configuration.federation, "parks": parks, "tokens": tokens, "trustSequence": trust.sequence,
                "trustAge": Self.time(trust.issuedAt), "logSize": hub.log.size, "checkpointSize": checkpoint?.treeSize ?? 0,
                "checkpointAge": Self.time(checkpoint?.createdAt), "verifyResult": verifyResult,
                "verifyAt": verified.atText ?? "", "conflicts": conflicts.conflicts.count,
                "alarms": alarms, "alarmCount": alarms.count, "resellers": resellers, "resellerKeys": resellerKeys,
                "resellerChoices": resellers.map { ["id": $0["id"] as? String ?? ""] },
                "conflictRows": conflicts.conflicts.prefix(50).map {
                    ["pass": $0.passID, "park": $0.park, "issuer": $0.issuer, "reason": $0.reason, "at": Self.time($0.enteredAt), "index": String($0.logIndex)]
                },
            ])
    }

    /// The admitted resellers: state, products, keys, bookings and webhooks waiting or failing.
    func resellerRows(_ words: [String: String], now: Date) async throws -> [[String: Any]] {
        let keys = try await hub.store.resellerKeys(nil)
        var rows: [[String: Any]] = []
        for record in try await hub.store.resellers() {
            guard let reseller = try await hub.admittedReseller(record.id) else { continue }
            let bookings = try await hub.store.bookings(reseller: record.id, limit: 5000)
            let webhooks = try await hub.store.webhooks(reseller: record.id, limit: 1000).filter { $0.deliveredAt == nil }
            let active = record.status == .active
            rows.append([
                "id": record.id.rawValue, "name": record.name, "state": words[active ? "parkActive" : "parkRevoked"]!,
                "stateClass": active ? "paid" : "draft", "products": reseller.products.sorted().joined(separator: ", "),
                "keys": keys.filter { $0.reseller == record.id && $0.revokedAt == nil }.count,
                "bookings": bookings.filter { $0.status == "confirmed" }.count, "held": bookings.filter { $0.status == "held" && !$0.expired(now: now) }.count,
                "waiting": webhooks.count, "failing": webhooks.filter { $0.attempts > 0 }.count, "webhook": record.webhookURL ?? "—",
            ])
        }
        return rows
    }

    func refundQueuePage(_ request: Request, peer: AuthenticatedPeer, refusal: Refusal? = nil) async throws -> Response {
        let words = ConsoleText.words(Self.language(request).0)
        func rows(_ refunds: [ShopRefundRecord]) -> [[String: Any]] {
            refunds.map {
                [
                    "id": $0.id, "order": $0.order, "pass": $0.passID ?? "—", "amount": MoneyText.format($0.amountMinor, currency: $0.currency),
                    "why": words["refundWhy_\($0.reason)"] ?? $0.reason, "when": Self.time($0.createdAt), "attempts": String($0.attempts),
                    "error": $0.lastError ?? "",
                ]
            }
        }
        let waiting = try await hub.store.shopRefunds(statuses: [.review])
        let sending = try await hub.store.shopRefunds(statuses: [.approved, .sending])
        var flash: (String, String)?
        if let refusal {
            flash = (Self.reason(refusal, request), "bad")
        } else if request.uri.queryParameters["decided"] != nil {
            flash = (words["refundDecided"]!, "good")
        }
        return page(
            "refunds", title: "refundQueue", request: request, peer: peer, status: refusal.map { .init(code: ProblemDetails($0).status) } ?? .ok,
            flash: flash,
            ["waiting": rows(waiting), "none": waiting.isEmpty ? [true] : [], "sending": rows(sending), "hasSending": sending.isEmpty ? [] : [true]])
    }
}
