import Hummingbird
import HTTPTypes
import HummingbirdCore
import Logging

/// The outermost middleware of the hub and the node agent: for every request, one structured access line on the
/// request's logger (which carries Hummingbird's `hb.request.id`), the same id in the `x-request-id` response header
/// so that a caller can quote it, and the request's route, status and duration handed to the metrics.
public struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public typealias Record = @Sendable (_ method: String, _ route: String, _ status: Int, _ duration: Duration) -> Void
    let level: Logger.Level
    let record: Record

    public init(level: Logger.Level = .info, record: @escaping Record) {
        self.level = level
        self.record = record
    }

    public static var requestIDHeader: HTTPField.Name { HTTPField.Name("x-request-id")! }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        let duration = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        record(request.method.rawValue, route, response.status.code, duration)
        response.headers[Self.requestIDHeader] = context.id
        let millis = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        context.logger.log(
            level: level, "request",
            metadata: [
                "method": .string(request.method.rawValue), "route": .string(route), "status": .stringConvertible(response.status.code),
                "ms": .string(String(format: "%.2f", millis)),
            ])
        return response
    }
}
