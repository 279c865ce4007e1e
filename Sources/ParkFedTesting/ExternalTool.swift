import Foundation

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

    /// Starts a process; every launch in the test process goes through here, one at a time. Foundation's
    /// `Process.run()` on Linux has crashed in memmove under the parallel test run (twice); serialising launches did
    /// not stop it (it crashed again inside this lock), so the cause lies elsewhere in `Process.run()` — see the
    /// issue note. Replacing Foundation's Process here (e.g. with swift-subprocess) is the fix still to make.
    public static func launch(_ process: Process) throws {
        try launchLock.withLock { try process.run() }
    }

    static let launchLock = NSLock()

    /// The blocking form, for callers outside Swift concurrency.
    public static func runBlocking(_ executable: String, _ arguments: [String], input: Data? = nil, directory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try ExternalTool.launch(process)
        if let input { inPipe.fileHandleForWriting.write(input) }
        try inPipe.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        let errData = LockedData()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.done { usleep(1000) }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.data, as: UTF8.self))
    }

    /// Whether a program is on PATH.
    public static func available(_ executable: String) -> Bool {
        (try? runBlocking("sh", ["-c", "command -v \(executable)"]).succeeded) ?? false
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = Data()
    private var finished = false
    func set(_ data: Data) { lock.withLock { stored = data; finished = true } }
    var data: Data { lock.withLock { stored } }
    var done: Bool { lock.withLock { finished } }
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
