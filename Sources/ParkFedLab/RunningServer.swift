import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// A server (any Hummingbird application) running in this process on a port the OS picked, until ``stop()``.
public final class RunningServer: Sendable {
    public let port: Int
    /// The CA file a client trusts for this server's TLS (a node agent's park-LAN CA), when it serves TLS.
    public let caFile: String?
    let group: ServiceGroup
    let task: Task<Void, any Error>

    /// Starts the service `make` builds; `make` gets the callback that reports the bound port.
    public static func start<S: Service>(
        logger: Logger = Logger(label: "parkfed.test"),
        caFile: String? = nil,
        _ make: (@escaping @Sendable (any Channel) async -> Void) throws -> S
    ) async throws -> RunningServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let service = try make { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        }
        let group = ServiceGroup(services: [service], logger: logger)
        let task = Task { try await group.run() }
        // If the server fails before it listens (port taken), end the wait instead of hanging.
        Task {
            _ = try? await task.value
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await group.triggerGracefulShutdown()
            let reason: String
            do { try await task.value; reason = "it stopped before listening" } catch { reason = String(reflecting: error) }
            throw LabError("server did not start: \(reason)")
        }
        return RunningServer(port: port, caFile: caFile, group: group, task: task)
    }

    init(port: Int, caFile: String?, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.caFile = caFile
        self.group = group
        self.task = task
    }

    /// `https://127.0.0.1:PORT` when the server serves TLS, else `http://…`.
    public var baseURL: String { "\(caFile == nil ? "http" : "https")://127.0.0.1:\(port)" }

    /// Arguments that make `curl` trust this server (`--cacert`), none for plain HTTP.
    public var curlTrust: [String] { caFile.map { ["--cacert", $0] } ?? [] }

    /// Shuts the server down gracefully and waits until it has stopped.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// A failure of the lab: a server that did not start, a process that could not be spawned.
public struct LabError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
