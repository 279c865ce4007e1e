import Foundation
import ParkFedLab
#if canImport(Glibc)
    import Glibc
#endif

/// Runs an outside program (`curl`, `openssl`, `python3`, `sqlite3`) as a real peer and captures its output.
public enum ExternalTool {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var succeeded: Bool { status == 0 }
    }

    /// Runs `executable` (found on PATH) with `arguments`, optionally feeding `input` on stdin.
    ///
    /// The child is waited for on a thread of its own, never on Swift's cooperative pool: the servers under test
    /// run on that pool, and a test that blocked it while `curl` waits for the server would deadlock.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], input: Data? = nil, directory: String? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do { continuation.resume(returning: try runBlocking(executable, arguments, input: input, directory: directory)) } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    /// `sqlite3` on a database file a running hub or node agent holds: it waits for their writer and checkpointer
    /// (up to 10 s) instead of failing "database is locked".
    @discardableResult
    public static func sqlite(_ database: String, _ sql: String) async throws -> Result {
        try await run("sqlite3", ["-cmd", ".timeout 10000", database, sql])
    }

    /// The blocking form, for callers outside Swift concurrency.
    public static func runBlocking(_ executable: String, _ arguments: [String], input: Data? = nil, directory: String? = nil) throws -> Result {
        let (inRead, inWrite) = try ChildProcess.pipe()
        let (outRead, outWrite) = try ChildProcess.pipe()
        let (errRead, errWrite) = try ChildProcess.pipe()
        let child: ChildProcess
        do {
            // env(1) finds the program on PATH, and with -C starts it in `directory`.
            child = try ChildProcess(
                path: "/usr/bin/env", arguments: (directory.map { ["-C", $0] } ?? []) + [executable] + arguments,
                stdin: inRead, stdout: outWrite, stderr: errWrite)
        } catch {
            [inRead, inWrite, outRead, outWrite, errRead, errWrite].forEach { close($0) }
            throw error
        }
        [inRead, outWrite, errWrite].forEach { close($0) }
        ignoreBrokenPipes
        // Feed stdin and read stderr on threads of their own, so a chatty child cannot block on a full pipe.
        let errData = LockedData()
        Thread { ChildProcess.writeAll(input ?? Data(), to: inWrite) }.start()
        Thread { errData.set(ChildProcess.readAll(errRead)) }.start()
        let outData = ChildProcess.readAll(outRead)
        let status = child.waitBlocking()
        return Result(
            status: status, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.wait(), as: UTF8.self))
    }

    /// A child that exits before reading its input must not kill the test process with SIGPIPE.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Whether a program is on PATH.
    public static func available(_ executable: String) -> Bool {
        (try? runBlocking("sh", ["-c", "command -v \(executable)"]).succeeded) ?? false
    }
}

final class LockedData: @unchecked Sendable {
    private let condition = NSCondition()
    private var stored: Data?
    func set(_ data: Data) { condition.lock(); stored = data; condition.broadcast(); condition.unlock() }
    /// Blocks until `set` was called.
    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while stored == nil { condition.wait() }
        return stored!
    }
}

/// The Python verifiers in `Tests/verifiers/` (independent checkers: jsonschema, jwcrypto, zxing-cpp).
public enum Verifiers {
    /// The repository root, found from this file's path.
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static func path(_ script: String) -> String { repositoryRoot + "/Tests/verifiers/" + script }
}
