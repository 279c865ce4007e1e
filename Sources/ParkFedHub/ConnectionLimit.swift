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
    /// A connection that sends nothing at all (not even the start of a TLS handshake) is closed after this.
    let firstByteTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard limit.open() else {
            logger.warning(
                "connection refused: too many open connections",
                metadata: [
                    "limit": "\(limit.maximum)",
                    "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")",
                ])
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionLimit.Refused())
        }
        let limit = self.limit
        channel.closeFuture.whenComplete { _ in limit.closed() }
        do {
            try channel.pipeline.syncOperations.addHandler(FirstByteDeadline(timeout: firstByteTimeout), position: .first)
        } catch {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(error)
        }
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

/// Closes a connection on which nothing arrives within `timeout` of its opening (a client that never starts its TLS
/// handshake would otherwise hold a slot forever; the idle timeout only starts after the handshake). Removes itself
/// at the first byte.
final class FirstByteDeadline: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
