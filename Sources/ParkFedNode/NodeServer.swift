import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ParkFedHTTP
import ParkFedProtocol
import ParkFedQR

/// The node agent's local API on the park network, over HTTPS (``LocalTLS``). Every route but `/healthz` and
/// `/readyz` needs a device credential of a role the route names, checked before the body is read; routes that
/// make the node call the hub also take from the calling device's share of the park's hub budget, so no local
/// caller can spend the budget the park's gates need.
public enum NodeServer {
    public static func router(agent: NodeAgent) -> Router<BasicRequestContext> { routes(agent: agent).router }

    /// The router and the device roles each of its routes was registered with.
    public static func routes(agent: NodeAgent) -> (router: Router<BasicRequestContext>, rules: [DeviceRouteRule]) {
        let router = Router(context: BasicRequestContext.self)
        let counters = agent.metrics
        router.add(middleware: AccessLogMiddleware { counters.request(route: $1, status: $2, duration: $3) })
        router.add(middleware: ProblemMiddleware())
        let console = NodeConsole(agent: agent)
        router.add(middleware: NodeConsoleErrorPages(console: console))
        let routes = DeviceRoutes(router: router, agent: agent)
        // Probes: open, and they tell nothing a stranger could use.
        routes.open(.get, "/healthz") { _, _ -> Response in
            try JSONResponse.make(HealthResponse(status: "ok"))
        }
        routes.open(.get, "/readyz") { _, _ -> Response in
            var checks: [String: String] = [:]
            var ready = true
            do { try await agent.store.ping(); checks["database"] = "ok" } catch { checks["database"] = "\(error)"; ready = false }
            let trust = await agent.trustList.status()
            checks["trust_list"] = trust.present ? (trust.stale ? "stale" : "ok") : "missing"
            if !trust.present { ready = false }
            return try JSONResponse.make(
                HealthResponse(status: ready ? "ready" : "not_ready", checks: checks),
                status: ready ? .ok : .serviceUnavailable)
        }
        // Monitoring: the park's Prometheus and its operator (certificate dates, hub link, outbox).
        routes.get("/metrics", [.monitor]) { _, _, _ -> Response in
            await Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: agent.metrics.exposition(agent.status()))))
        }
        routes.get("/v1/status", [.monitor]) { _, _, _ -> Response in
            try await JSONResponse.make(agent.status())
        }
        // Combo passes: every route needs a device credential of the right role.
        routes.get("/v1/products", [.window, .kiosk, .gate]) { request, _, _ -> Response in
            return try JSONResponse.make(
                ProductCatalog(products: agent.products.withLockedValue({ $0 }).values.sorted { $0.id < $1.id }.map { ProductCatalog.Product($0) }))
        }
        routes.post("/v1/sales", [.window, .kiosk], reachesHub: true) { request, _, _ -> Response in
            let body = try await request.decodeStrict(PassSaleRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await agent.sellPass(body), status: .created)
        }
        // Pre-printed stock: operators order and void batches, windows sell (activate) printed tickets.
        routes.post("/v1/stock/batches", [.operator]) { request, _, _ -> Response in
            let body = try await request.decodeStrict(StockOrder.self, limit: BodyLimit.request)
            return try await JSONResponse.make(try agent.orderStock(body), status: .created)
        }
        routes.get("/v1/stock/batches/:batch/codes.csv", [.operator]) { request, context, _ -> Response in
            let csv = try await agent.stockCSV(batch: try context.parameters.identifier("batch"))
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        routes.post("/v1/stock/:serial/sale", [.window], reachesHub: true) { request, context, _ -> Response in
            let body = try await request.decodeStrict(StockSaleRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await agent.sellStock(serial: try context.parameters.identifier("serial"), body), status: .created)
        }
        routes.post("/v1/stock/:serial/void", [.operator]) { request, context, _ -> Response in
            let body = try await request.decodeStrict(StockVoidRequest.self, limit: BodyLimit.request)
            let serial = try context.parameters.identifier("serial")
            try await agent.voidStock(serials: [serial], reason: body.reason)
            return Response(status: .noContent)
        }
        routes.get("/v1/sales/:pass/qr.svg", [.window, .kiosk]) { request, context, _ -> Response in
            let code = try await agent.passQR(try context.parameters.identifier("pass"))
            return Response(status: .ok, headers: [.contentType: "image/svg+xml"], body: .init(byteBuffer: ByteBuffer(string: QRImage.svg(code))))
        }
        routes.get("/v1/sales/:pass/qr.png", [.window, .kiosk]) { request, context, _ -> Response in
            let code = try await agent.passQR(try context.parameters.identifier("pass"))
            return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: QRImage.png(code))))
        }
        routes.post("/v1/sales/:pass/visitor-link", [.window, .kiosk], reachesHub: true) { _, context, _ -> Response in
            let (link, url) = try await agent.visitorLink(try context.parameters.identifier("pass"))
            return try JSONResponse.make(VisitorLinkAnswer(passID: link.passID, generation: link.generation, url: url), status: .created)
        }
        routes.post("/v1/sales/:pass/refund", [.window], reachesHub: true) { request, context, _ -> Response in
            let body = try await request.decodeStrict(PassRefundOrder.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await agent.refundPass(try context.parameters.identifier("pass"), reason: body.reason))
        }
        routes.post("/v1/sales/:pass/transfer", [.window], reachesHub: true) { request, context, _ -> Response in
            let body = try await request.decodeStrict(PassTransferOrder.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await agent.transferPass(try context.parameters.identifier("pass"), body))
        }
        routes.post("/v1/sales/:pass/reissue", [.window], reachesHub: true) { request, context, _ -> Response in
            let body = try await request.decodeStrict(PassReissueOrder.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await agent.reissuePass(try context.parameters.identifier("pass"), holder: body.holder))
        }
        routes.post("/v1/members", [.window], reachesHub: true) { request, _, _ -> Response in
            let body = try await request.decodeStrict(NodeAgent.MemberEnrollment.self, limit: BodyLimit.request)
            let view = try await agent.enrollMember(body)
            return try JSONResponse.make(view, status: view.existing ? .ok : .created)
        }
        routes.post("/v1/members/:member/code", [.window], reachesHub: true) { request, context, _ -> Response in
            let body = try await request.decodeStrict(PassReissueOrder.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await agent.reissueMemberCode(context.parameters.get("member") ?? "", holder: body.holder))
        }
        // A member at the window exports or erases their own data (the hub checks their current code).
        routes.post("/v1/members/:member/export", [.window], reachesHub: true) { request, context, _ -> Response in
            let body = try await request.decodeStrict(MemberDataRequest.self, limit: BodyLimit.small)
            var response = try JSONResponse.make(try await agent.exportMember(try context.parameters.identifier("member"), body))
            response.headers[.cacheControl] = "no-store"
            return response
        }
        routes.post("/v1/members/:member/erasure", [.window], reachesHub: true) { request, context, _ -> Response in
            let body = try await request.decodeStrict(MemberDataRequest.self, limit: BodyLimit.small)
            return try JSONResponse.make(try await agent.eraseMember(try context.parameters.identifier("member"), body))
        }
        routes.post("/v1/members/recognitions", [.gate, .window], reachesHub: true) { request, _, _ -> Response in
            let body = try await request.decodeStrict(MemberRecognitionRequest.self, limit: BodyLimit.small)
            return try JSONResponse.make(try await agent.recognizeMember(body))
        }
        routes.get("/v1/revenue", [.operator], reachesHub: true) { request, _, _ -> Response in
            return try JSONResponse.make(try await agent.revenue())
        }
        routes.put("/v1/mode", [.operator]) { request, _, device -> Response in
            let body = try await request.decodeStrict(GateModeRequest.self, limit: BodyLimit.small)
            try await agent.setMode(body.mode, by: "device:\(device.name)", reason: body.reason)
            return try await JSONResponse.make(agent.status())
        }
        routes.post("/v1/gate/scans", [.gate], reachesHub: true) { request, _, _ -> Response in
            let body = try await request.decodeStrict(GateScanRequest.self, limit: BodyLimit.request)
            let language = MessageCatalog.Language(acceptLanguage: request.headers[.acceptLanguage])
            return try JSONResponse.make(
                try await agent.scan(body).localized(language),
                headers: [.contentLanguage: language.rawValue])
        }
        routes.post("/v1/gate/exits", [.gate]) { request, _, _ -> Response in
            let body = try await request.decodeStrict(GateExitRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await agent.recordExits(body))
        }
        routes.get("/v1/occupancy", [.gate, .operator, .monitor]) { _, _, _ -> Response in try JSONResponse.make(try await agent.occupancy()) }
        // A check of the hub link for the operator; one probe a second for the whole node, whoever asks.
        routes.get("/v1/hub/whoami", [.operator], reachesHub: true) { _, _, _ -> Response in
            if let wait = agent.probeLimiter.take("whoami") {
                return RateLimiter.refusal(
                    wait: wait, code: "local_rate_limited", title: "Too many requests",
                    detail: "the hub link is checked at most once a second; retry in \(Int(wait.rounded(.up))) s")
            }
            let answer: WhoAmIResponse
            do { answer = try await agent.whoami() } catch let error as NodeError {
                throw ProblemDetails(status: 502, code: error.problemCode ?? error.code.rawValue, title: "Hub call failed", detail: error.message)
            }
            return try JSONResponse.make(answer)
        }
        console.register(routes)
        return (router, routes.book.rules)
    }

    /// The node agent's application: the local API over HTTPS plus the upkeep loop. Makes the park-LAN CA and the
    /// server certificate when they are missing (``LocalTLS``).
    public static func application(
        agent: NodeAgent,
        host: String,
        port: Int,
        logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let names = agent.configuration.withLockedValue({ $0 }).lanNames ?? []
        let tls = try LocalTLS.configuration(directory: agent.directory, park: agent.park, names: names + [host].filter { $0 != "0.0.0.0" && $0 != "::" })
        return Application(
            router: router(agent: agent),
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(host, port: port), serverName: "parkfed-node"),
            services: [NodeMaintenanceService(agent: agent), OutboxService(agent: agent)],
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
