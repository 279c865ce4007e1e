import Hummingbird
import HummingbirdCore
import NIOCore
import NIOSSL
import ParkFedHTTP

/// The hub's request context: keeps the channel so the peer certificate can be read, and carries the
/// authenticated peer once ``AuthenticationMiddleware`` has checked it.
public struct HubRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    public var peer: AuthenticatedPeer?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        peer = nil
    }

    /// The largest body any route takes (``BodyLimit/batch``); each route reads at most its own limit.
    public var maxUploadSize: Int { BodyLimit.batch }

    /// The remote IP address of the connection (under HTTP/2 the stream's parent is the connection).
    var sourceAddress: String {
        let address = channel.remoteAddress ?? channel.parent?.remoteAddress
        return address?.ipAddress ?? "unknown"
    }

    /// The verified client certificate, DER. Under HTTP/2 the request runs on a stream channel whose parent is
    /// the TLS connection, so look on the channel first and then on its parent (on HTTP/1.1 the parent is the
    /// listening socket, which has no TLS handler).
    func peerCertificateDER() async -> [UInt8]? {
        do {
            return try await channel.nioSSL_peerCertificate().get().map { try $0.toDERBytes() }
        } catch {
            guard let parent = channel.parent else { return nil }
            return try? await parent.nioSSL_peerCertificate().get().map { try $0.toDERBytes() }
        }
    }
}
