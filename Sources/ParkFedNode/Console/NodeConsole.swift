import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParkFedCrypto
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol
import ParkFedQR
import ParkFedStore
import Synchronization

/// The node console, on the park network: the duty manager's page (hub link, trust list, outbox, alarms, the gate
/// mode switch), devices (add one and show its credential once as text and QR, revoke), and the ticket window (sell,
/// print the ticket, refund).
///
/// A device signs in once with its credential; the console then keeps a session (a random id in an `HttpOnly`,
/// `Secure`, `SameSite=Strict` cookie, ended after 15 idle minutes or at sign-out) that holds only the credential's
/// hash, so revoking the device ends its session on the next request. Every form carries the session's form token.
/// Each page is registered with the device roles it names (``DeviceRoutes``), and every action calls the same
/// ``NodeAgent`` rule as the API route it stands for.
final class NodeConsole: Sendable {
    let agent: NodeAgent
    let templates: Result<PageTemplates, PageError>
    let formKey = SymmetricKey(size: .bits256)
    let sessions = Mutex<[String: Session]>([:])
    /// Sign-in attempts for the whole node (credentials are 256-bit random, but no one needs to try thousands).
    let signIns = RateLimiter(perSecond: 5, burst: 20)
    static let idle: TimeInterval = 15 * 60
    static let cookie = "pf_node_session"
    /// How long a console page waits for what it reads from the hub.
    static let hubReadTimeout = TimeAmount.seconds(3)

    struct Session: Sendable {
        var tokenHash: String
        var lastSeen: Date
    }

    init(agent: NodeAgent) {
        self.agent = agent
        templates = PageTemplates.loaded(module: "ParkFedNode")
    }

    // MARK: Sessions

    /// The signed-in device of this request: its session cookie, or a bearer credential as the API takes.
    func device(_ request: Request, roles: Set<DeviceRecord.Role>, now: Date = Date()) async throws -> (DeviceRecord, session: String?) {
        if let id = PageResponse.cookie(Self.cookie, request) {
            let found: Session? = sessions.withLock { sessions in
                guard var session = sessions[id], now.timeIntervalSince(session.lastSeen) < Self.idle else {
                    sessions[id] = nil
                    return nil
                }
                session.lastSeen = now
                sessions[id] = session
                return session
            }
            if let found { return (try await agent.device(tokenHash: found.tokenHash, roles: roles), id) }
        }
        return (try await agent.device(authorization: request.headers[.authorization], roles: roles), nil)
    }

    static func sessionCookie(_ id: String, maxAge: Int? = nil) -> String {
        "\(cookie)=\(id); Path=/console; Secure; HttpOnly; SameSite=Strict" + (maxAge.map { "; Max-Age=\($0)" } ?? "")
    }

    // MARK: Pages

    func page(
        _ template: String, title: String, request: Request, device: DeviceRecord?, session: String?, status: HTTPResponse.Status = .ok,
        flash: (String, String)? = nil, _ values: [String: Any] = [:]
    ) -> Response {
        let words = NodeConsoleText.words(PageResponse.language(request).0 == .zh)
        var context = values
        context["park"] = agent.park.rawValue
        if let device {
            context["device"] = "\(device.name) (\(device.role.rawValue))"
            var nav: [[String: String]] = []
            if device.role == .operator {
                nav = [["href": "/console/manager", "label": words["dutyManager"]!], ["href": "/console/devices", "label": words["devices"]!]]
            }
            if device.role == .operator || device.role == .window { nav.append(["href": "/console/window", "label": words["window"]!]) }
            context["nav"] = nav
        }
        return PageResponse.page(
            templates, template, request: request, words: { NodeConsoleText.words($0 == .zh) }, title: title,
            formToken: PageForm.token(for: session ?? device?.id ?? "anonymous", key: formKey), status: status,
            flash: flash.map { (text: $0.0, kind: $0.1) }, context)
    }

    func form(_ request: Request, device: DeviceRecord, session: String?) async throws -> PageForm {
        let buffer = try await request.body.collect(upTo: BodyLimit.small)
        return try PageForm.checked(
            String(buffer: buffer), fetchSite: request.headers[HTTPField.Name("Sec-Fetch-Site")!], subject: session ?? device.id, key: formKey)
    }

    func money(_ minor: Int64, _ currency: String) -> String { MoneyText.format(minor, currency: currency) }

    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        return ISO8601DateFormatter().string(from: date)
    }

    static func modeKey(_ mode: GateMode) -> String {
        switch mode {
        case .normal: "Normal"
        case .fastCheck: "FastCheck"
        case .evacuation: "Evacuation"
        }
    }

    // MARK: Routes

    func register(_ routes: DeviceRoutes) {
        routes.open(.get, "/console/sign-in") { [self] request, _ -> Response in
            page("signin", title: "signIn", request: request, device: nil, session: nil)
        }
        routes.open(.post, "/console/sign-in") { [self] request, _ -> Response in
            if let wait = signIns.take("sign-in") {
                return RateLimiter.refusal(wait: wait, code: "local_rate_limited", title: "Too many sign-ins", detail: "retry in \(Int(wait.rounded(.up))) s")
            }
            let fields = PageForm.parse(String(buffer: try await request.body.collect(upTo: BodyLimit.small)))
            let credential = (fields["credential"] ?? "").trimmingCharacters(in: .whitespaces)
            let device = try await agent.device(authorization: "Bearer " + credential, roles: [.operator, .window])
            let id = Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
            sessions.withLock { sessions in
                let now = Date()
                sessions = sessions.filter { now.timeIntervalSince($0.value.lastSeen) < Self.idle }
                sessions[id] = Session(tokenHash: NodeAgent.deviceTokenHash(credential), lastSeen: now)
            }
            agent.logger.notice("console sign-in", metadata: ["device": "\(device.name)", "role": "\(device.role.rawValue)"])
            return PageResponse.redirect(device.role == .operator ? "/console/manager" : "/console/window", cookies: [Self.sessionCookie(id)])
        }
        page(routes, .post, "/console/sign-out", [.operator, .window]) { [self] request, _, device, session in
            _ = try await form(request, device: device, session: session)
            if let session { sessions.withLock { $0[session] = nil } }
            return PageResponse.redirect("/console/sign-in", cookies: [Self.sessionCookie("", maxAge: 0)])
        }
        page(routes, .get, "/console", [.operator, .window]) { _, _, device, _ in
            PageResponse.redirect(device.role == .operator ? "/console/manager" : "/console/window")
        }
        registerManager(routes)
        registerWindow(routes)
    }

    /// A console page with the device roles it names: the session (or a bearer credential) is checked first.
    func page(
        _ routes: DeviceRoutes, _ method: HTTPRequest.Method, _ path: String, _ roles: Set<DeviceRecord.Role>, reachesHub: Bool = false,
        _ handler: @escaping @Sendable (Request, BasicRequestContext, DeviceRecord, String?) async throws -> Response
    ) {
        routes.custom(method, path, roles, reachesHub: reachesHub) { [self] request, context -> Response in
            let (device, session) = try await device(request, roles: roles)
            if reachesHub, let wait = agent.deviceHubBudget.take(device.id) {
                return RateLimiter.refusal(
                    wait: wait, code: "local_rate_limited", title: "Too many requests",
                    detail: "device \(device.name) is over its share of the park's hub calls; retry in \(Int(wait.rounded(.up))) s")
            }
            return try await handler(request, context, device, session)
        }
    }

    func registerManager(_ routes: DeviceRoutes) {
        page(routes, .get, "/console/manager", [.operator]) { [self] request, _, device, session in
            let words = NodeConsoleText.words(PageResponse.language(request).0 == .zh)
            let status = await agent.status()
            // What only the hub knows (money, conflicts) is shown when the hub answers, and said to be unavailable when
            // not: asked at once, briefly, and not at all while the link is known to be down (the page must answer
            // exactly when the hub does not).
            let linkUp = agent.hubLinkUp(now: Date())
            async let openCall = linkUp ? try? agent.revenue(timeout: Self.hubReadTimeout) : nil
            async let conflictsCall = linkUp ? try? agent.conflicts(timeout: Self.hubReadTimeout) : nil
            let (open, conflicts) = await (openCall, conflictsCall)
            let revenue = open.map { money($0.salesToday.amountMinor, $0.currency) } ?? words["unavailable"]!
            let mode = status.mode
            let modes = GateMode.allCases.map { candidate -> [String: String] in
                [
                    "value": candidate.rawValue, "label": words["mode" + Self.modeKey(candidate)]!,
                    "class": candidate == .evacuation ? "danger" : candidate == mode ? "" : "secondary",
                ]
            }
            var flash: (String, String)?
            if request.uri.queryParameters["switched"] != nil {
                flash = (PageResponse.format(words, "modeChanged", ["mode": words["mode" + Self.modeKey(mode)]!]), mode == .evacuation ? "bad" : "good")
            }
            return page(
                "manager", title: "dutyManager", request: request, device: device, session: session, flash: flash,
                [
                    "hubLink": words[status.hub.reachable == true ? "reachable" : status.hub.reachable == false ? "unreachable" : "unknown"]!,
                    "lastContact": Self.time(status.hub.lastContact), "hubError": status.hub.lastError.flatMap { $0.isEmpty ? nil : [$0] } ?? [],
                    "trustSequence": status.trustList.sequence.map(String.init) ?? "—", "trustAge": Self.time(status.trustList.issuedAt),
                    "pending": status.outbox.pending, "rejected": status.outbox.rejected, "modeLabel": words["mode" + Self.modeKey(mode)]!,
                    "revenue": revenue, "modes": modes,
                    "inside": status.capacity.occupancy.inside, "capacityNow": status.capacity.occupancy.capacityNow.map(String.init) ?? "—",
                    "insideLevel": words["level_\(status.capacity.insideLevel.rawValue)"]!, "insideClass": status.capacity.insideLevel.rawValue,
                    "capacityLevels": status.capacity.levels.map {
                        [
                            "day": $0.day, "measure": words["measure_\($0.measure.rawValue)"]!, "level": words["level_\($0.level.rawValue)"]!,
                            "class": $0.level.rawValue, "used": $0.used, "capacity": $0.capacity,
                        ] as [String: Any]
                    },
                    "salesStopped": status.capacity.salesStopped,
                    "changes": status.modeChanges.prefix(10).map { ["at": Self.time($0.at), "mode": $0.mode, "by": $0.by, "reason": $0.reason] },
                    "alarms": status.alarms.prefix(10).map { ["at": Self.time($0.at), "kind": $0.kind, "detail": $0.detail] },
                    "rejectedItems": try await outbox(state: "rejected", limit: 20),
                    "pendingItems": try await outbox(state: "pending", limit: 20),
                    "money": open.map { [moneyContext($0, words)] } ?? [], "moneyUnavailable": open == nil ? [words["hubUnavailable"]!] : [],
                    "conflicts": conflicts.map { list in
                        list.conflicts.prefix(50).map {
                            [
                                "pass": $0.passID, "park": $0.park, "issuer": $0.issuer, "reason": $0.reason, "at": Self.time($0.enteredAt),
                                "index": String($0.logIndex),
                            ]
                        }
                    } ?? [],
                    "conflictsUnavailable": conflicts == nil ? [words["hubUnavailable"]!] : [],
                    "stock": try await agent.store.stockBatches().map {
                        ["batch": $0.batch, "product": $0.product, "printed": $0.printed, "sold": $0.sold, "void": $0.void] as [String: Any]
                    },
                ])
        }
        page(routes, .get, "/console/stock/:batch/codes.csv", [.operator]) { [self] request, context, _, _ in
            let batch = try context.parameters.identifier("batch")
            let csv = try await agent.stockCSV(batch: batch)
            return Response(
                status: .ok,
                headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(batch).csv\"", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        page(routes, .get, "/console/mode", [.operator]) { [self] request, _, device, session in
            let words = NodeConsoleText.words(PageResponse.language(request).0 == .zh)
            guard let mode = request.uri.queryParameters["mode"].flatMap({ GateMode(rawValue: String($0)) }) else {
                throw Refusal(.invalid, code: "invalid_mode", title: "Unknown gate mode")
            }
            return page(
                "mode", title: "gateMode", request: request, device: device, session: session,
                [
                    "mode": mode.rawValue, "modeLabel": words["mode" + Self.modeKey(mode)]!, "danger": mode == .evacuation,
                    "explain": words["explain" + Self.modeKey(mode)]!, "defaultReason": "",
                ])
        }
        page(routes, .post, "/console/mode", [.operator]) { [self] request, _, device, session in
            let form = try await form(request, device: device, session: session)
            guard let mode = form["mode"].flatMap(GateMode.init(rawValue:)) else { throw Refusal(.invalid, code: "invalid_mode", title: "Unknown gate mode") }
            let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !reason.isEmpty else { throw Refusal(.invalid, code: "invalid_body", title: "A reason is needed", detail: "say why the mode changes") }
            try await agent.setMode(mode, by: "device:\(device.name)", reason: reason)
            return PageResponse.redirect("/console/manager?switched=\(mode.rawValue)")
        }
        page(routes, .get, "/console/devices", [.operator]) { [self] request, _, device, session in
            let words = NodeConsoleText.words(PageResponse.language(request).0 == .zh)
            let devices = try await agent.store.devices().map { item -> [String: Any] in
                ["id": item.id, "name": item.name, "role": item.role.rawValue, "state": words[item.revoked ? "revoked" : "active"]!, "active": !item.revoked]
            }
            var flash: (String, String)?
            if let revoked = request.uri.queryParameters["revoked"] { flash = (PageResponse.format(words, "deviceRevoked", ["name": String(revoked)]), "good") }
            return page(
                "devices", title: "devices", request: request, device: device, session: session, flash: flash,
                ["devices": devices, "roles": DeviceRecord.Role.allCases.map(\.rawValue)])
        }
        page(routes, .post, "/console/devices", [.operator]) { [self] request, _, device, session in
            let form = try await form(request, device: device, session: session)
            guard let role = form["role"].flatMap(DeviceRecord.Role.init(rawValue:)) else {
                throw Refusal(.invalid, code: "invalid_role", title: "Unknown role")
            }
            let name = form["name"] ?? ""
            let made: (id: String, token: String)
            do { made = try await agent.addDevice(name: name, role: role) } catch let error as NodeError {
                throw Refusal(.invalid, code: "invalid_device", title: "The device was not added", detail: error.message)
            }
            agent.logger.notice("device added in the console", metadata: ["device": "\(name)", "role": "\(role.rawValue)", "by": "\(device.name)"])
            let qr =
                (try? QRCode(text: made.token)).map {
                    "<img alt='QR' src='data:image/png;base64,\(Data(QRImage.png($0, moduleSize: 6)).base64EncodedString())'>"
                } ?? ""
            return page(
                "credential", title: "credentialFor", request: request, device: device, session: session,
                ["name": name, "role": role.rawValue, "token": made.token, "qr": qr])
        }
        page(routes, .get, "/console/devices/:device/revoke", [.operator]) { [self] request, context, device, session in
            let words = NodeConsoleText.words(PageResponse.language(request).0 == .zh)
            let id = try context.parameters.identifier("device")
            guard let target = try await agent.store.devices().first(where: { $0.id == id }) else {
                throw Refusal(.notFound, code: "unknown_device", title: "No such device")
            }
            return page(
                "confirm", title: "confirmRevoke", request: request, device: device, session: session,
                [
                    "heading": words["confirmRevoke"]! + " " + target.name, "text": PageResponse.format(words, "confirmRevokeText", ["name": target.name]),
                    "action": "/console/devices/\(target.id)/revoke", "button": words["revoke"]!, "buttonClass": "danger", "back": "/console/devices",
                    "fields": [[String: String]](),
                ])
        }
        page(routes, .post, "/console/devices/:device/revoke", [.operator]) { [self] request, context, device, session in
            let form = try await form(request, device: device, session: session)
            guard form["confirm"] == "yes" else { throw Refusal(.invalid, code: "not_confirmed", title: "Not confirmed") }
            let id = try context.parameters.identifier("device")
            guard let target = try await agent.store.devices().first(where: { $0.id == id }) else {
                throw Refusal(.notFound, code: "unknown_device", title: "No such device")
            }
            _ = try await agent.revokeDevice(target.id, keepingAnOperator: true)
            agent.logger.notice("device revoked in the console", metadata: ["device": "\(target.name)", "by": "\(device.name)"])
            return PageResponse.redirect("/console/devices?revoked=\(target.name)")
        }
    }

    func registerWindow(_ routes: DeviceRoutes) {
        page(routes, .get, "/console/window", [.window]) { [self] request, _, device, session in
            let products = agent.products.withLockedValue({ $0 }).values.sorted { $0.id < $1.id }
            let categories = Set(products.flatMap { $0.categories.map(\.id) }).sorted().map { ["id": $0, "label": $0] }
            return page(
                "window", title: "window", request: request, device: device, session: session,
                [
                    "products": products.map { ["id": $0.id, "name": $0.name, "price": money($0.price.minorUnits, $0.price.currency.code)] },
                    "categories": categories,
                ])
        }
        page(routes, .post, "/console/window/sales", [.window], reachesHub: true) { [self] request, _, device, session in
            let form = try await form(request, device: device, session: session)
            let heads = form["heads"].flatMap { Int($0) }
            let sale = PassSaleRequest(
                product: form["product"] ?? "", channel: "window",
                holder: Self.holder(form),
                category: form["category"].flatMap { $0.isEmpty ? nil : $0 }, heads: heads == 1 ? nil : heads,
                slot: form["slot"].flatMap { $0.isEmpty ? nil : $0 })
            let sold = try await agent.sellPass(sale)
            return PageResponse.redirect("/console/window/passes/\(sold.passID)")
        }
        page(routes, .get, "/console/window/passes/:pass", [.window]) { [self] request, context, device, session in
            try await ticket(request, try context.parameters.identifier("pass"), device: device, session: session)
        }
        page(routes, .get, "/console/window/passes/:pass/refund", [.window]) { [self] request, context, device, session in
            let words = NodeConsoleText.words(PageResponse.language(request).0 == .zh)
            let pass = try context.parameters.identifier("pass")
            return page(
                "confirm", title: "confirmRefund", request: request, device: device, session: session,
                [
                    "heading": words["confirmRefund"]!, "text": PageResponse.format(words, "confirmRefundText", ["pass": pass]),
                    "action": "/console/window/passes/\(pass)/refund", "button": words["refund"]!, "buttonClass": "danger",
                    "back": "/console/window/passes/\(pass)", "fields": [["name": "reason", "value": "window refund"]],
                ])
        }
        page(routes, .post, "/console/window/passes/:pass/transfer", [.window], reachesHub: true) { [self] request, context, device, session in
            let form = try await form(request, device: device, session: session)
            let pass = try context.parameters.identifier("pass")
            guard let price = form["resale_minor"].flatMap({ Int64($0) }), price >= 0 else {
                throw Refusal(.invalid, code: "invalid_body", title: "Invalid resale price", detail: "the resale price is a whole number of fen")
            }
            let moved = try await agent.transferPass(pass, PassTransferOrder(newHolder: Self.holder(form), resalePriceMinor: price))
            return PageResponse.redirect("/console/window/passes/\(moved.passID)")
        }
        page(routes, .post, "/console/window/passes/:pass/reissue", [.window], reachesHub: true) { [self] request, context, device, session in
            let form = try await form(request, device: device, session: session)
            let pass = try context.parameters.identifier("pass")
            let reissued = try await agent.reissuePass(pass, holder: Self.holder(form))
            return PageResponse.redirect("/console/window/passes/\(reissued.passID)")
        }
        page(routes, .post, "/console/window/passes/:pass/refund", [.window], reachesHub: true) { [self] request, context, device, session in
            let form = try await form(request, device: device, session: session)
            guard form["confirm"] == "yes" else { throw Refusal(.invalid, code: "not_confirmed", title: "Not confirmed") }
            let pass = try context.parameters.identifier("pass")
            let result = try await agent.refundPass(pass, reason: form["reason"] ?? "window refund")
            return PageResponse.redirect("/console/window/passes/\(pass)?refunded=\(result.refundedMinor)")
        }
    }

    /// The latest outbox entries in a state: rejected ones with the hub's reasons (they stay, never lost), pending
    /// ones with their age and delivery attempts.
    func outbox(state: String, limit: Int) async throws -> [[String: String]] {
        try await agent.store.latestOutbox(state: state, limit: limit).map {
            ["id": $0.id, "type": $0.type, "reason": $0.reason ?? "", "created": Self.time($0.createdAt), "attempts": String($0.attempts)]
        }
    }

    /// Today's sales and the open obligations both ways, as the manager's money table.
    func moneyContext(_ open: ParkRevenue, _ words: [String: String]) -> [String: Any] {
        func lines(_ lines: [ParkRevenue.Line]) -> [[String: String]] {
            lines.map {
                [
                    "reason": words["reason_" + $0.reason] ?? $0.reason, "count": String($0.count), "amount": money($0.amountMinor, open.currency),
                    "fee": money($0.feeMinor, open.currency),
                ]
            }
        }
        return [
            "day": open.day, "salesCount": open.salesToday.passes, "salesAmount": money(open.salesToday.amountMinor, open.currency),
            "owedToUs": lines(open.owedToUs), "owedByUs": lines(open.owedByUs), "settledThrough": open.settledThrough ?? "—",
            "next": money(open.nextPositionMinor, open.currency), "nextClass": open.nextPositionMinor < 0 ? "bad" : "good",
        ]
    }

    static func holder(_ form: PageForm) -> HolderInput {
        HolderInput(name: form["holder_name"] ?? "", idType: form["id_type"] ?? "", idNumber: form["id_number"] ?? "")
    }

    /// The print-ready ticket: QR, product, parks, validity, masked holder.
    func ticket(_ request: Request, _ passID: String, device: DeviceRecord, session: String?) async throws -> Response {
        let words = NodeConsoleText.words(PageResponse.language(request).0 == .zh)
        guard let sold = try await agent.store.soldPass(passID) else {
            throw Refusal(.notFound, code: "unknown_pass", title: "Unknown pass", detail: "no pass \(passID) was sold at \(agent.park)")
        }
        let product = agent.product(sold.product)
        let png = QRImage.png(try await agent.passQR(passID), moduleSize: 6)
        let qr = "<img alt='QR' src='data:image/png;base64,\(Data(png).base64EncodedString())'>"
        var flash: (String, String)?
        if let refunded = request.uri.queryParameters["refunded"].flatMap({ Int64(String($0)) }) {
            flash = (PageResponse.format(words, "refunded", ["amount": money(refunded, sold.currency)]), "good")
        }
        return page(
            "ticket", title: product?.name ?? sold.product, request: request, device: device, session: session, flash: flash,
            [
                "productName": product?.name ?? sold.product, "qr": qr, "passID": sold.passID, "holder": sold.holderMasked, "document": sold.idMasked,
                "validFrom": sold.validFrom.description, "validUntil": sold.validUntil.description,
                "parks": product?.members.map(\.park.rawValue).joined(separator: " · ") ?? "", "price": money(sold.priceMinor, sold.currency),
                "state": words[sold.state] ?? sold.state, "sold": sold.state == "sold",
            ])
    }
}

/// Console paths answer errors as pages; everything else as problem details.
struct NodeConsoleErrorPages: RouterMiddleware {
    typealias Context = BasicRequestContext
    let console: NodeConsole

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard ErrorPage.isConsole(request.uri.path) else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch {
            // A failed hub call is the node's own error: a 502 that names what the hub said.
            let hubFailure = (error as? NodeError).map {
                ProblemDetails(status: 502, code: $0.problemCode ?? $0.code.rawValue, title: "Hub call failed", detail: $0.message)
            }
            let shown = ErrorPage(
                error, request: request, logger: context.logger, words: NodeConsoleText.words(PageResponse.language(request).0 == .zh), mapped: hubFailure)
            return console.page("error", title: shown.heading, request: request, device: nil, session: nil, status: shown.status, shown.values)
        }
    }
}
