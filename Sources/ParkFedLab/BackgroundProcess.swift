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
        guard log >= 0 else { throw LabError("cannot open \(logPath): \(String(cString: strerror(errno)))") }
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

    /// A TCP port on 127.0.0.1 that was free a moment ago, below the kernel's ephemeral range (32768+): a server
    /// restarted on it cannot find it taken by another test's outgoing connection in between.
    public static func freePort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw LabError("socket() failed") }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            if bound == 0 { return port }
        }
        throw LabError("no free port in 20000-31999")
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
        throw LabError("parkfed executable not found near \(Bundle.main.bundlePath); run `swift build` first")
    }
}
