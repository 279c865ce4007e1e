import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long-running child process (a `parkfed hub serve`, a `parkfed node serve`) that a test starts and stops.
public final class BackgroundProcess: @unchecked Sendable {
    let child: ChildProcess
    public let logPath: String

    /// Starts `executable` with `arguments`; its stdout and stderr go to `logPath`.
    public init(_ executable: String, _ arguments: [String], logPath: String) throws {
        self.logPath = logPath
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw TestSupportError("cannot open \(logPath): \(String(cString: strerror(errno)))") }
        defer { close(log) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        child = try ChildProcess(path: executable, arguments: arguments, stdin: null, stdout: log, stderr: log)
    }

    public var isRunning: Bool { child.exitStatus == nil }

    /// The exit status, once the process has ended.
    public var exitStatus: Int32? { child.exitStatus }

    /// Sends SIGTERM and waits (on a thread of its own) for the process to exit.
    public func stop() async {
        child.send(SIGTERM)
        _ = await child.wait()
    }

    /// Sends SIGKILL (no chance to clean up, as in a power cut) and waits for the process to be gone.
    public func kill() async {
        child.send(SIGKILL)
        _ = await child.wait()
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw TestSupportError("bind() failed") }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else { throw TestSupportError("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The `parkfed` executable built next to the test bundle.
    public static func parkfedExecutable() throws -> String {
        var candidates: [String] = []
        var url = Bundle.main.bundleURL
        for _ in 0..<3 {
            candidates.append(url.appendingPathComponent("parkfed").path)
            url.deleteLastPathComponent()
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw TestSupportError("parkfed executable not found near \(Bundle.main.bundlePath); run `swift build` first")
    }
}
