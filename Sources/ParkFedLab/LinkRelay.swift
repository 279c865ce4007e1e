import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP relay on 127.0.0.1 in front of a port, that can be cut and restored: a network partition between one
/// park and the hub, for the demo and fault tests, without stopping the hub for everyone else.
///
/// While cut, every relayed connection is closed and new ones are closed as soon as they arrive (the client sees a
/// reset, as across a broken link); once restored, connections are relayed again.
public final class LinkRelay: Sendable {
    public let port: Int
    let serverChannel: any Channel
    let state: NIOLockedValueBox<State>

    struct State {
        var up = true
        var open: [ObjectIdentifier: any Channel] = [:]
    }

    init(port: Int, serverChannel: any Channel, state: NIOLockedValueBox<State>) {
        self.port = port
        self.serverChannel = serverChannel
        self.state = state
    }

    /// Starts relaying from a free loopback port to `127.0.0.1:targetPort`.
    public static func start(targetPort: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LinkRelay {
        let state = NIOLockedValueBox(State())
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                guard state.withLockedValue({ $0.up }) else { return inbound.close() }
                return ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: targetPort).flatMapThrowing { outbound in
                    let (a, b) = GlueHandler.matchedPair()
                    try inbound.pipeline.syncOperations.addHandler(a)
                    try outbound.pipeline.syncOperations.addHandler(b)
                    state.withLockedValue {
                        $0.open[ObjectIdentifier(inbound)] = inbound
                        $0.open[ObjectIdentifier(outbound)] = outbound
                    }
                    let forget: @Sendable (any Channel) -> Void = { channel in
                        channel.closeFuture.whenComplete { _ in _ = state.withLockedValue { $0.open.removeValue(forKey: ObjectIdentifier(channel)) } }
                    }
                    forget(inbound)
                    forget(outbound)
                    inbound.setOption(.autoRead, value: true).whenFailure { _ in inbound.close(promise: nil) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return LinkRelay(port: server.localAddress?.port ?? 0, serverChannel: server, state: state)
    }

    public var isUp: Bool { state.withLockedValue { $0.up } }

    /// Breaks the link: open connections are closed, new ones refused until ``restore()``.
    public func cut() {
        let open = state.withLockedValue { state -> [any Channel] in
            state.up = false
            return Array(state.open.values)
        }
        for channel in open { channel.close(promise: nil) }
    }

    public func restore() { state.withLockedValue { $0.up = true } }

    public func stop() async {
        cut()
        try? await serverChannel.close()
    }
}

/// Joins two channels on the same event loop: what one reads, the other writes.
final class GlueHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler(), second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.context?.write(data, promise: nil) }

    func channelReadComplete(context: ChannelHandlerContext) { partner?.context?.flush() }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
