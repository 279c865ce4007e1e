import ArgumentParser
import Foundation
import NIOCore

/// What a server command needs before it starts: settings from the command line or the environment, and startup
/// failures explained in a sentence instead of a raw errno.
enum Startup {
    /// A setting from the environment (empty counts as unset).
    static func environment(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// A listen address from the command line, else the environment variable, else the default.
    static func listen(_ argument: ListenAddress?, env name: String, default fallback: String) throws -> ListenAddress {
        try listen(argument, env: name) ?? ListenAddress(argument: fallback)!
    }

    /// A listen address from the command line, else the environment variable, else none.
    static func listen(_ argument: ListenAddress?, env name: String) throws -> ListenAddress? {
        if let argument { return argument }
        guard let value = environment(name) else { return nil }
        guard let address = ListenAddress(argument: value) else { throw StartupError("\(name)=\(value) is not HOST:PORT") }
        return address
    }

    /// Runs a server, turning the usual ways a start fails into one clear line.
    static func run(listening addresses: [ListenAddress], _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw StartupError(
                "cannot listen on \(addresses.map(\.description).joined(separator: " or ")): the address is already in use (another hub or node agent running? choose another with --listen)"
            )
        } catch let error as IOError where error.errnoCode == EACCES {
            throw StartupError(
                "cannot listen on \(addresses.map(\.description).joined(separator: " or ")): permission denied (ports below 1024 need privileges)")
        } catch let error as IOError where error.errnoCode == EADDRNOTAVAIL {
            throw StartupError("cannot listen on \(addresses.map(\.description).joined(separator: " or ")): no such local address")
        }
    }
}

/// A failure to start, printed as `Error: <message>` with exit status 1.
struct StartupError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

extension ListenAddress: CustomStringConvertible {
    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
