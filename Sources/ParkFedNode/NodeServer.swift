import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ParkFedHub
import ParkFedProtocol

/// The node agent's local API on the park network: health, readiness, status, and a check of the hub link.
public enum NodeServer {
    public static func router(agent: NodeAgent) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
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
                     body: .init(byteBuffer: ByteBuffer(string: NodeMetrics.exposition(agent.status()))))
        }
        router.get("/v1/status") { _, _ -> Response in
            try JSONResponse.make(agent.status())
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
