import Foundation
import Hummingbird
import ParkFedHTTP
import ParkFedProtocol

/// Applies the hub's rate limit to the authenticated principal of each request.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let limiter: RateLimiter
    let metrics: HubMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = context.peer.map { "\($0.principal)" } ?? "anonymous"
        if let wait = limiter.take(principal) {
            metrics.rateLimited(principal: principal)
            return RateLimiter.refusal(
                wait: wait, title: "Too many requests", detail: "\(principal) is over its rate limit; retry after the time in Retry-After")
        }
        return try await next(request, context)
    }
}

/// Limits enrollment attempts per source address, the one route without a certificate; a refusal reads no body.
struct EnrollmentLimitMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let limiter: RateLimiter
    let metrics: HubMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let address = context.sourceAddress
        if let wait = limiter.take("enroll:" + address) {
            metrics.enrollment(outcome: "rate_limited")
            return RateLimiter.refusal(
                wait: wait, title: "Too many enrollment attempts", detail: "\(address) is over the enrollment limit; retry after the time in Retry-After")
        }
        return try await next(request, context)
    }
}
