import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with `posix_spawn`, reaped by one thread of its own.
///
/// Foundation's `Process.run()` on Linux crashed (SIGSEGV in memmove) now and then under the parallel test run, even
/// with every launch serialised; this replaces it in the testing module. `posix_spawn` does the fork and exec in libc
/// with no Swift code in the child. Descriptors the child should not see are protected by close-on-exec: the pipes
/// made here are marked close-on-exec under ``spawnLock``, which every spawn also holds, so no child started
/// meanwhile inherits one (the dup2 onto 0, 1, 2 clears the flag for the child's own); SwiftNIO and SQLite open
/// theirs close-on-exec.
package final class ChildProcess: @unchecked Sendable {
    /// Held while pipes are made and marked, and while a child is spawned.
    static let spawnLock = NSLock()

    let pid: pid_t
    private let lock = NSCondition()
    private var status: Int32?

    /// Spawns `path` with `arguments` (argv[0] is `path`), the test process's environment, the given standard
    /// descriptors. The caller keeps ownership of the descriptors it passed.
    package init(path: String, arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal handling and an empty mask whatever the test runner set.
        var defaults = sigset_t(), empty = sigset_t()
        sigfillset(&defaults)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child = pid_t()
        let result = Self.spawnLock.withLock { posix_spawn(&child, path, &actions, &attributes, argv, environ) }
        guard result == 0 else { throw LabError("posix_spawn \(path): \(String(cString: strerror(result)))") }
        pid = child
        let reaper = Thread { [self] in
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
            lock.lock()
            status = Self.exitCode(raw)
            lock.broadcast()
            lock.unlock()
        }
        reaper.name = "reaper \(child)"
        reaper.start()
    }

    /// The exit status (128 + signal for a signalled child), or nil while it runs.
    var exitStatus: Int32? { lock.lock(); defer { lock.unlock() }; return status }

    /// Blocks the calling thread until the child has been reaped; never call from Swift's cooperative pool.
    package func waitBlocking() -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        while status == nil { lock.wait() }
        return status!
    }

    /// Waits for the child on a thread of its own.
    package func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.waitBlocking()) }.start()
        }
    }

    /// Sends `signal` unless the child has already been reaped (its pid may belong to another process by then).
    package func send(_ signal: Int32) {
        lock.lock()
        defer { lock.unlock() }
        if status == nil { _ = kill(pid, signal) }
    }

    private static func exitCode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// A pipe whose both ends are close-on-exec: (read end, write end).
    package static func pipe() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        try spawnLock.withLock {
            guard Glibc.pipe(&fds) == 0 else { throw LabError("pipe: \(String(cString: strerror(errno)))") }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        return (fds[0], fds[1])
    }

    /// Reads a descriptor to its end, then closes it.
    package static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { data.append(contentsOf: buffer[0..<n]) } else if n == -1 && errno == EINTR { continue } else { break }
        }
        close(fd)
        return data
    }

    /// Writes all of `data` to a descriptor (a child that stopped reading ends the write), then closes it.
    package static func writeAll(_ data: Data, to fd: Int32) {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 { offset += n } else if n == -1 && errno == EINTR { continue } else { break }
            }
        }
        close(fd)
    }
}
