import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Caps the hub's open connections (`max_connections`): one more is closed as soon as it is accepted, before any
/// TLS work, logged and counted (`parkfed_hub_connections_refused_total`), so a flood of connections cannot exhaust
/// the hub's memory or file descriptors while the connections already open keep being served.
struct ConnectionLimitedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let limit: ConnectionLimit

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard limit.open() else {
            logger.warning("connection refused: too many open connections", metadata: ["limit": "\(limit.maximum)",
                                                                                       "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionLimit.Refused())
        }
        let limit = self.limit
        channel.closeFuture.whenComplete { _ in limit.closed() }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async { await base.handle(value: value, logger: logger) }
}

/// The count of open connections against the cap.
final class ConnectionLimit: Sendable {
    struct Refused: Error {}
    let maximum: Int
    let metrics: HubMetrics
    private let count = NIOLockedValueBox(0)

    init(maximum: Int, metrics: HubMetrics) {
        self.maximum = maximum
        self.metrics = metrics
    }

    func open() -> Bool {
        let accepted = count.withLockedValue { count -> Bool in
            guard count < maximum else { return false }
            count += 1
            return true
        }
        if !accepted { metrics.connectionRefused() }
        return accepted
    }

    func closed() { count.withLockedValue { $0 -= 1 } }
}
