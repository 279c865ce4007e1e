import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ParkFedHub
import ParkFedProtocol
import ParkFedQR

/// The node agent's local API on the park network: health, readiness, status, and a check of the hub link.
public enum NodeServer {
    public static func router(agent: NodeAgent) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let counters = agent.metrics
        router.add(middleware: AccessLogMiddleware { counters.request(route: $1, status: $2, duration: $3) })
        router.add(middleware: ProblemMiddleware())
        router.get("/healthz") { _, _ -> Response in
            try JSONResponse.make(HealthResponse(status: "ok"))
        }
        router.get("/readyz") { _, _ -> Response in
            var checks: [String: String] = [:]
            var ready = true
            do { try agent.store.ping(); checks["database"] = "ok" } catch { checks["database"] = "\(error)"; ready = false }
            let trust = agent.trustList.status()
            checks["trust_list"] = trust.present ? (trust.stale ? "stale" : "ok") : "missing"
            if !trust.present { ready = false }
            return try JSONResponse.make(HealthResponse(status: ready ? "ready" : "not_ready", checks: checks),
                                         status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: NodeMetrics.exposition(agent.status(), counters: agent.metrics))))
        }
        router.get("/v1/status") { _, _ -> Response in
            try JSONResponse.make(agent.status())
        }
        // Combo passes: every route needs a device credential of the right role.
        router.get("/v1/products") { request, _ -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.window, .kiosk, .gate])
            return try JSONResponse.make(ProductCatalog(products: agent.products.value.values.sorted { $0.id < $1.id }.map { ProductCatalog.Product($0) }))
        }
        router.post("/v1/sales") { request, _ -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.window, .kiosk])
            let body = try await request.decodeStrict(PassSaleRequest.self, limit: 16 * 1024)
            return try JSONResponse.make(try await agent.sellPass(body), status: .created)
        }
        // Pre-printed stock: operators order and void batches, windows sell (activate) printed tickets.
        router.post("/v1/stock/batches") { request, _ -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.operator])
            let body = try await request.decodeStrict(StockOrder.self, limit: 16 * 1024)
            return try JSONResponse.make(try agent.orderStock(body), status: .created)
        }
        router.get("/v1/stock/batches/:batch/codes.csv") { request, context -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.operator])
            let csv = try agent.stockCSV(batch: try Self.identifierParameter(context, "batch"))
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        router.post("/v1/stock/:serial/sale") { request, context -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.window])
            let body = try await request.decodeStrict(StockSaleRequest.self, limit: 16 * 1024)
            return try JSONResponse.make(try await agent.sellStock(serial: try Self.identifierParameter(context, "serial"), body), status: .created)
        }
        router.post("/v1/stock/:serial/void") { request, context -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.operator])
            let body = try await request.decodeStrict(StockVoidRequest.self, limit: 16 * 1024)
            let serial = try Self.identifierParameter(context, "serial")
            try agent.voidStock(serials: [serial], reason: body.reason)
            return Response(status: .noContent)
        }
        router.get("/v1/sales/:pass/qr.svg") { request, context -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.window, .kiosk])
            let code = try agent.passQR(try Self.localPassParameter(context))
            return Response(status: .ok, headers: [.contentType: "image/svg+xml"], body: .init(byteBuffer: ByteBuffer(string: QRImage.svg(code))))
        }
        router.get("/v1/sales/:pass/qr.png") { request, context -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.window, .kiosk])
            let code = try agent.passQR(try Self.localPassParameter(context))
            return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: QRImage.png(code))))
        }
        router.post("/v1/sales/:pass/refund") { request, context -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.window])
            let body = try await request.decodeStrict(PassRefundOrder.self, limit: 16 * 1024)
            return try JSONResponse.make(try await agent.refundPass(try Self.localPassParameter(context), reason: body.reason))
        }
        router.post("/v1/sales/:pass/transfer") { request, context -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.window])
            let body = try await request.decodeStrict(PassTransferOrder.self, limit: 16 * 1024)
            return try JSONResponse.make(try await agent.transferPass(try Self.localPassParameter(context), body))
        }
        router.post("/v1/sales/:pass/reissue") { request, context -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.window])
            let body = try await request.decodeStrict(PassReissueOrder.self, limit: 16 * 1024)
            return try JSONResponse.make(try await agent.reissuePass(try Self.localPassParameter(context), holder: body.holder))
        }
        router.post("/v1/members") { request, _ -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.window])
            let body = try await request.decodeStrict(NodeAgent.MemberEnrollment.self, limit: 16 * 1024)
            let view = try await agent.enrollMember(body)
            return try JSONResponse.make(view, status: view.existing ? .ok : .created)
        }
        router.post("/v1/members/:member/code") { request, context -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.window])
            let body = try await request.decodeStrict(PassReissueOrder.self, limit: 16 * 1024)
            return try JSONResponse.make(try await agent.reissueMemberCode(context.parameters.get("member") ?? "", holder: body.holder))
        }
        router.post("/v1/members/recognitions") { request, _ -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.gate, .window])
            let body = try await request.decodeStrict(MemberRecognitionRequest.self, limit: 4096)
            return try JSONResponse.make(try await agent.recognizeMember(body))
        }
        router.get("/v1/revenue") { request, _ -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.operator])
            return try JSONResponse.make(try await agent.revenue())
        }
        router.put("/v1/mode") { request, _ -> Response in
            let device = try agent.device(authorization: request.headers[.authorization], roles: [.operator])
            let body = try await request.decodeStrict(GateModeRequest.self, limit: 4096)
            try agent.setMode(body.mode, by: "device:\(device.name)", reason: body.reason)
            return try JSONResponse.make(agent.status())
        }
        router.post("/v1/gate/scans") { request, _ -> Response in
            _ = try agent.device(authorization: request.headers[.authorization], roles: [.gate])
            let body = try await request.decodeStrict(GateScanRequest.self, limit: 16 * 1024)
            let language = MessageCatalog.Language(acceptLanguage: request.headers[.acceptLanguage])
            return try JSONResponse.make(try await agent.scan(body).localized(language),
                                         headers: [.contentLanguage: language.rawValue])
        }
        router.get("/v1/hub/whoami") { _, _ -> Response in
            let answer: WhoAmIResponse
            do { answer = try await agent.whoami() } catch let error as NodeError {
                throw ProblemDetails(status: 502, code: error.problemCode ?? error.code.rawValue, title: "Hub call failed", detail: error.message)
            }
            return try JSONResponse.make(answer)
        }
        return router
    }

    static func identifierParameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        guard let value = context.parameters.get(name), (try? Check.identifier(value, name)) != nil else {
            throw ProblemDetails(status: 400, code: "invalid_query", title: "Invalid \(name)")
        }
        return value
    }

    static func localPassParameter(_ context: BasicRequestContext) throws -> String {
        guard let pass = context.parameters.get("pass"), (try? Check.identifier(pass, "pass")) != nil else {
            throw ProblemDetails(status: 400, code: "invalid_query", title: "Invalid pass id")
        }
        return pass
    }

    /// The node agent's application: the local API plus the upkeep loop.
    public static func application(
        agent: NodeAgent,
        host: String,
        port: Int,
        logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(agent: agent),
            configuration: .init(address: .hostname(host, port: port), serverName: "parkfed-node"),
            services: [NodeMaintenanceService(agent: agent), OutboxService(agent: agent)],
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
