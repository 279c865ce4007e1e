import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import ParkFedProtocol

/// Per-principal token buckets: each principal may make `rate` requests a second on average and `burst` at once.
/// Refusals are answered 429 `rate_limited` with `Retry-After`, before any work is done, so they change nothing.
public final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let burst: Double
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    public init(perSecond rate: Double, burst: Int) {
        self.rate = rate
        self.burst = Double(max(1, burst))
    }

    /// Takes one token for `key`; returns the seconds to wait when there is none.
    public func take(_ key: String, now: ContinuousClock.Instant = .now) -> Double? {
        guard rate > 0 else { return nil }
        return buckets.withLockedValue { buckets -> Double? in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + max(0, seconds) * rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
    }
}

extension RateLimiter {
    /// The answer to a request over its limit: 429 `rate_limited` with `title` and `detail`, and `Retry-After` in
    /// whole seconds (`wait` rounded up).
    public static func refusal(wait: Double, code: String = "rate_limited", title: String, detail: String) -> Response {
        var response = ProblemDetails(status: 429, code: code, title: title, detail: detail).response()
        response.headers[.retryAfter] = String(Int(wait.rounded(.up)))
        return response
    }
}
